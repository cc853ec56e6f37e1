// Panel 8, Trade-off: a sweep over λ, which weighs the classifier's cross-entropy against
// the image energy, for both rules (PC and BP through inference) and several seeds per λ:
// test accuracy against reconstruction MSE, a point per rule and λ at the mean over the
// seeds with ± one sd error bars in both directions (the engine's summary, src/sweep.rs).
import { panel, el, button, field, stylesheet, whole } from '../dom.js';
import { chartSlot, pngButton, align, RUN_COLORS } from '../plots.js';
import { REQUEST, REPLY } from '../protocol.js';
import { ruleNames } from '../settings.js';
import * as equations from '../equations.js';
import { seeingLine } from './seeing.js';

/** mean ± sd: the sd to two significant digits, the mean to the same place (at least `digits` decimals). */
const pm = (m, digits, scale = 1) => {
  const [mean, sd] = [scale * m.mean, scale * m.sd];
  if (!Number.isFinite(sd)) return `${mean.toFixed(digits)} ± –`;
  // An sd at rounding level (identical seeds) prints as zeros at `digits`.
  const places = sd > 1e-9 * Math.max(1, Math.abs(mean)) ? Math.min(8, Math.max(digits, 1 - Math.floor(Math.log10(sd)))) : digits;
  return `${mean.toFixed(places)} ± ${sd.toFixed(places)}`;
};

/** [lo, hi] around means ± sds, padded by a tenth of the span. */
function range(values) {
  const finite = values.filter(Number.isFinite);
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const pad = (hi - lo) * 0.1 || Math.abs(hi) * 0.1 || 1;
  return [lo - pad, hi + pad];
}

/** The table: a row per λ, mean ± sd of each rule's accuracy and MSE. */
function table(summary, rules, ruleName) {
  const lambdas = [...new Set(summary.map((s) => s.lambda))];
  const cell = (s, metric) => {
    const [digits, scale] = metric === 'accuracy' ? [1, 100] : [4, 1];
    return el('td', { 'data-rule': s.rule, 'data-lambda': s.lambda, 'data-metric': metric, 'data-mean': s[metric].mean, 'data-sd': s[metric].sd },
      pm(s[metric], digits, scale));
  };
  return el('table', { class: 'numbers', 'data-testid': 'tradeoff-table' },
    el('tr', {}, el('th', {}, 'λ'), rules.flatMap((r) => [el('th', {}, `${ruleName(r)} accuracy %`), el('th', {}, `${ruleName(r)} MSE`)])),
    lambdas.map((lambda) => el('tr', {}, el('td', {}, String(lambda)), rules.flatMap((r) => {
      const s = summary.find((x) => x.rule === r && x.lambda === lambda);
      return s ? [cell(s, 'accuracy'), cell(s, 'mse')] : [el('td'), el('td')];
    }))));
}

export function mount(ctx) {
  stylesheet(new URL('./inference.css', import.meta.url)); // the equations' styles
  const { section, tools, body } = panel({ name: 'tradeoff', title: 'Trade-off',
    help: 'For each λ, both rules train a fresh network per seed for the given steps (PC and BP through inference on the same batches). '
      + 'A point per rule and λ: test accuracy against reconstruction MSE, the mean over the seeds; bars: ± one standard deviation.' });
  seeingLine(ctx, section, (config) => {
    const t = equations.tradeoff(config);
    return `the objective each rule trains, ${equations.html(t)} (${t.words}).`;
  });
  const limits = ctx.schema.sweep;
  const names = ruleNames(ctx.schema);
  const ruleName = (rule) => names.get(rule);
  const lambdas = field('λ values', { type: 'text', value: '0,0.5,0.9', size: 16, 'data-testid': 'sweep-lambdas',
    title: `comma-separated, each in [0, 1], at most ${limits.lambdas}` });
  const steps = field('steps each', { type: 'number', min: 1, max: limits.steps, value: 40, 'data-testid': 'sweep-steps',
    title: 'training steps (minibatches) of every run' });
  const seeds = field('seeds', { type: 'number', min: 1, max: limits.seeds, value: 3, 'data-testid': 'sweep-seeds',
    title: 'runs per rule and λ, from the current seed on: the error bars are their standard deviation' });
  const chartEl = el('div', { class: 'chart', 'data-testid': 'plot-tradeoff' });
  const out = el('div', { class: 'scroll', 'data-testid': 'panel-tradeoff-out' });
  const slot = chartSlot(chartEl);
  const sweep = () => {
    const ls = lambdas.input.value.split(',').map((t) => t.trim()).filter(Boolean).map(Number);
    if (!ls.length || ls.length > limits.lambdas || ls.some((l) => !(l >= 0 && l <= 1))) {
      return ctx.showError(`λ values: a comma-separated list of 1 to ${limits.lambdas} numbers in [0, 1], at least one.`);
    }
    const n = whole(steps.input, 1, limits.steps);
    if (n === null) return ctx.showError(`sweep steps: a whole number from 1 to ${limits.steps}.`);
    const s = whole(seeds.input, 1, limits.seeds);
    if (s === null) return ctx.showError(`sweep seeds: a whole number from 1 to ${limits.seeds}.`);
    out.textContent = 'sweeping…';
    ctx.send({ type: REQUEST.SWEEP, lambdas: ls, seeds: s, steps: n });
  };
  const go = button('sweep', sweep, { 'data-testid': 'sweep' });
  // No empty chart: it appears with the first sweep; until then, what the button does.
  chartEl.hidden = true;
  const waiting = el('p', { class: 'note', 'data-testid': 'sweep-waiting' },
    'Press sweep: for each λ both rules train fresh networks (one per seed), and each lands here as a point, '
    + 'test accuracy against reconstruction MSE. Training with play shows one λ; the sweep shows them all.');
  body.append(el('div', { class: 'row' }, lambdas.node, steps.node, seeds.node, go), waiting, chartEl, out);
  tools.append(pngButton(() => slot.chart?.canvas, 'pclab-tradeoff.png'));

  ctx.on(REPLY.PROGRESS, ({ task, stopped }) => {
    if (task === 'λ sweep' && stopped) out.textContent = 'The sweep was stopped (pause, reset or new settings).';
  });
  ctx.on(REPLY.TRADEOFF, ({ summary }) => {
    waiting.hidden = true;
    chartEl.hidden = false; // shown before drawing, so the chart takes its width
    const rules = [...new Set(summary.map((s) => s.rule))];
    const of = (rule) => summary.filter((s) => s.rule === rule).sort((a, b) => a.mse.mean - b.mse.mean);
    const bars = rules.flatMap((rule, i) => of(rule).map((s) => ({
      series: i + 1, color: RUN_COLORS[i % RUN_COLORS.length], label: `λ=${s.lambda}`, below: i % 2 === 1, rule, lambda: s.lambda,
      x: s.mse.mean, xsd: s.mse.sd, y: 100 * s.accuracy.mean, ysd: Number.isFinite(s.accuracy.sd) ? 100 * s.accuracy.sd : NaN, // one seed: no sd (null)
    })));
    const sd0 = (v) => (Number.isFinite(v) ? v : 0);
    const xRange = range(bars.flatMap((b) => [b.x - sd0(b.xsd), b.x + sd0(b.xsd)]));
    const yRange = range(bars.flatMap((b) => [b.y - sd0(b.ysd), b.y + sd0(b.ysd)]));
    const series = rules.map((r, i) => ({ label: `${ruleName(r)} (mean ± sd)`, color: RUN_COLORS[i % RUN_COLORS.length] }));
    slot.show(`sweep|${rules.join()}|${JSON.stringify([xRange, yRange])}`, series,
      { x: 'reconstruction MSE', y: 'test accuracy %', scatter: true, xRange, yRange, bars: () => bars })
      .setData(align(rules.map((r) => [of(r).map((s) => s.mse.mean), of(r).map((s) => 100 * s.accuracy.mean)])));
    out.replaceChildren(table(summary, rules, ruleName));
  });
}
