// Panel 3, Inference: the energy at every inference step t = 0..T for the latest
// minibatch, in total and per layer; and one test digit up close: at each step t, every
// layer's belief, its prediction and its prediction error in the layer's own shape
// (images 28×28, the label as ten bars, hidden layers as square grids), with the label
// clamped as in learning or free as at test time, and the energy per layer over t.
import { panel, el, button, stylesheet, fmt } from '../dom.js';
import { chartSlot, pngButton, LAYER_COLORS, drawGrid, grey, diverging, divergingLegend } from '../plots.js';
import { REQUEST, REPLY } from '../protocol.js';
import * as equations from '../equations.js';
import { seeingLine } from './seeing.js';

const DIGITS = 10; // test digits offered for the replay
const PLAY_MS = 500; // one inference step per this many ms when playing
const IMAGE_SCALE = 3; // screen pixels per image pixel
const GRID_SIDE = 84; // a hidden layer's grid is about this many pixels wide
const CLASSES = Array.from({ length: 10 }, (_, k) => String(k));

/** What layer `l` of a replay holds: 'image', 'label', 'latent' (a free end) or 'hidden'. */
export function layerRole(replay, l) {
  if (l === replay.image_layer) return 'image';
  if (l === replay.label_layer) return 'label';
  return l === 0 || l === replay.sizes.length - 1 ? 'latent' : 'hidden';
}

/** Whether layer `l` is clamped to data in this run (`clamped`: as in learning). */
function isClamped(role, clamped) {
  return role === 'image' || (role === 'label' && clamped);
}

/** ‖x‖, the Euclidean norm. */
const norm = (x) => Math.sqrt(x.reduce((s, e) => s + e * e, 0));

/** The smallest and largest value of every vector in `vectors`. */
function range(vectors) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of vectors) for (const e of x) { lo = Math.min(lo, e); hi = Math.max(hi, e); }
  return lo <= hi ? { lo, hi } : { lo: 0, hi: 1 };
}

/** A square-ish grid for n units: cols × rows with cols = ⌈√n⌉. */
function gridOf(n) {
  const cols = Math.max(1, Math.ceil(Math.sqrt(n)));
  return { cols, rows: Math.ceil(n / cols), cell: Math.max(3, Math.floor(GRID_SIDE / cols)) };
}

/**
 * Draws ten labelled bars (digits 0–9) on `canvas`: heights on [lo, hi] (0 included),
 * coloured by `color(v)`; the true class `mark` is underlined.
 */
function drawBars(canvas, values, { lo, hi, color, mark }) {
  const bar = 16;
  const pad = 3;
  const height = 84;
  canvas.width = values.length * (bar + pad) + pad;
  canvas.height = height + 16;
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  const low = Math.min(0, lo);
  const high = Math.max(0, hi, low + 1e-9);
  const y = (v) => height - ((v - low) / (high - low)) * (height - 2) - 1;
  g.strokeStyle = '#8a93a3';
  g.beginPath();
  g.moveTo(0, Math.round(y(0)) + 0.5);
  g.lineTo(canvas.width, Math.round(y(0)) + 0.5);
  g.stroke();
  g.font = 'bold 12px system-ui, sans-serif';
  g.textAlign = 'center';
  values.forEach((v, k) => {
    const x = pad + k * (bar + pad);
    const [r, gr, b] = color(v);
    g.fillStyle = `rgb(${r},${gr},${b})`;
    g.fillRect(x, Math.min(y(0), y(v)), bar, Math.max(1, Math.abs(y(v) - y(0))));
    g.strokeStyle = '#5b6475';
    g.strokeRect(x + 0.5, Math.min(y(0), y(v)) + 0.5, bar - 1, Math.max(1, Math.abs(y(v) - y(0))) - 1);
    g.fillStyle = k === mark ? '#b2182b' : '#1d2330';
    g.fillText(CLASSES[k] ?? String(k), x + bar / 2, height + 13);
    if (k === mark) g.fillRect(x + 2, height + 15, bar - 4, 1);
  });
}

/** Draws one layer's vector in its natural shape: image, ten bars or a square grid. */
function drawLayer(canvas, values, role, replay, scale) {
  if (role === 'label') {
    drawBars(canvas, values, { ...scale, mark: replay.label });
  } else if (role === 'image') {
    const [rows, cols] = replay.image_shape;
    drawGrid(canvas, values, { rows, cols, cell: IMAGE_SCALE, color: scale.color });
  } else {
    drawGrid(canvas, values, { ...gridOf(values.length), color: scale.color });
  }
}

/** What each role is called, and whether learning/testing clamp it. */
const ROLE_WORDS = { image: 'the image', label: 'the label', latent: 'a latent code', hidden: 'hidden' };

/** The sentence saying what the ends hold, with layer 0 first. */
export function endsSentence(replay) {
  const top = replay.sizes.length - 1;
  const holds = (l) => {
    const role = layerRole(replay, l);
    const how = role === 'image' ? 'clamped to the data'
      : role === 'label' ? 'clamped while learning, inferred when testing'
        : 'free: inferred';
    return `${ROLE_WORDS[role]} (${how})`;
  };
  return `Layer 0 (the bottom) holds ${holds(0)}; layer ${top} holds ${holds(top)}. `
    + `Block l predicts layer l from layer l−1.`;
}

/** Whether a trajectory's energy never moves. */
const flat = (total) => total.every((e) => Math.abs(e - total[0]) <= 1e-6 * (1 + Math.abs(total[0])));

export function mount(ctx) {
  stylesheet(new URL('./inference.css', import.meta.url));
  const { section, tools, body } = panel({ name: 'inference', title: 'Inference',
    help: 'Inference settles the beliefs: each step moves every free belief v_l downhill on the energy F, '
      + 'so predictions come to match beliefs and the prediction errors ε_l shrink. Below: one test digit up close, '
      + 'then the energy of the latest training minibatch at every step.' });
  seeingLine(ctx, section, (config) => `${equations.html(equations.inference(config))} `
    + `(${equations.inference(config).words}), with ${equations.html({ lines: equations.energy(config).lines.slice(0, 1) })}.`);

  // One digit up close.
  const digit = el('select', { 'data-testid': 'replay-digit', 'aria-label': 'test digit' },
    Array.from({ length: DIGITS }, (_, i) => el('option', { value: String(i) }, `test digit #${i}`)));
  const modeClamped = button('label clamped (learning)', () => setMode(true), { 'data-testid': 'replay-clamped', 'aria-pressed': 'true' });
  const modeFree = button('label free (testing)', () => setMode(false), { 'data-testid': 'replay-free', 'aria-pressed': 'false' });
  const slider = el('input', { type: 'range', min: 0, max: 0, value: 0, step: 1, 'data-testid': 'replay-t', 'aria-label': 'inference step t' });
  const back = button('◀', () => setT(t - 1), { 'data-testid': 'replay-back', title: 'one step back', 'aria-label': 'one step back' });
  const play = button('▶ play', () => togglePlay(), { 'data-testid': 'replay-play' });
  const forward = button('▶|', () => setT(t + 1), { 'data-testid': 'replay-forward', title: 'one step on', 'aria-label': 'one step on' });
  const tLabel = el('output', { class: 'replay-t', 'data-testid': 'replay-t-label' }, 't = 0');
  const title = el('p', { class: 'replay-title', 'data-testid': 'replay-title' }, 'Train a step to see one digit settle.');
  const ends = el('p', { class: 'note', 'data-testid': 'replay-ends' });
  const legend = el('div', { class: 'replay-legend' });
  const layers = el('div', { class: 'replay-layers', 'data-testid': 'belief-replay' });
  const energyEl = el('div', { class: 'chart', 'data-testid': 'plot-replay-energy' });
  const energyNote = el('p', { class: 'note', 'data-testid': 'replay-energy-note' });
  const replayBox = el('div', { class: 'replay-box', 'data-testid': 'replay', 'data-t': '0' },
    el('div', { class: 'row replay-controls' }, digit,
      el('span', { class: 'segmented', role: 'group', 'aria-label': 'which inference' }, modeClamped, modeFree)),
    el('div', { class: 'row replay-controls' }, back, play, forward, slider, tLabel),
    title, ends, legend, layers, energyNote, energyEl);

  // The latest minibatch, as before.
  const chartEl = el('div', { class: 'chart', 'data-testid': 'plot-inference-energy' });
  const note = el('p', { class: 'note' }, 'Train a step to see inference.');
  body.append(replayBox, el('h3', {}, 'The latest training minibatch'), note, chartEl);
  const slot = chartSlot(chartEl);
  const energySlot = chartSlot(energyEl);
  tools.append(pngButton(() => energySlot.chart?.canvas, 'pclab-replay-energy.png'),
    pngButton(() => slot.chart?.canvas, 'pclab-inference.png'));

  let replay = null;
  let clamped = true;
  let t = 0;
  let timer = null;
  let rows = []; // per layer: { node, canvases, scales }

  digit.addEventListener('change', () => ctx.send({ type: REQUEST.REPLAY, index: Number(digit.value) }));
  slider.addEventListener('input', () => setT(Number(slider.value)));

  const run = () => (clamped ? replay.clamped : replay.free);
  const steps = () => run().beliefs.length - 1;

  function setMode(on) {
    clamped = on;
    modeClamped.setAttribute('aria-pressed', String(on));
    modeFree.setAttribute('aria-pressed', String(!on));
    if (replay) build();
  }

  function setT(next) {
    if (!replay) return;
    t = Math.max(0, Math.min(steps(), next));
    slider.value = String(t);
    drawStep();
  }

  function togglePlay() {
    if (timer) return stopPlay();
    if (!replay) return;
    if (t >= steps()) setT(0);
    play.textContent = '❚❚ pause';
    timer = setInterval(() => {
      if (t >= steps()) return stopPlay();
      setT(t + 1);
    }, PLAY_MS);
  }

  function stopPlay() {
    clearInterval(timer);
    timer = null;
    play.textContent = '▶ play';
  }

  /** Colour scales fixed over t (so that motion shows), per layer, for this run. */
  function scalesOf(l) {
    const r = run();
    const values = range([...r.beliefs.map((s) => s[l]), ...r.predictions.map((s) => s[l])]);
    const role = layerRole(replay, l);
    // Pixels and class probabilities keep their natural [0, 1] (wider if they leave it).
    const natural = role === 'image' || role === 'label';
    const lo = natural ? Math.min(0, values.lo) : values.lo;
    const hi = natural ? Math.max(1, values.hi) : values.hi;
    const max = Math.max(1e-12, ...r.errors.map((s) => s[l].reduce((m, e) => Math.max(m, Math.abs(e)), 0)));
    return {
      value: { lo, hi, color: (v) => grey(v, lo, hi) },
      error: { lo: -max, hi: max, max, color: (v) => diverging(v, max) },
    };
  }

  /** The layer rows for the current replay and mode (drawn at the current t). */
  function build() {
    const r = run();
    const top = replay.sizes.length - 1;
    slider.max = String(steps());
    t = Math.min(t, steps());
    slider.value = String(t);
    ends.textContent = endsSentence(replay);
    const movesLabel = replay.label_layer !== null;
    modeClamped.disabled = modeFree.disabled = !movesLabel;
    const start = r.total[0];
    const end = r.total[steps()];
    title.textContent = `Test digit #${digit.value}, a ${replay.label}: ${clamped ? 'as in learning' : 'as at test time'}, `
      + `${steps()} inference steps; energy F ${fmt(start)} → ${fmt(end)}.`;
    energyNote.textContent = energyCaption(r);
    rows = [];
    const nodes = [];
    for (let l = top; l >= 0; l--) {
      const role = layerRole(replay, l);
      const scales = scalesOf(l);
      const canvases = { belief: el('canvas', { 'data-kind': 'belief' }) };
      const cells = [figure(canvases.belief, `belief v${sub(l)}`)];
      if (l > 0) {
        canvases.prediction = el('canvas', { 'data-kind': 'prediction' });
        canvases.error = el('canvas', { 'data-kind': 'error' });
        cells.push(figure(canvases.prediction, `prediction m(μ${sub(l)})`), figure(canvases.error, `error ε${sub(l)} = v${sub(l)} − m(μ${sub(l)})`));
      } else {
        cells.push(el('p', { class: 'note layer-none' }, 'Nothing predicts layer 0: it has no prediction and no error.'));
      }
      const state = el('span', { class: isClamped(role, clamped) ? 'tag clamped' : 'tag free' }, isClamped(role, clamped) ? 'clamped' : 'free');
      const numbers = el('span', { class: 'layer-numbers' });
      const node = el('div', { class: 'layer', 'data-testid': 'replay-layer', 'data-layer': String(l), 'data-role': role },
        el('div', { class: 'layer-name' }, el('strong', {}, `layer ${l}`),
          el('span', {}, `${ROLE_WORDS[role]} · ${replay.sizes[l]} units`), state, numbers),
        el('div', { class: 'layer-cells' }, cells),
        l > 0 ? divergingLegend(scales.error.max, { label: 'error' }) : null);
      rows.push({ l, role, node, canvases, scales, numbers });
      nodes.push(node);
    }
    layers.replaceChildren(...nodes);
    legend.replaceChildren(el('span', {}, 'Beliefs and predictions: white = low, black = high (each layer its own range, fixed over t). '
      + 'Errors: blue below the prediction, red above, white = 0.'));
    showEnergy(r);
    drawStep();
  }

  /** Draws every layer at step t and writes its numbers on the DOM. */
  function drawStep() {
    const r = run();
    tLabel.textContent = `t = ${t} / ${steps()}`;
    replayBox.dataset.t = String(t);
    replayBox.dataset.mode = clamped ? 'clamped' : 'free';
    for (const { l, role, node, canvases, scales, numbers } of rows) {
      drawLayer(canvases.belief, r.beliefs[t][l], role, replay, scales.value);
      if (canvases.prediction) {
        drawLayer(canvases.prediction, r.predictions[t][l], role, replay, scales.value);
        drawLayer(canvases.error, r.errors[t][l], role, replay, scales.error);
      }
      const errorNorm = l > 0 ? norm(r.errors[t][l]) : 0;
      node.dataset.errorNorm = String(errorNorm);
      node.dataset.energy = String(r.energy[t][l]);
      numbers.textContent = l > 0 ? `E${sub(l)} = ${fmt(r.energy[t][l])}\n‖ε${sub(l)}‖ = ${fmt(errorNorm)}` : '';
    }
    energySlot.chart?.plot.redraw(false, false);
  }

  /** The energy per layer over t for this run, the current t marked. */
  function showEnergy(r) {
    const top = replay.sizes.length - 1;
    const shown = Array.from({ length: top + 1 }, (_, l) => l).filter((l) => r.energy.some((e) => e[l] !== 0));
    const columns = [r.total, ...shown.map((l) => r.energy.map((e) => e[l]))];
    // Log scale when nothing is negative, so that small layers show beside the label;
    // an energy of exactly 0 (a hidden layer at its feedforward start) is left out.
    const logY = columns.flat().every((e) => e >= 0) && columns.flat().some((e) => e > 0) && !flat(r.total);
    const series = [{ label: 'F (total)', color: '#1d2330' },
      ...shown.map((l) => ({ label: `E${sub(l)} layer ${l}`, color: LAYER_COLORS[l % LAYER_COLORS.length] }))];
    energySlot.show(`${series.map((s) => s.label).join()}|${logY}`, series,
      { x: 'inference step t', y: logY ? 'energy (log scale)' : 'energy', logY, height: 200, markX: () => t, xIntegers: true })
      .setData([r.total.map((_, k) => k), ...columns.map((c) => (logY ? c.map((e) => (e > 0 ? e : null)) : c))]);
  }

  /** What the energy chart shows, and why a flat free run is flat. */
  function energyCaption(r) {
    if (!flat(r.total)) {
      const drop = 100 * (1 - r.total[r.total.length - 1] / r.total[0]);
      const spread = clamped && replay.label_layer !== null
        ? '; the label\'s error shrinks while the hidden layers take on small errors of their own' : '';
      return `Energy per layer E_l over the steps (the dashed line is the current t): F falls by ${drop.toFixed(0)}% as the beliefs settle${spread}.`;
    }
    if (!clamped && replay.label_layer === replay.sizes.length - 1) {
      return `Flat: with the label free, the feedforward pass already is the energy minimum, so no belief moves. `
        + `The energy left, F = ${fmt(r.total[0])}, is the entropy of the free label (it holds class probabilities), not an error.`;
    }
    return `Flat: this start is already the energy minimum (F = ${fmt(r.total[0])}), so no belief moves.`;
  }

  function showReplay(next, index) {
    if (!next?.clamped?.beliefs?.length) return;
    replay = next;
    if (index !== undefined) digit.value = String(index);
    build();
  }

  ctx.on(REPLY.REPLAY, ({ replay: next, index }) => showReplay(next, index));
  ctx.on(REPLY.CONFIGURED, () => stopPlay());

  ctx.on(REPLY.VISUALS, ({ runs }) => {
    const trace = runs[0]?.trace;
    showReplay(runs[0]?.replay);
    if (!trace?.total?.length) return;
    note.textContent = `${ctx.names()[0]}: energy of the latest minibatch at each inference step, T = ${trace.total.length - 1}, `
      + `layers 0–${trace.per_layer.length - 1} numbered as above.`;
    const positive = [trace.total, ...trace.per_layer].flat().every((e) => e > 0);
    const series = [{ label: 'total', color: '#1d2330' },
      ...trace.per_layer.map((_, l) => ({ label: `layer ${l}`, color: LAYER_COLORS[l % LAYER_COLORS.length] }))];
    slot.show(`${series.length}|${positive}`, series, { x: 'inference step t', y: 'energy', logY: positive, xIntegers: true })
      .setData([trace.total.map((_, k) => k), trace.total, ...trace.per_layer]);
  });
}

/** A canvas with its caption. */
const figure = (canvas, caption) => el('figure', {}, canvas, el('figcaption', {}, caption));

/** A layer index as a subscript (digits only). */
const sub = (l) => String(l).replace(/\d/g, (d) => '₀₁₂₃₄₅₆₇₈₉'[d]);
