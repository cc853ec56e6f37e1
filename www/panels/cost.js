// Panel 9, Cost: floating-point operations per training step of each run (PC pays T
// inference steps per update; BP one forward and one backward pass), and the test
// metric against cumulative FLOPs.
import { panel, el, button, fmt, stylesheet } from '../dom.js';
import { chartSlot, align, pngButton, RUN_COLORS } from '../plots.js';
import { judgedBy } from './training.js';
import { REQUEST, REPLY } from '../protocol.js';
import * as equations from '../equations.js';
import { seeingLine } from './seeing.js';

export function mount(ctx) {
  stylesheet(new URL('./inference.css', import.meta.url)); // the equations' styles
  const { section, tools, body } = panel({ name: 'cost', title: 'Compute cost', help: 'FLOPs per training step and in all, and the test metric against compute; with “compare with” on, both runs side by side, trained on identical batches.' });
  // Each run's rule (both when comparing): what its FLOP count covers.
  seeingLine(ctx, section, () => ctx.runs().map((config, i) => {
    const c = equations.cost(config);
    return `${ctx.names()[i]}: ${equations.html(c)} (${c.words})`;
  }).join('; ') + '. The table counts every product (2·m·n·k) and every elementwise pass the engine runs.');
  const table = el('table', { class: 'numbers', 'data-testid': 'flops-table' });
  const chartEl = el('div', { class: 'chart', 'data-testid': 'plot-cost' });
  // Until the first evaluation there is nothing to plot: say when there will be.
  chartEl.hidden = true;
  const waiting = el('p', { class: 'note', 'data-testid': 'cost-waiting' },
    'The test metric against cumulative FLOPs appears here with the first evaluation of the test split, a few seconds into training.');
  const bench = el('div', { class: 'scroll' });
  const slot = chartSlot(chartEl);
  const measure = button('benchmark', () => {
    bench.textContent = 'measuring…';
    ctx.send({ type: REQUEST.BENCH });
  }, { 'data-testid': 'bench' });
  body.append(table, waiting, chartEl, el('div', { class: 'row' }, measure), bench);
  tools.append(pngButton(() => slot.chart?.canvas, 'pclab-cost.png'));

  const row = (cells, tag = 'td', attrs = {}) => el('tr', attrs, cells.map((c) => el(tag, {}, c)));
  ctx.on(REPLY.VISUALS, () => {
    const names = ctx.names();
    const runs = ctx.history.runs;
    table.replaceChildren(row(['run', 'FLOPs / step', 'FLOPs so far', 'samples/s'], 'th'),
      ...runs.map((r, i) => row([names[i], fmt(r.last?.flops_step), fmt(r.last?.flops_total), fmt(r.last?.samples_per_s)])));
    const evaluated = runs.some((r) => r.evalFlops.length > 0);
    waiting.hidden = evaluated;
    chartEl.hidden = !evaluated; // shown before drawing, so the chart takes its width
    if (!evaluated) return;
    const judged = judgedBy(ctx);
    slot.show(`${names.join('|')}|${judged.key}`, names.map((n, i) => ({ label: n, color: RUN_COLORS[i], points: true })), { x: 'cumulative FLOPs', y: judged.label })
      .setData(align(runs.map((r) => [r.evalFlops, r[judged.key]])));
  });
  // Each row: the engine's label of its workload, and the workers it was split over.
  const workload = (r) => (r.workers > 1 ? `${r.label}, split over ${r.workers} workers` : r.label);
  ctx.on(REPLY.BENCH, ({ rows }) => bench.replaceChildren(el('table', { class: 'numbers labelled', 'data-testid': 'bench-table' },
    row(['workload', 'samples/s', 'GFLOP/s'], 'th'),
    rows.map((r) => row([workload(r), fmt(r.samples_per_s), r.gflops_per_s.toFixed(1)], 'td',
      { 'data-name': r.name, 'data-workers': r.workers })))));
}
