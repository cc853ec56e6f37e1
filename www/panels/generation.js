// Panel 6, Generation: samples of every class from the network as a generative model
// (ancestral sampling from a clamped label, with the noise it learned; src/sampling.rs).
import { panel, el, button } from '../dom.js';
import { drawDigits, columnLabels, pngButton } from '../plots.js';
import { REQUEST, REPLY } from '../protocol.js';
import * as equations from '../equations.js';
import { seeingLine } from './seeing.js';

// The generation grid: one column per class, then one whose class is drawn from the
// prior too (unconditional samples), SAMPLES samples down the rows.
const CLASSES = 10;
const SAMPLES = 5;
const NOISE_STEP = 0.05;

export function mount(ctx) {
  const { section, tools, body } = panel({ name: 'generation', title: 'Generation', help: 'Clamp a class at layer 0 (the bottom) and let the network predict the layers above it, up to the image.' });
  seeingLine(ctx, section, (config) => `the top-down prediction chain ${equations.html(equations.generation(config))} (${equations.generation(config).words}); each layer is drawn around its prediction with the noise the network learned, scaled by the noise scale.`);
  // Ancestral samples (src/sampling.rs): each column clamps one class at layer 0 and draws
  // every layer below around its prediction, with the noise the network learned, scaled by
  // the noise scale; 0 gives the deterministic mean prediction in every row.
  const { max_noise: maxNoise } = ctx.schema.sampling;
  const noise = el('input', {
    type: 'range', min: 0, max: maxNoise, step: NOISE_STEP, value: 1,
    'data-testid': 'sample-noise', 'aria-label': 'noise scale',
    title: 'Scales the learned noise σ of every layer: 0 is the mean prediction, 1 the model as learned.',
  });
  const noiseValue = el('output', { 'data-testid': 'sample-noise-value' }, '1.00');
  const pixels = el('input', {
    type: 'checkbox', 'data-testid': 'sample-pixels',
    title: 'Draw the pixels too (adds the image layer’s own noise); off: each image is the mean given the layer above.',
  });
  let seed = 0;
  // null: no class clamped, layer 0 is drawn from the prior (the class frequencies).
  const classes = [...Array.from({ length: CLASSES }, (_, k) => k), null];
  const canvas = el('canvas', { 'data-testid': 'generated', class: 'digits', role: 'img', 'aria-label': 'sampled digits: one column per class, the last with the class drawn from the prior' });
  // The columns' classes above the grid, one cell per column of digits.
  const labels = columnLabels(classes.map((k) => el('span', { title: k === null ? 'class drawn from the prior π' : `class ${k} clamped` }, k === null ? 'any' : String(k))),
    { 'data-testid': 'sample-columns', 'aria-hidden': 'true' });
  const note = el('p', { class: 'note', 'data-testid': 'sample-note' }, 'Train a few steps to see samples.');
  const request = () => ctx.send({ type: REQUEST.GENERATE, classes, count: SAMPLES, noise: Number(noise.value), seed, pixels: pixels.checked });
  noise.addEventListener('input', () => {
    noiseValue.textContent = Number(noise.value).toFixed(2);
    request();
  });
  pixels.addEventListener('change', request);
  const resample = button('resample', () => {
    seed = (seed + 1) >>> 0;
    request();
  }, { 'data-testid': 'resample', title: 'Draw new noise (the next seed).' });
  body.append(
    el('div', { class: 'row' }, el('label', {}, 'noise scale ', noise, ' ', noiseValue), el('label', {}, pixels, ' sample pixels'), resample),
    el('div', { class: 'sample-grid' }, labels, canvas), note,
  );
  tools.append(pngButton(() => canvas, 'pclab-samples.png'));

  ctx.on(REPLY.GENERATED, ({ images, count, noise: tau, seed: drawn, model }) => {
    // One array per class (count × 784) → rows of samples, one column per class.
    const grid = new Float32Array(images.length * count * 784);
    images.forEach((image, c) => {
      for (let r = 0; r < count; r++) grid.set(image.subarray(r * 784, (r + 1) * 784), (r * images.length + c) * 784);
    });
    drawDigits(canvas, grid, { cols: images.length });
    const variances = model.variances.map((v) => v.toPrecision(2)).join(', ');
    note.textContent = tau === 0
      ? 'Noise 0: every row is the mean prediction of its class (the deterministic generation); the last column predicts from the class frequencies π.'
      : `Columns: classes 0–9, then unconditional samples (the class drawn from its prior π too); rows: samples (seed ${drawn}). Learned variances σ² of layers 1 to L (the image): ${variances} (over ${model.batches} batches).`;
  });
  // Refresh live while a generative network trains.
  ctx.on(REPLY.VISUALS, () => {
    if (ctx.experiment().views.includes('generation')) request();
  });
}
