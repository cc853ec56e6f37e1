// Panel 10, Weights: the first layer's receptive fields, one 28×28 tile per unit.
import { panel, el } from '../dom.js';
import { drawDigits, pngButton } from '../plots.js';
import { REPLY } from '../protocol.js';

export function mount(ctx) {
  const { tools, body } = panel({ name: 'weights', title: 'Receptive fields', help: 'First-layer weights of the first run, one tile per unit, scaled to [0,1] (dark = large).' });
  const canvas = el('canvas', { 'data-testid': 'receptive-fields', class: 'digits' });
  body.append(canvas);
  tools.append(pngButton(() => canvas, 'pclab-receptive-fields.png'));
  ctx.on(REPLY.VISUALS, ({ runs }) => {
    const fields = runs[0]?.fields;
    if (fields?.length) drawDigits(canvas, fields, { cols: 10, scale: 2 });
  });
}
