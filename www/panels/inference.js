// Panel 3, Inference: the energy at every inference step t = 0..T for the latest
// minibatch, in total and per layer, as the beliefs settle; and a replay of one test
// digit: each layer's beliefs (and the predicted image, where it is on top) at every step.
import { panel, el } from '../dom.js';
import { chartSlot, pngButton, drawDigits, LAYER_COLORS } from '../plots.js';
import { REPLY } from '../protocol.js';

/** Paints one layer's beliefs over the steps: a row per step, a column per unit. */
function drawBeliefs(canvas, rows, { width = 384, rowHeight = Math.max(2, Math.min(6, Math.floor(96 / rows.length))) } = {}) {
  const units = rows[0].length;
  const cell = width / units;
  canvas.width = width;
  canvas.height = rows.length * rowHeight;
  const g = canvas.getContext('2d');
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rows) for (const v of r) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const span = hi - lo || 1;
  rows.forEach((r, t) => r.forEach((v, u) => {
    const shade = Math.round(255 * (1 - (v - lo) / span));
    g.fillStyle = `rgb(${shade},${shade},${shade})`;
    g.fillRect(u * cell, t * rowHeight, Math.ceil(cell), rowHeight);
  }));
}

export function mount(ctx) {
  const { tools, body } = panel({ name: 'inference', title: 'Inference', help: 'Energy of the latest minibatch at each inference step, in total and per layer (layer 0 is the bottom, clamped to the data). Falling curves: the beliefs settle.' });
  const chartEl = el('div', { class: 'chart', 'data-testid': 'plot-inference-energy' });
  const note = el('p', { class: 'note' }, 'Train a step to see inference.');
  const replayTitle = el('p', { class: 'note' });
  const predicted = el('canvas', { class: 'digits', 'data-testid': 'replay-predictions' });
  const layers = el('div', { class: 'replay', 'data-testid': 'belief-replay' });
  body.append(chartEl, note, replayTitle, predicted, layers);
  const slot = chartSlot(chartEl);
  tools.append(pngButton(() => slot.chart?.canvas, 'pclab-inference.png'));

  ctx.on(REPLY.VISUALS, ({ runs }) => {
    const trace = runs[0]?.trace;
    if (!trace?.total?.length) return;
    note.textContent = `${ctx.names()[0]}: T = ${trace.total.length - 1}, ${trace.per_layer.length} layers`;
    const positive = [trace.total, ...trace.per_layer].flat().every((v) => v > 0);
    const series = [{ label: 'total', color: '#1d2330' },
      ...trace.per_layer.map((_, l) => ({ label: `layer ${l}`, color: LAYER_COLORS[l % LAYER_COLORS.length] }))];
    slot.show(`${series.length}|${positive}`, series, { x: 'inference step t', y: 'energy', logY: positive })
      .setData([trace.total.map((_, t) => t), trace.total, ...trace.per_layer]);
    showReplay(runs[0]?.replay);
  });

  function showReplay(replay) {
    const run = replay?.clamped;
    if (!run?.beliefs?.length) return;
    const steps = run.beliefs.length;
    replayTitle.textContent = `Replay: test digit ${replay.label} settling over ${steps - 1} steps `
      + `(energy ${run.total[0].toFixed(2)} → ${run.total[steps - 1].toFixed(2)}). `
      + 'Each strip is a layer: one row per step (top: t = 0), one column per unit.';
    const top = replay.sizes.length - 1;
    const imageOnTop = replay.image_layer === top;
    predicted.hidden = !imageOnTop;
    if (imageOnTop) {
      drawDigits(predicted, Float32Array.from(run.predictions.flatMap((p) => p[top])), { cols: Math.min(steps, 12), scale: 1 });
    }
    layers.replaceChildren(...run.beliefs[0].map((_, l) => {
      const canvas = el('canvas', { class: 'beliefs' });
      drawBeliefs(canvas, run.beliefs.map((state) => state[l]));
      return el('div', {}, el('span', { class: 'note' }, `layer ${l}`), canvas);
    }));
  }
}
