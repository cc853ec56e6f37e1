// Panel 3, Inference: the energy at every inference step t = 0..T for the latest
// minibatch, in total and per layer, as the beliefs settle.
import { panel, el } from '../dom.js';
import { chartSlot, pngButton, LAYER_COLORS } from '../plots.js';

export function mount(ctx) {
  const { tools, body } = panel({ name: 'inference', title: 'Inference', help: 'Energy of the latest minibatch at each inference step, in total and per layer (layer 0 is the bottom, clamped to the data). Falling curves: the beliefs settle.' });
  const chartEl = el('div', { class: 'chart', 'data-testid': 'plot-inference-energy' });
  const note = el('p', { class: 'note' }, 'Train a step to see inference.');
  body.append(chartEl, note);
  const slot = chartSlot(chartEl);
  tools.append(pngButton(() => slot.chart?.canvas, 'pclab-inference.png'));

  ctx.on('visuals', ({ runs }) => {
    const trace = runs[0]?.trace;
    if (!trace?.total?.length) return;
    note.textContent = `${ctx.names()[0]}: T = ${trace.total.length - 1}, ${trace.per_layer.length} layers`;
    const positive = [trace.total, ...trace.per_layer].flat().every((v) => v > 0);
    const series = [{ label: 'total', color: '#1d2330' },
      ...trace.per_layer.map((_, l) => ({ label: `layer ${l}`, color: LAYER_COLORS[l % LAYER_COLORS.length] }))];
    slot.show(`${series.length}|${positive}`, series, { x: 'inference step t', y: 'energy', logY: positive })
      .setData([trace.total.map((_, t) => t), trace.total, ...trace.per_layer]);
  });
}
