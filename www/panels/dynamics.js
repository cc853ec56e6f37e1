// Part of the Inference panel: a decoder's inference of one digit, run by run side by
// side (PC-trained against BP-trained in compare mode of compress and tradeoff), from the
// engine's dynamics record (src/dynamics.rs): the latent's distance from where it settles
// ‖v_t − v_T‖, the reconstruction error over t, the reconstruction at t = 0, T/4, T/2, T,
// and with a classifier on the latent the class it reads out at each t.
import { el, fmt, runLabel } from '../dom.js';
import { chartSlot, drawDigits, RUN_COLORS } from '../plots.js';

const SCALE = 2; // screen pixels per image pixel in the reconstruction strips

/** The section, with `show(replays, names, image)` and `mark(t)`. */
export function dynamicsSection() {
  const heading = el('h3', {}, 'The same digit inferred by each trained network');
  const note = el('p', { class: 'note', 'data-testid': 'dynamics-note' });
  const charts = ['distance', 'mse', 'readout'].map((name) => {
    const node = el('div', { class: 'chart', 'data-testid': `plot-dynamics-${name}` });
    return { name, node, figure: el('figure', {}, node), slot: chartSlot(node) };
  });
  const strips = el('div', { class: 'dynamics-strips', 'data-testid': 'dynamics-strips' });
  const section = el('div', { class: 'dynamics', 'data-testid': 'dynamics', hidden: true },
    heading, note, el('div', { class: 'multiples' }, charts.map((c) => c.figure)), strips);
  let t = 0;
  let rows = []; // per run: the number cells that follow t

  /** Draws the figures of `replays` (one per run, each with `dynamics`). */
  function show(replays, names) {
    const runs = replays.map((r, i) => ({ d: r?.dynamics, name: names[i], color: RUN_COLORS[i] })).filter((r) => r.d);
    section.hidden = !runs.length;
    if (!runs.length) return;
    const steps = runs[0].d.latent_distance.length - 1;
    const readout = runs.some((r) => r.d.readout.length);
    const xs = Array.from({ length: steps + 1 }, (_, k) => k);
    const series = runs.map((r) => ({ label: r.name, color: r.color }));
    const key = `${series.map((s) => s.label).join()}|${steps}`;
    const opts = (y, extra = {}) => ({ x: 'inference step t', y, height: 190, markX: () => t, xIntegers: true, ...extra });
    charts[0].slot.show(key, series, opts('‖v₀(t) − v₀(T)‖')).setData([xs, ...runs.map((r) => r.d.latent_distance)]);
    charts[1].slot.show(key, series, opts('reconstruction MSE')).setData([xs, ...runs.map((r) => r.d.mse)]);
    charts[2].figure.hidden = !readout;
    if (readout) {
      charts[2].slot.show(key, series, opts('p(read-out class)', { yRange: [0, 1] }))
        .setData([xs, ...runs.map((r) => r.d.readout.map((o) => o.probability))]);
    }
    note.textContent = `Over the ${steps} inference steps (the dashed line is the current t): how far the latent still is `
      + `from where it settles, the reconstruction's error`
      + `${readout ? ', and the probability of the class the classifier reads from the latent' : ''}. `
      + 'Below, each network\'s reconstruction x̂(t) decoded from its latent at selected t.';
    rows = [];
    strips.replaceChildren(...runs.map((r, i) => strip(r, i)));
    mark(t);
  }

  /** One run's row: its name, the numbers at t, and the reconstructions at selected t. */
  function strip({ d, name, color }, i) {
    const numbers = el('span', { class: 'dynamics-numbers', 'data-testid': 'dynamics-at-t' });
    const figures = d.snapshots.map((s) => {
      const canvas = el('canvas', { 'data-t': String(s.t) });
      drawDigits(canvas, s.reconstruction, { count: 1, cols: 1, scale: SCALE });
      const o = d.readout[s.t];
      const caption = o ? `t = ${s.t} · ${o.class} (${(100 * o.probability).toFixed(0)}%)` : `t = ${s.t}`;
      return el('figure', { 'data-t': String(s.t), 'data-class': o?.class, 'data-probability': o?.probability },
        canvas, el('figcaption', {}, caption));
    });
    const row = el('div', { class: 'dynamics-run', 'data-testid': 'dynamics-run', 'data-run': String(i) },
      el('div', { class: 'run-name' }, runLabel(name, color), numbers),
      el('div', { class: 'dynamics-figures digit-row' }, figures));
    rows.push({ d, numbers });
    return row;
  }

  /** Marks step `next` on the charts and writes each run's numbers at it. */
  function mark(next) {
    t = next;
    for (const { d, numbers } of rows) {
      const at = Math.min(t, d.latent_distance.length - 1);
      const o = d.readout[at];
      numbers.dataset.t = String(at);
      numbers.dataset.distance = String(d.latent_distance[at]);
      numbers.dataset.mse = String(d.mse[at]);
      numbers.textContent = `t = ${at}: ‖v₀(t) − v₀(T)‖ = ${fmt(d.latent_distance[at])}, MSE ${fmt(d.mse[at])}`
        + (o ? `, reads ${o.class} (${(100 * o.probability).toFixed(0)}%)` : '');
    }
    for (const c of charts) c.slot.chart?.plot.redraw(false, false);
  }

  return { section, show, mark };
}
