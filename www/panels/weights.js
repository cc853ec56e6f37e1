// Panel 10, Weights: the receptive fields of the weights that touch the image, one 28×28
// tile per unit, signed: each tile divided by its largest |w| (the engine's
// receptive_fields), drawn blue (negative) – white (0) – red (positive).
import { panel, el, stylesheet } from '../dom.js';
import { drawDigits, pngButton, diverging, divergingLegend } from '../plots.js';
import { REPLY } from '../protocol.js';
import { seeingLine } from './seeing.js';

export function mount(ctx) {
  stylesheet(new URL('./inference.css', import.meta.url)); // the legend's and equations' styles
  const { section, tools, body } = panel({ name: 'weights', title: 'Receptive fields',
    help: 'The weights that touch the image, one tile per unit (first run): the rows of W₁ when the image is layer 0, '
      + 'the columns of W_L when the image is predicted on top. Each tile is divided by its own largest |w|, so its sign shows: '
      + 'red pixels push the unit (or the pixel\'s prediction) up, blue pixels push it down, white pixels do not matter.' });
  seeingLine(ctx, section, (config) => {
    const onTop = ctx.experiment().bottom !== 'image' && !(config.rule === 'bp' && ctx.experiment().bottom === 'latent');
    const w = onTop ? '<math><msub><mi>W</mi><mi>L</mi></msub></math> (column per unit)' : '<math><msub><mi>W</mi><mn>1</mn></msub></math> (row per unit)';
    return `tile = w / max|w| ∈ [−1, 1] of ${w}.`;
  });
  const canvas = el('canvas', { 'data-testid': 'receptive-fields', class: 'digits' });
  body.append(divergingLegend(1, { label: 'w / max|w|' }), canvas);
  tools.append(pngButton(() => canvas, 'pclab-receptive-fields.png'));
  ctx.on(REPLY.VISUALS, ({ runs }) => {
    const fields = runs[0]?.fields;
    if (fields?.length) drawDigits(canvas, fields, { cols: 10, scale: 2, color: (v) => diverging(v, 1) });
  });
}
