// Panel 8, Trade-off: a sweep over λ, which weighs the label energy against the image
// energy, shown as test accuracy against reconstruction MSE (one point per λ).
import { panel, el, button, field } from '../dom.js';
import { chartSlot, pngButton } from '../plots.js';
import { REQUEST, REPLY } from '../protocol.js';

export function mount(ctx) {
  const { tools, body } = panel({ name: 'tradeoff', title: 'Trade-off', help: 'Each λ trains a fresh network for the given steps; points: accuracy against reconstruction MSE.' });
  const lambdas = field('λ values', { type: 'text', value: '0,0.25,0.5,0.75,1', size: 16, 'data-testid': 'sweep-lambdas' });
  const steps = field('steps each', { type: 'number', min: 1, max: 5000, value: 100, 'data-testid': 'sweep-steps' });
  const chartEl = el('div', { class: 'chart', 'data-testid': 'plot-tradeoff' });
  const out = el('div', { 'data-testid': 'panel-tradeoff-out' });
  const slot = chartSlot(chartEl);
  const sweep = () => {
    const ls = lambdas.input.value.split(',').map((t) => t.trim()).filter(Boolean).map(Number);
    if (!ls.length || ls.some((l) => !(l >= 0 && l <= 1))) return ctx.showError('λ values: a comma-separated list of numbers in [0, 1], at least one.');
    const n = Math.round(Number(steps.input.value));
    if (!(n >= 1 && n <= 5000)) return ctx.showError('sweep steps: a whole number from 1 to 5000.');
    out.textContent = 'sweeping…';
    ctx.send({ type: REQUEST.SWEEP, lambdas: ls, steps: n });
  };
  const go = button('sweep', sweep, { 'data-testid': 'sweep' });
  body.append(el('div', { class: 'row' }, lambdas.node, steps.node, go), chartEl, out);
  tools.append(pngButton(() => slot.chart?.canvas, 'pclab-tradeoff.png'));

  ctx.on(REPLY.PROGRESS, ({ task, stopped }) => {
    if (task === 'λ sweep' && stopped) out.textContent = 'The sweep was stopped (pause, reset or new settings).';
  });
  ctx.on(REPLY.TRADEOFF, ({ points }) => {
    const sorted = [...points].sort((a, b) => a.mse - b.mse);
    slot.show('sweep', [{ label: 'accuracy %', color: '#2f6fd6' }], { x: 'reconstruction MSE', y: 'test accuracy %', scatter: true })
      .setData([sorted.map((p) => p.mse), sorted.map((p) => 100 * p.accuracy)]);
    out.replaceChildren(el('table', { class: 'numbers', 'data-testid': 'tradeoff-table' },
      el('tr', {}, el('th', {}, 'λ'), el('th', {}, 'accuracy %'), el('th', {}, 'MSE')),
      points.map((p) => el('tr', {}, el('td', {}, String(p.lambda)), el('td', {}, (100 * p.accuracy).toFixed(1)), el('td', {}, p.mse.toFixed(4))))));
  });
}
