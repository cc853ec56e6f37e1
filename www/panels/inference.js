// Panel 3, Inference: one digit up close (a test digit, the least-well-explained test
// digit, or the digit drawn on the pad): at each step t, every layer's belief, its
// prediction and its prediction error in the layer's own shape (images 28×28, the label
// as ten bars, hidden layers as square grids), with the label clamped as in learning or
// free as at test time, the energy per layer over t, and the energy at every inference
// step of the latest minibatch. When comparing, each run in a column of its own, side by
// side, and for a decoder the dynamics of the same digit in each (dynamics.js).
import { panel, el, button, stylesheet, fmt, runLabel } from '../dom.js';
import { chartSlot, pngButton, LAYER_COLORS, RUN_COLORS, drawGrid, grey, diverging, divergingLegend, INK } from '../plots.js';
import { dynamicsSection } from './dynamics.js';
import { REQUEST, REPLY } from '../protocol.js';
import * as equations from '../equations.js';
import { seeingLine } from './seeing.js';

const DIGITS = 10; // test digits offered for the replay
const LEAST = 'least'; // the menu's value for the least-well-explained test digit
const DRAWN = 'drawn'; // the menu's value for the digit drawn on the pad
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

/**
 * Draws one layer's vector in its natural shape: image (`cell` screen pixels per pixel),
 * ten bars or a square grid.
 */
function drawLayer(canvas, values, role, replay, scale, cell = IMAGE_SCALE) {
  if (role === 'label') {
    drawBars(canvas, values, { ...scale, mark: replay.label });
  } else if (role === 'image') {
    const [rows, cols] = replay.image_shape;
    drawGrid(canvas, values, { rows, cols, cell, color: scale.color });
  } else {
    drawGrid(canvas, values, { ...gridOf(values.length), color: scale.color });
  }
}

/** Colour scales of layer `l` of run `r`, fixed over t (so that motion shows). */
function scalesOf(r, replay, l) {
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
      + 'so predictions come to match beliefs and the prediction errors ε_l shrink (with momentum a step can overshoot, '
      + 'and F rise for a step or two, before it falls again). Below: one digit up close '
      + '(side by side for each run when comparing), then the energy of the latest training minibatch at every step.' });
  seeingLine(ctx, section, (config) => `${equations.html(equations.inference(config))} `
    + `(${equations.inference(config).words}), with ${equations.html({ lines: equations.energy(config).lines.slice(0, 1) })}.`);

  // One digit up close: the controls are shared by the runs.
  const drawnOption = el('option', { value: DRAWN, disabled: true }, 'the digit drawn on the pad');
  const digit = el('select', { 'data-testid': 'replay-digit', 'aria-label': 'digit to replay' },
    Array.from({ length: DIGITS }, (_, i) => el('option', { value: String(i) }, `test digit #${i}`)),
    el('option', { value: LEAST }, 'the least-well-explained test digit'), drawnOption);
  const modeClamped = button('label clamped (learning)', () => setMode(true), { 'data-testid': 'replay-clamped', 'aria-pressed': 'true' });
  const modeFree = button('label free (testing)', () => setMode(false), { 'data-testid': 'replay-free', 'aria-pressed': 'false' });
  const slider = el('input', { type: 'range', min: 0, max: 0, value: 0, step: 1, 'data-testid': 'replay-t', 'aria-label': 'inference step t' });
  const back = button('◀', () => setT(t - 1), { 'data-testid': 'replay-back', title: 'one step back', 'aria-label': 'one step back' });
  const play = button('▶ play', () => togglePlay(), { 'data-testid': 'replay-play' });
  const forward = button('▶|', () => setT(t + 1), { 'data-testid': 'replay-forward', title: 'one step on', 'aria-label': 'one step on' });
  const tLabel = el('output', { class: 'replay-t', 'data-testid': 'replay-t-label' }, 't = 0');
  const title = el('p', { class: 'replay-title', 'data-testid': 'replay-title' }, 'Train a step to see one digit settle.');
  const ends = el('p', { class: 'note', 'data-testid': 'replay-ends' });
  const legend = el('p', { class: 'replay-legend' }, 'Beliefs and predictions: white = low, black = high (each layer its own range, fixed over t). '
    + 'Errors: blue below the prediction, red above, white = 0.');
  const dynamics = dynamicsSection();
  const columns = el('div', { class: 'replay-runs', 'data-testid': 'replay-runs' });
  const replayBox = el('div', { class: 'replay-box', 'data-testid': 'replay', 'data-t': '0' },
    el('div', { class: 'row replay-controls' }, digit,
      el('span', { class: 'segmented', role: 'group', 'aria-label': 'which inference' }, modeClamped, modeFree)),
    el('div', { class: 'row replay-controls' }, back, play, forward, slider, tLabel),
    title, ends, dynamics.section, legend, columns);
  body.append(replayBox);
  tools.append(pngButton(() => views[0]?.energySlot.chart?.canvas, 'pclab-replay-energy.png', 'PNG: digit'),
    pngButton(() => views[0]?.traceSlot.chart?.canvas, 'pclab-inference.png', 'PNG: minibatch'));

  let replays = []; // one per run
  let replaying = { index: 0 };
  let shells = []; // one per run: its column's elements and charts
  let views = []; // one per run: drawing its column at t
  let clamped = true;
  let t = 0;
  let timer = null;

  digit.addEventListener('change', () => {
    const v = digit.value;
    ctx.send({ type: REQUEST.REPLAY, ...(v === DRAWN ? { drawn: true } : v === LEAST ? { leastExplained: true } : { index: Number(v) }) });
  });
  slider.addEventListener('input', () => setT(Number(slider.value)));
  // A digit drawn on the pad can be replayed; while it is chosen, a new drawing replays anew.
  ctx.on(REPLY.CLASSIFIED, () => {
    drawnOption.disabled = false;
    if (replaying.drawn) ctx.send({ type: REQUEST.REPLAY, drawn: true });
  });

  const runOf = (r) => (clamped ? r.clamped : r.free);
  const steps = () => Math.max(0, ...replays.map((r) => runOf(r).beliefs.length - 1));

  function setMode(on) {
    clamped = on;
    modeClamped.setAttribute('aria-pressed', String(on));
    modeFree.setAttribute('aria-pressed', String(!on));
    if (replays.length) build();
  }

  function setT(next) {
    if (!replays.length) return;
    t = Math.max(0, Math.min(steps(), next));
    slider.value = String(t);
    drawStep();
  }

  function togglePlay() {
    if (timer) return stopPlay();
    if (!replays.length) return;
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

  /** The sentence naming the digit replayed. */
  function digitWords(replay) {
    if (replaying.drawn) return `The drawn digit, read as a ${replay.label}`;
    return `Test digit #${replaying.index}${digit.value === LEAST ? ' (the least well explained of the first 100)' : ''}, a ${replay.label}`;
  }

  /** A column per run for the current replays and mode (drawn at the current t). */
  function build() {
    const names = ctx.names();
    slider.max = String(steps());
    t = Math.min(t, steps());
    slider.value = String(t);
    const first = replays[0];
    ends.textContent = endsSentence(first);
    // Only a network with a label layer has a label to clamp or free.
    modeClamped.parentElement.hidden = first.label_layer === null;
    title.textContent = `${digitWords(first)}: ${clamped ? 'as in learning' : 'as at test time'}, ${steps()} inference steps`
      + `${replays.length > 1 ? `, in each of the ${replays.length} runs side by side` : ''}.`;
    const two = replays.length > 1;
    if (shells.length !== replays.length) {
      for (const x of shells) for (const slot of [x.energySlot, x.traceSlot]) slot.chart?.destroy();
      shells = replays.map((_, i) => shell(i));
      columns.replaceChildren(...shells.map((x) => x.node));
    }
    views = replays.map((replay, i) => runView(shells[i], replay, { name: names[i] ?? `run ${i + 1}`, color: RUN_COLORS[i], i, two }));
    columns.classList.toggle('two', two);
    dynamics.show(replays, names);
    drawStep();
    showTraces();
  }

  /** One run's column, kept while the number of runs stays (so its charts are reused). */
  function shell(i) {
    const head = el('h3', { class: 'run-head' });
    const layers = el('div', { class: 'replay-layers', 'data-testid': 'belief-replay' });
    const energyNote = el('p', { class: 'note', 'data-testid': 'replay-energy-note' });
    const energyEl = el('div', { class: 'chart', 'data-testid': 'plot-replay-energy' });
    const traceNote = el('p', { class: 'note' }, 'Train a step to see inference.');
    const traceEl = el('div', { class: 'chart', 'data-testid': 'plot-inference-energy' });
    const node = el('div', { class: 'replay-run', 'data-testid': 'replay-run', 'data-run': String(i) },
      head, layers, energyNote, energyEl, el('h4', {}, 'The latest training minibatch'), traceNote, traceEl);
    return { node, head, layers, energyNote, traceNote, energySlot: chartSlot(energyEl), traceSlot: chartSlot(traceEl) };
  }

  /** Fills run `i`'s column: its name, energy, layer rows and energy charts. */
  function runView({ node, head, layers, energyNote, traceNote, energySlot, traceSlot }, replay, { name, color, i, two }) {
    const r = runOf(replay);
    const top = replay.sizes.length - 1;
    node.dataset.rule = ctx.runs()[i]?.rule ?? '';
    head.replaceChildren(two ? runLabel(name, color) : '',
      el('span', { 'data-testid': 'replay-run-energy' }, `energy F ${fmt(r.total[0])} → ${fmt(r.total[r.total.length - 1])}`));
    energyNote.textContent = energyCaption(replay, r);
    const scale = two ? IMAGE_SCALE - 1 : IMAGE_SCALE;
    const rows = [];
    for (let l = top; l >= 0; l--) {
      const role = layerRole(replay, l);
      const scales = scalesOf(r, replay, l);
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
      const row = el('div', { class: 'layer', 'data-testid': 'replay-layer', 'data-layer': String(l), 'data-role': role },
        el('div', { class: 'layer-name' }, el('strong', {}, `layer ${l}`),
          el('span', {}, `${ROLE_WORDS[role]} · ${replay.sizes[l]} units`), state, numbers),
        el('div', { class: 'layer-cells digit-row' }, cells),
        l > 0 ? errorLegend(scales.error.max) : null);
      rows.push({ l, role, node: row, canvases, scales, numbers });
    }
    layers.replaceChildren(...rows.map((x) => x.node));
    const view = {
      node,
      energySlot,
      traceSlot,
      /** Draws every layer at step t and writes its numbers on the DOM. */
      draw() {
        const at = Math.min(t, r.beliefs.length - 1);
        node.dataset.t = String(at);
        node.dataset.energy = String(r.total[at]);
        for (const { l, role, node: row, canvases, scales, numbers } of rows) {
          drawLayer(canvases.belief, r.beliefs[at][l], role, replay, scales.value, scale);
          if (canvases.prediction) {
            drawLayer(canvases.prediction, r.predictions[at][l], role, replay, scales.value, scale);
            drawLayer(canvases.error, r.errors[at][l], role, replay, scales.error, scale);
          }
          const errorNorm = l > 0 ? norm(r.errors[at][l]) : 0;
          row.dataset.errorNorm = String(errorNorm);
          row.dataset.energy = String(r.energy[at][l]);
          numbers.textContent = l > 0 ? `E${sub(l)} = ${fmt(r.energy[at][l])}\n‖ε${sub(l)}‖ = ${fmt(errorNorm)}` : '';
        }
        energySlot.chart?.plot.redraw(false, false);
      },
      /** The energy of this run's latest minibatch at every inference step. */
      trace(trace) {
        if (!trace?.total?.length) {
          // A run that has learned without inference (backpropagation) has no trace.
          if (ctx.history.runs[i]?.last) traceNote.textContent = `${name} learns without inference: no energy per step.`;
          return;
        }
        // A layer with no energy at any step (layer 0, which nothing predicts) is left out.
        const layers = trace.per_layer.map((e, l) => l).filter((l) => trace.per_layer[l].some((e) => e !== 0));
        const readout = layers.includes(0) ? '; layer 0\'s energy is the classifier\'s cross-entropy on the latent' : '';
        traceNote.textContent = `${name}: energy of the latest minibatch at each inference step, T = ${trace.total.length - 1}, `
          + `layers numbered as above${readout}.`;
        const positive = [trace.total, ...layers.map((l) => trace.per_layer[l])].flat().every((e) => e > 0);
        const series = [{ label: 'total', color: INK },
          ...layers.map((l) => ({ label: `layer ${l}`, color: LAYER_COLORS[l % LAYER_COLORS.length] }))];
        traceSlot.show(`${series.map((x) => x.label).join()}|${positive}`, series, { x: 'inference step t', y: 'energy', logY: positive, xIntegers: true, height: two ? 180 : 220 })
          .setData([trace.total.map((_, k) => k), trace.total, ...layers.map((l) => trace.per_layer[l])]);
      },
    };
    showEnergy(energySlot, replay, r, two);
    return view;
  }

  let traces = [];
  function showTraces() {
    views.forEach((v, i) => v.trace(traces[i]));
  }

  function drawStep() {
    tLabel.textContent = `t = ${t} / ${steps()}`;
    replayBox.dataset.t = String(t);
    replayBox.dataset.mode = clamped ? 'clamped' : 'free';
    for (const v of views) v.draw();
    dynamics.mark(t);
  }

  /** The energy per layer over t for one run, the current t marked. */
  function showEnergy(slot, replay, r, two) {
    const top = replay.sizes.length - 1;
    const shown = Array.from({ length: top + 1 }, (_, l) => l).filter((l) => r.energy.some((e) => e[l] !== 0));
    const columns = [r.total, ...shown.map((l) => r.energy.map((e) => e[l]))];
    // Log scale when nothing is negative, so that small layers show beside the label;
    // an energy of exactly 0 (a hidden layer at its feedforward start) is left out.
    const logY = columns.flat().every((e) => e >= 0) && columns.flat().some((e) => e > 0) && !flat(r.total);
    const series = [{ label: 'F (total)', color: INK },
      ...shown.map((l) => ({ label: `E${sub(l)} layer ${l}`, color: LAYER_COLORS[l % LAYER_COLORS.length] }))];
    slot.show(`${series.map((s) => s.label).join()}|${logY}`, series,
      { x: 'inference step t', y: logY ? 'energy (log scale)' : 'energy', logY, height: two ? 180 : 200, markX: () => t, xIntegers: true })
      .setData([r.total.map((_, k) => k), ...columns.map((c) => (logY ? c.map((e) => (e > 0 ? e : null)) : c))]);
  }

  /** What the energy chart shows, and why a flat free run is flat. */
  function energyCaption(replay, r) {
    if (!flat(r.total)) {
      const drop = 100 * (1 - r.total[r.total.length - 1] / r.total[0]);
      const what = 'Energy per layer E_l over the steps (the dashed line is the current t)';
      if (drop < 0) {
        return `${what}: F rises by ${(-drop).toFixed(0)}% instead of falling: at this inference rate and momentum the beliefs overshoot the minimum rather than settle.`;
      }
      // A label on top, clamped: its error is the one the hidden layers take over.
      const spread = clamped && replay.label_layer === replay.sizes.length - 1
        ? '; the label\'s error shrinks while the hidden layers take on small errors of their own' : '';
      return `${what}: F falls by ${drop.toFixed(0)}% as the beliefs settle${spread}.`;
    }
    if (!clamped && replay.label_layer === replay.sizes.length - 1) {
      return `Flat: with the label free, the feedforward pass already is the energy minimum, so no belief moves. `
        + `The energy left, F = ${fmt(r.total[0])}, is the entropy of the free label (it holds class probabilities), not an error.`;
    }
    return `Flat: this start is already the energy minimum (F = ${fmt(r.total[0])}), so no belief moves.`;
  }

  /** Shows the runs' replays of the digit `which` names. */
  function showReplays(next, which) {
    if (!next?.length || !next.every((r) => r?.clamped?.beliefs?.length)) return;
    replays = next;
    replaying = which ?? replaying;
    if (replaying.drawn) digit.value = DRAWN;
    else if (digit.value !== LEAST || replaying.index === undefined) digit.value = String(replaying.index);
    build();
  }

  ctx.on(REPLY.REPLAY, ({ replays: next, replaying: which }) => showReplays(next, which));
  ctx.on(REPLY.CONFIGURED, () => stopPlay());
  ctx.on(REPLY.VISUALS, ({ runs, replaying: which }) => {
    traces = runs.map((r) => r.trace);
    const next = runs.map((r) => r.replay);
    if (next.every(Boolean)) showReplays(next, which);
    else showTraces();
  });
}

/** The error colour scale, or a plain word where every error is 0 (no scale of ±10⁻¹²). */
const errorLegend = (max) => (max > 1e-12
  ? divergingLegend(max, { label: 'error' })
  : el('span', { class: 'legend', 'data-testid': 'diverging-legend' }, 'error: 0 at every unit and step (white)'));

/** A canvas with its caption. */
const figure = (canvas, caption) => el('figure', {}, canvas, el('figcaption', {}, caption));

/** A layer index as a subscript (digits only). */
const sub = (l) => String(l).replace(/\d/g, (d) => '₀₁₂₃₄₅₆₇₈₉'[d]);
