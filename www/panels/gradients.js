// Panel 7, PC vs BP gradients: the cosine similarity between the PC weight update and
// the backprop gradient, per layer, as the number of inference steps T grows, for
// strict, fixed-prediction and standard inference. Fixed-prediction inference with rate
// 1 gives exactly the BP gradient (cosine 1) once T ≥ depth.
import { panel, el, button, field } from '../dom.js';
import { chartSlot, pngButton } from '../plots.js';
import { REQUEST, REPLY } from '../protocol.js';

const VARIANTS = [
  { name: 'fixed-prediction', color: '#2f6fd6' },
  { name: 'strict', color: '#1b9e77' },
  { name: 'standard', color: '#e0701b' },
];
const DASHES = [undefined, [6, 4], [2, 3], [10, 3, 2, 3], [1, 6]];

function table(result) {
  const { ts, variants } = result;
  const layers = variants[VARIANTS[0].name][0].length;
  return el('table', { class: 'numbers', 'data-testid': 'gradient-cosine' },
    el('thead', {}, el('tr', {}, el('th', {}, 'inference'), el('th', {}, 'layer'), ts.map((t) => el('th', {}, `T=${t}`)))),
    el('tbody', {}, VARIANTS.flatMap(({ name }) => Array.from({ length: layers }, (_, l) => el('tr', {},
      el('th', {}, name), el('td', {}, String(l + 1)),
      ts.map((t, k) => el('td', { 'data-variant': name, 'data-layer': l + 1, 'data-t': t, 'data-value': variants[name][k][l] }, variants[name][k][l].toFixed(4))))))));
}

export function mount(ctx) {
  const { tools, body } = panel({ name: 'gradients', title: 'PC vs BP gradients', help: 'Cosine between the PC weight update and the BP gradient on one fixed batch, per layer (line style), against T. Fixed-prediction uses rate 1.' });
  const tMax = field('T up to', { type: 'number', min: 1, max: 50, value: 10, 'data-testid': 'gradient-tmax' });
  const rate = field('rate (strict, standard)', { type: 'text', value: String(ctx.state.config.inference_lr), size: 5, 'data-testid': 'gradient-rate' });
  const chartEl = el('div', { class: 'chart' });
  const out = el('div', { class: 'scroll' });
  const slot = chartSlot(chartEl);
  const compute = () => {
    const n = Math.min(50, Math.max(1, Math.round(Number(tMax.input.value)) || 10));
    const r = Number(rate.input.value);
    if (!(r > 0)) return ctx.showError(`gradient rate ${rate.input.value}: must be a positive number.`);
    ctx.send({ type: REQUEST.GRADIENTS, ts: Array.from({ length: n }, (_, k) => k + 1), rate: r });
  };
  body.append(el('div', { class: 'row' }, tMax.node, rate.node, button('compute', compute, { 'data-testid': 'gradient-compute' })), chartEl, out);
  tools.append(pngButton(() => slot.chart?.canvas, 'pclab-gradients.png'));

  ctx.on(REPLY.GRADIENTS, ({ result }) => {
    const layers = result.variants[VARIANTS[0].name][0].length;
    const series = VARIANTS.flatMap((v) => Array.from({ length: layers }, (_, l) => ({ label: `${v.name} L${l + 1}`, color: v.color, dash: DASHES[l % DASHES.length] })));
    const columns = VARIANTS.flatMap((v) => Array.from({ length: layers }, (_, l) => result.variants[v.name].map((c) => c[l])));
    slot.show(`${layers}`, series, { x: 'T (inference steps)', y: 'cosine(PC, BP)' }).setData([result.ts, ...columns]);
    out.replaceChildren(table(result));
  });
  if (ctx.view.preset === 'gradients') ctx.on(REPLY.CONFIGURED, compute);
}
