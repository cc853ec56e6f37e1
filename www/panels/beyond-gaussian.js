// The beyond-Gaussian toy inside the gradients panel (src/beyond_gaussian.rs): a network
// whose hidden layer is truly Bernoulli, ŷ = W₂ σ(W₁x + b₁) + b₂, learnt by Gaussian PC
// (the layer scored as ½‖v − σ(μ)‖², v unbounded), distribution-matched PC (v = σ(φ),
// scored by KL(v ‖ σ(μ))) and BP. Two charts: the cosine with BP per block against T, and
// the test loss during a short SGD run; a table holds every number the charts draw.
import { el, button, field, fixed, whole } from '../dom.js';
import { chartSlot, OKABE_ITO, INK } from '../plots.js';
import { REQUEST, REPLY } from '../protocol.js';

const RULES = [
  { name: 'gaussian_pc', label: 'Gaussian PC', color: OKABE_ITO.vermillion },
  { name: 'matched_pc', label: 'matched PC', color: OKABE_ITO.blue },
  { name: 'bp', label: 'BP', color: INK },
];
const BLOCK_DASH = [undefined, [6, 4]];

function table(toy) {
  const { ts } = toy.settings;
  const blocks = toy.cosines.bp[0].length;
  const rows = RULES.filter((r) => r.name !== 'bp').flatMap((r) => Array.from({ length: blocks }, (_, l) => el('tr', {},
    el('th', {}, r.label), el('td', {}, String(l + 1)),
    ts.map((t, k) => el('td', { 'data-rule': r.name, 'data-layer': l + 1, 'data-t': t, 'data-value': toy.cosines[r.name][k][l] },
      fixed(toy.cosines[r.name][k][l], 4))))));
  const losses = el('tr', {}, el('th', { colspan: 2 }, `test loss after ${toy.settings.train_steps} steps`),
    el('td', { colspan: ts.length }, RULES.map((r) => {
      const loss = toy.loss[r.name].at(-1);
      return el('span', { class: 'toy-loss', 'data-rule': r.name, 'data-value': loss }, `${r.label} ${fixed(loss, 4)} `);
    })));
  return el('table', { class: 'numbers', 'data-testid': 'toy-table' },
    el('thead', {}, el('tr', {}, el('th', {}, 'rule'), el('th', { title: 'block l predicts layer l' }, 'layer'), ts.map((t) => el('th', {}, `T=${t}`)))),
    el('tbody', {}, rows, losses));
}

/** The toy's section: settings, a run button, and (after a run) its charts and table. */
export function toySection(ctx) {
  const seedMax = ctx.schema.fields.find((f) => f.name === 'seed').max;
  const seed = field('seed', { type: 'number', min: 0, max: seedMax, value: 1, 'data-testid': 'toy-seed' });
  const scale = field('output scale s', { type: 'text', value: '1', size: 4, 'data-testid': 'toy-scale' });
  const cosineEl = el('div', { class: 'chart', 'data-testid': 'toy-cosine-chart' });
  const lossEl = el('div', { class: 'chart', 'data-testid': 'toy-loss-chart' });
  const cosine = chartSlot(cosineEl);
  const loss = chartSlot(lossEl);
  const multiples = el('div', { class: 'multiples', hidden: true },
    el('figure', { class: 'multiple' }, el('figcaption', {}, 'cosine with BP (solid: layer 1, dashed: layer 2)'), cosineEl),
    el('figure', { class: 'multiple' }, el('figcaption', {}, 'test loss while training'), lossEl));
  const out = el('div', { class: 'scroll' });
  const run = () => {
    const s = Number(scale.input.value);
    if (!(s > 0 && s <= 100)) return ctx.showError(`output scale ${scale.input.value}: must be a number above 0 and at most 100.`);
    const n = whole(seed.input, 0, seedMax);
    if (n === null) return ctx.showError(`toy seed: a whole number from 0 to ${seedMax}.`);
    ctx.send({ type: REQUEST.BEYOND_GAUSSIAN, settings: { seed: n, output_scale: s } });
  };
  ctx.on(REPLY.BEYOND_GAUSSIAN, ({ result }) => {
    multiples.hidden = false;
    const { ts, train_steps: steps } = result.settings;
    const blocks = result.cosines.bp[0].length;
    const pcRules = RULES.filter((r) => r.name !== 'bp');
    const series = pcRules.flatMap((r) => Array.from({ length: blocks }, (_, l) => ({ label: `${r.label} layer ${l + 1}`, color: r.color, dash: BLOCK_DASH[l], points: true })));
    const columns = pcRules.flatMap((r) => Array.from({ length: blocks }, (_, l) => result.cosines[r.name].map((c) => c[l])));
    const lo = Math.min(0.8, Math.floor(Math.min(...columns.flat()) * 20) / 20);
    cosine.show(`${blocks}|${lo}`, series, { x: 'T (inference steps)', y: 'cosine(PC, BP)', height: 180, yRange: [lo, 1.005] })
      .setData([ts, ...columns]);
    loss.show('loss', RULES.map((r) => ({ label: r.label, color: r.color })), { x: 'SGD step', y: 'test loss', height: 180, logY: true })
      .setData([Array.from({ length: steps + 1 }, (_, k) => k), ...RULES.map((r) => result.loss[r.name])]);
    out.replaceChildren(table(result));
  });
  return el('div', { class: 'toy', 'data-testid': 'beyond-gaussian' },
    el('h3', {}, 'Beyond Gaussians: a truly Bernoulli hidden layer'),
    el('p', { class: 'note' }, 'A toy net ŷ = W₂ σ(W₁x + b₁) + b₂ fit to a teacher of the same form. Gaussian PC scores the hidden layer as ½‖v − σ(μ)‖² with v unbounded; '
      + 'matched PC holds v = σ(φ) and scores KL(v ‖ σ(μ)). Small s (weak nudge): both approach BP; at s = 1 the Gaussian belief runs unconstrained and its update bends away from BP’s.'),
    el('div', { class: 'row' }, seed.node, scale.node, button('run toy', run, { 'data-testid': 'toy-run' })),
    multiples, out);
}
