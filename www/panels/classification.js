// Panel 5, Classification: the confusion matrix on the test split, sample predictions
// with their probabilities, and a canvas to draw a digit that is classified live (with
// the energy trace of its inference).
import { panel, el, button, stylesheet } from '../dom.js';
import { drawDigits, drawHeatmap, chartSlot, pngButton, RUN_COLORS } from '../plots.js';
import { toMnist } from '../draw.js';
import { REQUEST, REPLY } from '../protocol.js';
import * as equations from '../equations.js';
import { seeingLine } from './seeing.js';

const PAD = 224; // drawing canvas side, in CSS and canvas pixels
const PEN = 16;

/** Probability bars for the ten classes. */
function bars(probabilities, label) {
  return el('div', { class: 'probs' }, probabilities.map((p, k) => {
    const bar = el('span', { class: `prob${k === label ? ' hit' : ''}`, title: `${k}: ${(100 * p).toFixed(1)}%` });
    bar.style.height = `${Math.max(1, Math.round(30 * p))}px`;
    return bar;
  }));
}

function predictionsView(holder, predictions) {
  const { images, labels, probabilities } = predictions;
  holder.replaceChildren(...labels.map((label, i) => {
    const canvas = el('canvas');
    drawDigits(canvas, images.subarray(i * 784, (i + 1) * 784), { count: 1, cols: 1, scale: 2, gap: 0 });
    const p = probabilities[i];
    const guess = p.indexOf(Math.max(...p));
    return el('figure', { class: guess === label ? 'right' : 'wrong', 'data-label': label, 'data-guess': guess, 'data-probability': p[guess] }, canvas,
      el('figcaption', {}, `${label} → ${guess} (${Math.round(100 * p[guess])}%)`), bars(p, guess));
  }));
}

/** The drawing pad: white ink on black, classified on every stroke. */
function drawPad(ctx, onDigit) {
  const canvas = el('canvas', {
    'data-testid': 'draw-canvas', class: 'pad', width: PAD, height: PAD, role: 'img',
    'aria-label': 'drawing pad: draw a digit with a mouse, pen or finger, or use a test digit',
  });
  const g = canvas.getContext('2d', { willReadFrequently: true });
  const clear = () => {
    g.fillStyle = '#000';
    g.fillRect(0, 0, PAD, PAD);
  };
  clear();
  let last = null;
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * (PAD / r.width), (e.clientY - r.top) * (PAD / r.height)];
  };
  const read = () => {
    const rgba = g.getImageData(0, 0, PAD, PAD).data;
    const gray = new Float32Array(PAD * PAD);
    for (let i = 0; i < gray.length; i++) gray[i] = rgba[i * 4] / 255;
    const pixels = toMnist(gray, PAD, PAD);
    if (pixels) onDigit(pixels);
  };
  /** A round-capped stroke from `a` to `b`. */
  const stroke = (a, b) => {
    g.strokeStyle = '#fff';
    g.lineWidth = PEN;
    g.lineCap = g.lineJoin = 'round';
    g.beginPath();
    g.moveTo(...a);
    g.lineTo(...b);
    g.stroke();
  };
  canvas.addEventListener('pointerdown', (e) => {
    canvas.setPointerCapture(e.pointerId);
    last = at(e);
    // A tap leaves a dot (a zero-length stroke draws nothing).
    g.fillStyle = '#fff';
    g.beginPath();
    g.arc(...last, PEN / 2, 0, 2 * Math.PI);
    g.fill();
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!last) return;
    const p = at(e);
    stroke(last, p);
    last = p;
  });
  const end = () => {
    if (!last) return;
    last = null;
    read();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  /** Paints a 28×28 digit (values in [0,1]) on the pad and classifies it as drawn. */
  const put = (pixels) => {
    const small = document.createElement('canvas');
    small.width = small.height = 28;
    const img = small.getContext('2d').createImageData(28, 28);
    pixels.forEach((v, i) => img.data.set([255 * v, 255 * v, 255 * v, 255], i * 4));
    small.getContext('2d').putImageData(img, 0, 0);
    g.drawImage(small, 0, 0, PAD, PAD);
    read();
  };
  return { canvas, clear, put };
}

export function mount(ctx) {
  stylesheet(new URL('./inference.css', import.meta.url)); // the equations' styles
  const { section, tools, body } = panel({ name: 'classification', title: 'Classification', help: 'Rows: true digit, columns: the network’s guess. Draw a digit on the black pad: it is centred like MNIST and classified by inference.' });
  seeingLine(ctx, section, (config, experiment) => {
    const r = equations.readout(config, experiment);
    return `the probability of each class k, ${equations.html(r)} (${r.words}).`;
  });
  const confusion = el('canvas', { 'data-testid': 'confusion-matrix', class: 'heatmap' });
  const confusionNote = el('p', { class: 'note', 'data-testid': 'confusion-note' });
  const predictions = el('div', { class: 'predictions digit-row', 'data-testid': 'predictions' });
  const preview = el('canvas', { class: 'digit', 'data-testid': 'draw-preview' });
  const answer = el('p', { class: 'answer', 'data-testid': 'draw-prediction' }, 'draw a digit');
  const answerBars = el('div');
  const traceEl = el('div', { class: 'chart small', 'data-testid': 'plot-draw-energy' });
  const trace = chartSlot(traceEl);
  const pad = drawPad(ctx, (pixels) => {
    drawDigits(preview, pixels, { count: 1, cols: 1, scale: 2, gap: 0 });
    ctx.send({ type: REQUEST.CLASSIFY, pixels });
  });
  // The keyboard's way to the pad: one of the test digits on show, in turn.
  let shown = null;
  let next = 0;
  const testDigit = button('use a test digit', () => {
    if (!shown) return;
    const k = next++ % shown.labels.length;
    pad.clear();
    pad.put(shown.images.subarray(k * 784, (k + 1) * 784));
  }, { 'data-testid': 'draw-test-digit', disabled: true });
  const clearPad = () => {
    pad.clear();
    answer.textContent = 'draw a digit';
    answerBars.replaceChildren();
  };
  body.append(
    el('div', { class: 'split' }, el('div', {}, el('h3', {}, 'Confusion matrix'), confusion, confusionNote),
      el('div', {}, el('h3', {}, 'Draw a digit'), el('div', { class: 'drawing' }, pad.canvas,
        el('div', {}, preview, answer, answerBars, button('clear', clearPad, { 'data-testid': 'draw-clear' }), testDigit)), traceEl)),
    el('h3', {}, 'Test digits: true → guess (probability)'), predictions);
  tools.append(pngButton(() => confusion, 'pclab-confusion.png'));
  drawHeatmap(confusion, Array.from({ length: 10 }, () => new Array(10).fill(0))); // its final size, so nothing shifts

  ctx.on(REPLY.VISUALS, ({ runs }) => {
    const run = runs[0];
    if (run?.evaluation?.confusion) {
      drawHeatmap(confusion, run.evaluation.confusion);
      // Which run, and on how many test digits (its counts add up to them).
      const n = run.evaluation.confusion.flat().reduce((a, b) => a + b, 0);
      const whose = runs.length > 1 ? `${ctx.names()[0]}, ` : '';
      confusionNote.textContent = `${whose}${n} test digits: rows the true digit, columns the guess.`;
    }
    if (run?.predictions) {
      predictionsView(predictions, run.predictions);
      shown = { images: run.predictions.images.slice(), labels: run.predictions.labels };
      testDigit.disabled = false;
    }
  });
  ctx.on(REPLY.CLASSIFIED, ({ result }) => {
    const { label, probabilities, energy_trace: energies } = result;
    answer.textContent = `${label} (${(100 * probabilities[label]).toFixed(1)}%)`;
    answerBars.replaceChildren(bars(probabilities, label));
    if (energies?.length) {
      trace.show('draw', [{ label: 'energy of your digit', color: RUN_COLORS[0] }], { x: 'inference step t', y: 'energy', height: 150, xIntegers: true })
        .setData([energies.map((_, t) => t), energies]);
    }
  });
}
