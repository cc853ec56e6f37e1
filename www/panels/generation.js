// Panel 6, Generation: pick a class; the network generates digits of it (top-down
// predictions from a clamped label).
import { panel, el, button } from '../dom.js';
import { drawDigits, pngButton } from '../plots.js';
import { REQUEST, REPLY } from '../protocol.js';
import * as equations from '../equations.js';
import { seeingLine } from './seeing.js';

const N = 10;

export function mount(ctx) {
  const { section, tools, body } = panel({ name: 'generation', title: 'Generation', help: 'Clamp a class at the top and let the network predict the image layer by layer.' });
  seeingLine(ctx, section, (config) => `the top-down prediction chain ${equations.html(equations.generation(config))} (${equations.generation(config).words}).`);
  const label = el('select', { 'data-testid': 'generate-class', 'aria-label': 'class' },
    Array.from({ length: 10 }, (_, k) => el('option', { value: k }, String(k))));
  const canvas = el('canvas', { 'data-testid': 'generated', class: 'digits' });
  const request = () => ctx.send({ type: REQUEST.GENERATE, label: Number(label.value), n: N });
  label.addEventListener('change', request);
  body.append(el('div', { class: 'row' }, el('label', {}, 'class ', label), button('generate', request, { 'data-testid': 'generate' })), canvas);
  tools.append(pngButton(() => canvas, 'pclab-generated.png'));

  ctx.on(REPLY.GENERATED, ({ images }) => drawDigits(canvas, images, { cols: N, scale: 2 }));
  // Refresh live while a generative network trains.
  ctx.on(REPLY.VISUALS, () => {
    if (ctx.experiment().views.includes('generation')) request();
  });
}
