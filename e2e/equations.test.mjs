// The equations the panels show (www/equations.js), in node: they follow the settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { energy, inference, learning, layers, html } from '../www/equations.js';

const base = {
  experiment: 'classify', rule: 'pc', inference: 'standard', form: 'post', output_energy: 'categorical',
  hidden: [128, 128, 128], latent: 64, steps: 8, inference_lr: 0.1, inference_momentum: 0.5, accumulate: false,
};
const texts = (eq) => eq.lines.map((l) => l.text).join(' | ');

test('the energy is a sum over layers with the output term the output energy chooses', () => {
  const categorical = energy(base);
  assert.match(texts(categorical), /F = Σ_\{l=1\}\^L E_l/);
  assert.match(texts(categorical), /E_L = − Σ_k v_\{L , k\}log softmax/);
  assert.match(categorical.words, /categorical/);
  assert.ok(categorical.lines.every((l) => l.mathml.startsWith('<math') && l.mathml.endsWith('</math>')));
  const gaussian = energy({ ...base, output_energy: 'gaussian' });
  assert.doesNotMatch(texts(gaussian), /softmax|σ/);
  assert.match(texts(gaussian), /E_l = 1\/2‖v_l − μ_l‖\^2 \(every layer/);
  const bernoulli = energy({ ...base, output_energy: 'bernoulli' });
  assert.match(texts(bernoulli), /σ\(μ_\{L , i\}\)/);
  assert.match(bernoulli.lines.map((l) => l.mathml).join(''), /<mi>σ<\/mi>/);
  assert.notEqual(texts(categorical), texts(gaussian));
});

test('the prediction follows the form: f(W v + b) or W f(v) + b', () => {
  assert.match(texts(energy(base)), /μ_l = f\(W_lv_\{l − 1\} \+ b_l\)/);
  assert.match(texts(energy({ ...base, form: 'pre' })), /μ_l = W_lf\(v_\{l − 1\}\) \+ b_l/);
});

test('the inference update is the chosen variant, with its rate', () => {
  const standard = inference(base);
  assert.match(texts(standard), /v_l ← v_l − α∂F\/∂v_l/);
  assert.match(standard.words, /α = 0\.1, momentum 0\.5, T = 8 steps/);
  assert.doesNotMatch(inference({ ...base, inference_momentum: 0 }).words, /momentum/);
  assert.match(texts(inference({ ...base, inference: 'strict' })), /v_l ← v_l − η∂F\/∂v_l/);
  const fixed = inference({ ...base, inference: 'fixed-prediction' });
  assert.match(texts(fixed), /J_\{l \+ 1\}\(v̂_l\)ᵀ/);
  assert.match(texts(fixed), /frozen/);
  const exact = inference({ ...base, inference: 'exact' });
  assert.match(texts(exact), /v_l = v̂_l − ∂ℓ\/∂v̂_l/);
  assert.match(exact.words, /no iteration/);
});

test('the learning rule is local for PC and a backprop gradient for BP', () => {
  assert.match(texts(learning(base)), /Δ W_l ∝ \(ε_l ⊙ f′\(W_lv_\{l − 1\} \+ b_l\)\)v_\{l − 1\}ᵀ/);
  assert.match(texts(learning({ ...base, form: 'pre' })), /Δ W_l ∝ ε_lf\(v_\{l − 1\}\)ᵀ/);
  assert.match(learning({ ...base, accumulate: true }).words, /summed over the inference states/);
  assert.match(texts(learning({ ...base, rule: 'bp' })), /∂E_L\/∂W_l/);
  assert.match(texts(learning({ ...base, rule: 'bp-through-inference' })), /∂ℓ\/∂W_l/);
});

test('html() labels each equation with its text and escapes it', () => {
  const out = html(learning(base));
  assert.match(out, /^<span class="eq" title="Δ W_l ∝ [^"<>]+"><math display="inline">/);
  assert.doesNotMatch(out, /<script/);
});

test('the layers are the engine\'s: ends from the experiment table, hidden between', () => {
  const classify = { bottom: 'image', top: 'label' };
  assert.deepEqual(layers({ ...base, hidden: [64, 32] }, classify).map((d) => `${d.role}:${d.size}`),
    ['image:784', 'hidden:64', 'hidden:32', 'label:10']);
  const compress = { bottom: 'latent', top: 'image' };
  assert.deepEqual(layers({ ...base, hidden: [256], latent: 16 }, compress).map((d) => d.size), [16, 256, 784]);
  assert.deepEqual(layers({ ...base, rule: 'bp', hidden: [256], latent: 16 }, compress).map((d) => d.size), [784, 256, 16, 256, 784],
    'BP on compress trains an autoencoder');
  assert.deepEqual(layers({ ...base, hidden: [] }, { bottom: 'label', top: 'image' }).map((d) => d.role), ['label', 'image']);
});
