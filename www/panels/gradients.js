// Panel 7, PC vs BP gradients: the cosine similarity between the PC weight update and
// the backprop gradient, per layer, as the number of inference steps T grows, for
// strict, fixed-prediction and standard inference. Fixed-prediction inference with rate
// 1 gives exactly the BP gradient (cosine 1) once T ≥ depth. One small chart per
// inference variant, a line per layer; block l predicts layer l from layer l−1, and a
// line is numbered by the layer its block predicts (as in the Inference panel).
import { panel, el, button, field, stylesheet, fixed } from '../dom.js';
import { chartSlot, pngButton, LAYER_COLORS } from '../plots.js';
import { REQUEST, REPLY } from '../protocol.js';
import * as equations from '../equations.js';
import { seeingLine } from './seeing.js';
import { toySection } from './beyond-gaussian.js';

const VARIANTS = [
  { name: 'fixed-prediction', title: 'fixed-prediction (rate 1)' },
  { name: 'strict', title: 'strict' },
  { name: 'standard', title: 'standard' },
];
const DASHES = [undefined, [6, 4], [2, 3], [10, 3, 2, 3], [1, 6]];

/** Layer l's line: a colour from the colour-blind-safe palette and a dash of its own. */
const layerSeries = (l) => ({ label: `layer ${l}`, color: LAYER_COLORS[(l - 1) % LAYER_COLORS.length], dash: DASHES[(l - 1) % DASHES.length] });

/** The variants the engine computed for this run (a run with categorical or Bernoulli hidden layers has no fixed-prediction). */
const shown = (result) => VARIANTS.filter((v) => v.name in result.variants);

/** The cosines as a table: a row per variant and layer, a column per T; '–' where a cosine is undefined (null: a zero gradient). */
export function cosineTable(result) {
  const { ts, variants } = result;
  const layers = variants[shown(result)[0].name][0].length;
  return el('table', { class: 'numbers', 'data-testid': 'gradient-cosine' },
    el('thead', {}, el('tr', {}, el('th', {}, 'inference'), el('th', { title: 'block l predicts layer l from layer l−1' }, 'layer predicted'), ts.map((t) => el('th', {}, `T=${t}`)))),
    el('tbody', {}, shown(result).flatMap(({ name }) => Array.from({ length: layers }, (_, l) => el('tr', {},
      el('th', {}, name), el('td', {}, String(l + 1)),
      ts.map((t, k) => el('td', { 'data-variant': name, 'data-layer': l + 1, 'data-t': t, 'data-value': variants[name][k][l] }, fixed(variants[name][k][l], 4))))))));
}

export function mount(ctx) {
  stylesheet(new URL('./inference.css', import.meta.url)); // the equations' styles
  const { section, tools, body } = panel({ name: 'gradients', title: 'PC vs BP gradients',
    help: 'Cosine between the PC weight update and the BP gradient on one fixed batch, against T: one chart per inference variant, '
      + 'one line per layer. Block l predicts layer l from layer l−1; a line is numbered by the layer its block predicts (layers 1..L, '
      + 'as in the Inference panel). Fixed-prediction uses rate 1.' });
  seeingLine(ctx, section, (config) => `cos(ΔW_PC, ΔW_BP) per layer, with ${equations.html(equations.learning({ ...config, rule: 'pc' }))} `
    + `against ${equations.html(equations.learning({ ...config, rule: 'bp' }))}.`);
  const tMax = field('T up to', { type: 'number', min: 1, max: 50, value: 10, 'data-testid': 'gradient-tmax' });
  const rate = field('rate (strict, standard)', { type: 'text', value: String(ctx.state.config.inference_lr), size: 5, 'data-testid': 'gradient-rate' });
  const charts = VARIANTS.map((v) => {
    const chartEl = el('div', { class: 'chart', 'data-testid': `gradient-chart-${v.name}` });
    return { ...v, chartEl, slot: chartSlot(chartEl), node: el('figure', { class: 'multiple' }, el('figcaption', {}, v.title), chartEl) };
  });
  const out = el('div', { class: 'scroll' });
  // No empty charts: the multiples appear with the first result.
  const multiples = el('div', { class: 'multiples', hidden: true }, charts.map((c) => c.node));
  const waiting = el('p', { class: 'note', 'data-testid': 'gradient-waiting' },
    'Press compute: PC\'s weight update is compared with BP\'s gradient for T = 1 … the chosen T (runs in pieces; pause stops it).');
  const when = el('p', { class: 'note', 'data-testid': 'gradient-when' });
  // The training step the weights are at (counted from a loaded model's, if loaded): the
  // cosines are of those weights, not live.
  let step = 0;
  let loaded = false;
  let asked = { step: 0, loaded: false };
  ctx.on(REPLY.CONFIGURED, () => { step = 0; loaded = false; });
  ctx.on(REPLY.MODEL_LOADED, () => { step = 0; loaded = true; });
  ctx.on(REPLY.RECORDS, ({ records }) => { step = records[0]?.step ?? step; });
  ctx.on(REPLY.PROGRESS, ({ task, stopped }) => {
    if (task !== 'gradient cosines' || !stopped) return;
    waiting.hidden = false;
    waiting.textContent = 'The computation was stopped (play, pause, reset or new settings): press compute to run it again.';
  });
  const compute = () => {
    const n = Math.min(50, Math.max(1, Math.round(Number(tMax.input.value)) || 10));
    const r = Number(rate.input.value);
    if (!(r > 0)) return ctx.showError(`gradient rate ${rate.input.value}: must be a positive number.`);
    asked = { step, loaded };
    ctx.send({ type: REQUEST.GRADIENTS, ts: Array.from({ length: n }, (_, k) => k + 1), rate: r });
  };
  body.append(el('div', { class: 'row' }, tMax.node, rate.node, button('compute', compute, { 'data-testid': 'gradient-compute' })),
    waiting, when, multiples, out, toySection(ctx));
  tools.append(pngButton(() => charts[0].slot.chart?.canvas, 'pclab-gradients-fixed-prediction.png'));

  ctx.on(REPLY.GRADIENTS, ({ result }) => {
    multiples.hidden = false; // shown before drawing, so the charts take their width
    waiting.hidden = true;
    const steps = `${asked.step}${asked.loaded ? ' more' : ''} training step${asked.step === 1 ? '' : 's'}`;
    when.textContent = `Computed on the ${asked.loaded ? 'loaded model’s weights' : 'weights'} after ${steps}; `
      + 'they do not follow training: press compute again to see how the cosines change.';
    const layers = result.variants[shown(result)[0].name][0].length;
    const series = Array.from({ length: layers }, (_, k) => layerSeries(k + 1));
    // One y range for all, so that the charts compare at a glance.
    const all = shown(result).flatMap((v) => result.variants[v.name].flat()).filter(Number.isFinite);
    const lo = Math.min(0, Math.floor(Math.min(...all) * 10) / 10);
    for (const c of charts) c.node.hidden = !(c.name in result.variants);
    for (const c of charts.filter((c) => !c.node.hidden)) {
      const columns = Array.from({ length: layers }, (_, l) => result.variants[c.name].map((x) => x[l]));
      c.slot.show(`${layers}|${lo}`, series, { x: 'T (inference steps)', y: 'cosine(PC, BP)', height: 180, yRange: [lo, 1.05] })
        .setData([result.ts, ...columns]);
    }
    out.replaceChildren(cosineTable(result));
  });
  if (ctx.view.preset === 'gradients') ctx.on(REPLY.CONFIGURED, compute);
}
