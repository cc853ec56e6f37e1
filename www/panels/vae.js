// Panel: a variational autoencoder trained by BP and by PC side by side (src/vae): the
// same initial weights, batches and noise ε; test reconstruction MSE at the engine's
// checkpoints, a few test digits with each rule's reconstructions, and codes from the prior
// N(0, I) decoded by each (the same codes for both). Sizes and bounds: the schema's `vae`.
import { panel, el, button, field, fixed, whole, stylesheet } from '../dom.js';
import { chartSlot, pngButton, align, drawDigits, RUN_COLORS } from '../plots.js';
import { REQUEST, REPLY } from '../protocol.js';
import * as equations from '../equations.js';
import { seeingLine } from './seeing.js';
import { ruleNames } from '../settings.js';

/** The rules the engine's VAE comparison trains (the keys of its checkpoints), in order. */
const RULES = ['bp', 'pc'];
const IMAGES = 8;

/** The last checkpoint's MSE, ELBO and its KL term for each rule, numbers from the engine. */
function table(last, rules) {
  const cell = (rule, metric, digits) => el('td', { 'data-rule': rule, 'data-metric': metric, 'data-value': last[rule][metric] },
    fixed(last[rule][metric], digits));
  return el('table', { class: 'numbers', 'data-testid': 'vae-table' },
    el('caption', {}, `after ${last.step} steps (${last.epoch.toFixed(2)} epochs)`),
    el('tr', {}, el('th', {}, 'rule'), el('th', {}, 'test MSE'), el('th', {}, 'ELBO (nats)'), el('th', {}, 'of it KL')),
    rules.map(([rule, name]) => el('tr', {}, el('th', {}, name), cell(rule, 'mse', 4), cell(rule, 'elbo', 1), cell(rule, 'kl', 1))));
}

/** A labelled strip of digits. */
function strip(label, testid) {
  const canvas = el('canvas', { class: 'digits', 'data-testid': testid, role: 'img', 'aria-label': label });
  return { canvas, node: el('figure', { class: 'vae-strip' }, el('figcaption', {}, label), canvas) };
}

export function mount(ctx) {
  stylesheet(new URL('./inference.css', import.meta.url)); // the equations' styles
  const limits = ctx.schema.vae;
  const names = ruleNames(ctx.schema);
  const rules = RULES.map((rule) => [rule, names.get(rule)]);
  const { section, tools, body } = panel({ name: 'vae', title: 'VAE: BP vs PC',
    help: `Two VAEs (784–${limits.hidden}–2×${limits.latent} encoder, ${limits.latent}–${limits.hidden}–784 decoder) from the same weights, `
      + `trained on the same batches of ${limits.batch}: one by backpropagation of the negative ELBO, one by predictive coding with a sampled latent.` });
  seeingLine(ctx, section, () => {
    const t = equations.vae(limits);
    return `what each rule minimises, ${equations.html(t)} (${t.words}).`;
  });
  const steps = field('steps', { type: 'number', min: 1, max: limits.max_steps, value: 125, 'data-testid': 'vae-steps',
    title: `training steps (minibatches) of both VAEs, 1 to ${limits.max_steps}` });
  const seedMax = ctx.schema.fields.find((f) => f.name === 'seed').max;
  const seed = field('seed', { type: 'number', min: 0, max: seedMax, value: 0,
    'data-testid': 'vae-seed', title: 'initial weights, batch order, noise and the prior samples' });
  const chartEl = el('div', { class: 'chart', 'data-testid': 'plot-vae' });
  const slot = chartSlot(chartEl);
  const out = el('div', { class: 'scroll', 'data-testid': 'vae-out' }, 'Train both to compare them.');
  const digits = strip('test digits', 'vae-digits');
  const recon = rules.map(([rule, name]) => strip(`${name} reconstructions`, `vae-recon-${rule}`));
  const samples = rules.map(([rule, name]) => strip(`${name} samples from N(0, I)`, `vae-samples-${rule}`));
  const train = () => {
    const n = whole(steps.input, 1, limits.max_steps);
    if (n === null) return ctx.showError(`VAE steps: a whole number from 1 to ${limits.max_steps}.`);
    const s = whole(seed.input, 0, seedMax);
    if (s === null) return ctx.showError(`VAE seed: a whole number from 0 to ${seedMax}.`);
    out.textContent = 'training both…';
    ctx.send({ type: REQUEST.VAE, steps: n, seed: s, images: Math.min(IMAGES, limits.max_images) });
  };
  const go = button('train both', train, { 'data-testid': 'vae-train' });
  // The strips appear with the first result: no empty placeholders before a run.
  const strips = el('div', { hidden: true }, digits.node, ...recon.map((r) => r.node), ...samples.map((r) => r.node));
  body.append(el('div', { class: 'row' }, steps.node, seed.node, go), chartEl, out, strips);
  tools.append(pngButton(() => slot.chart?.canvas, 'pclab-vae.png'));

  ctx.on(REPLY.PROGRESS, ({ task, stopped }) => {
    if (task === 'VAE' && stopped) out.textContent = 'The VAE comparison was stopped (pause, reset or new settings).';
  });
  ctx.on(REPLY.VAE, ({ history, images, reconstructions, samples: drawn }) => {
    const series = rules.map(([, name], i) => ({ label: `${name} test MSE`, color: RUN_COLORS[i] }));
    slot.show('vae', series, { x: 'training step', y: 'test reconstruction MSE', xIntegers: true })
      .setData(align(rules.map(([rule]) => [history.map((p) => p.step), history.map((p) => p[rule].mse)])));
    out.replaceChildren(table(history[history.length - 1], rules));
    strips.hidden = false;
    const part = (a, k) => a.subarray(k * images * 784, (k + 1) * images * 784);
    drawDigits(digits.canvas, part(reconstructions, 0), { cols: images });
    recon.forEach((r, k) => drawDigits(r.canvas, part(reconstructions, k + 1), { cols: images }));
    samples.forEach((r, k) => drawDigits(r.canvas, part(drawn, k), { cols: images }));
  });
}
