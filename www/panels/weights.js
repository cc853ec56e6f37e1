// Panel 10, Weights: the receptive fields of the weights that touch the image, one 28×28
// tile per unit, signed: each tile divided by its largest |w| (the engine's
// receptive_fields), drawn blue (negative) – white (0) – red (positive). When comparing,
// each run's side by side, labelled by its rule.
import { panel, el, stylesheet, runLabel } from '../dom.js';
import { drawDigits, pngButton, diverging, divergingLegend, RUN_COLORS } from '../plots.js';
import { REPLY } from '../protocol.js';
import { seeingLine } from './seeing.js';

export function mount(ctx) {
  stylesheet(new URL('./inference.css', import.meta.url)); // the legend's and equations' styles
  const { section, tools, body } = panel({ name: 'weights', title: 'Receptive fields',
    help: 'The weights that touch the image, one tile per unit (each run\'s when comparing): the rows of W₁ when the image is layer 0, '
      + 'the columns of W_L when the image is predicted on top. Each tile is divided by its own largest |w|, so its sign shows: '
      + 'red pixels push the unit (or the pixel\'s prediction) up, blue pixels push it down, white pixels do not matter.' });
  seeingLine(ctx, section, (config) => {
    const onTop = ctx.experiment().bottom !== 'image' && !(config.rule === 'bp' && ctx.experiment().bottom === 'latent');
    const w = onTop ? '<math><msub><mi>W</mi><mi>L</mi></msub></math> (column per unit)' : '<math><msub><mi>W</mi><mn>1</mn></msub></math> (row per unit)';
    return `tile = w / max|w| ∈ [−1, 1] of ${w}.`;
  });
  const figures = el('div', { class: 'multiples' });
  body.append(divergingLegend(1, { label: 'w / max|w|' }), figures);
  let canvases = [];
  tools.append(pngButton(() => canvases[0], 'pclab-receptive-fields.png'));
  ctx.on(REPLY.VISUALS, ({ runs }) => {
    const fields = runs.map((r) => r.fields);
    if (!fields.every((f) => f?.length)) return;
    const two = fields.length > 1;
    if (canvases.length !== fields.length) {
      const names = ctx.names();
      canvases = fields.map((_, i) => el('canvas', { 'data-testid': 'receptive-fields', 'data-run': String(i), class: 'digits' }));
      figures.replaceChildren(...canvases.map((c, i) => el('figure', {},
        two ? el('figcaption', {}, runLabel(names[i] ?? `run ${i + 1}`, RUN_COLORS[i])) : null, c)));
    }
    fields.forEach((f, i) => drawDigits(canvases[i], f, { cols: two ? 8 : 10, scale: two ? 1.5 : 2, color: (v) => diverging(v, 1) }));
  });
  // The runs change with the settings: their figures are made anew at the next visuals.
  ctx.on(REPLY.CONFIGURED, () => { canvases = []; });
}
