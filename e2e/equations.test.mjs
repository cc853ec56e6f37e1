// The equations the panels show (www/equations.js), in node: they follow the settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { energy, inference, learning, layers, html, readout, reconstruction, generation, tradeoff, vae, cost } from '../www/equations.js';
import { logTicks } from '../www/plots.js';

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
  // Hidden distribution layers: a KL term over v_l = m(φ_l), the Gaussian output term kept.
  const hidden = energy({ ...base, output_energy: 'gaussian', hidden_energy: 'bernoulli' });
  assert.match(texts(hidden), /E_l = KL \(v_l ‖ σ\(μ_l\)\), v_l = σ\(φ_l\) \(l < L\)/);
  assert.match(texts(hidden), /E_L = 1\/2‖v_L − μ_L‖\^2/);
  assert.match(hidden.words, /hidden layers bernoulli/);
  assert.match(texts(energy({ ...base, hidden_energy: 'categorical' })), /KL \(v_l ‖ softmax \(μ_l\)\), v_l = softmax \(φ_l\)/);
  // Inference descends φ_l through the mean's Jacobian; Gaussian layers keep v_l's update.
  const descent = texts(inference({ ...base, hidden_energy: 'bernoulli' }));
  assert.match(descent, /φ_l ← φ_l − α∂F\/∂φ_l/);
  assert.match(descent, /∂F\/∂φ_l = J_m\(φ_l\)\[φ_l − μ_l − W_\{l \+ 1\}ᵀ/);
  assert.match(texts(inference(base)), /v_l ← v_l − α∂F\/∂v_l/);
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

test('the class read-out is the output energy\'s mean at the top, the normalised class layer at the bottom, the classifier on a latent', () => {
  const top = { bottom: 'image', top: 'label' };
  assert.match(texts(readout(base, top)), /p\(k \| x\) = softmax \(μ_L\)_k/);
  assert.match(readout(base, top).words, /settled beliefs.*softmax/);
  assert.match(texts(readout({ ...base, output_energy: 'bernoulli' }, top)), /σ\(μ_L\)_k/);
  assert.doesNotMatch(texts(readout({ ...base, output_energy: 'gaussian' }, top)), /softmax|σ/);
  // Scores that are not a distribution are clipped at 0 and normalised, as the engine shows them.
  for (const output of ['gaussian', 'bernoulli']) {
    const r = readout({ ...base, output_energy: output }, top);
    assert.match(texts(r), /p\(k \| x\) = max \(0 , m_k\)\/Σ_j max \(0 , m_j\)/, output);
    assert.match(r.words, /clipped at 0/);
  }
  assert.match(texts(readout({ ...base, form: 'pre' }, top)), /μ_l = W_lf\(v_\{l − 1\}\) \+ b_l/);
  assert.match(texts(readout(base, { bottom: 'label', top: 'image' })), /v_\{0 , k\}\/Σ_j v_\{0 , j\}/);
  assert.match(texts(readout(base, { bottom: 'latent', top: 'image', classifier: true })), /softmax \(Cv_0 \+ c\)_k/);
});

test('the reconstruction is the prediction from the inferred latent (or the autoencoder\'s), judged by the MSE', () => {
  const compress = { bottom: 'latent', top: 'image' };
  const pc = reconstruction({ ...base, output_energy: 'gaussian', steps: 35 }, compress);
  assert.match(texts(pc), /x̂ = μ_L\(v_0\^\*\) \| MSE = 1\/NΣ_i \(x̂_i − x_i\)\^2/);
  assert.match(pc.words, /T = 35 steps/);
  assert.match(texts(reconstruction({ ...base, output_energy: 'bernoulli' }, compress)), /x̂ = σ\(μ_L\(v_0\^\*\)\)/);
  assert.match(texts(reconstruction({ ...base, rule: 'bp' }, compress)), /decoder\(encoder\(x\)\)/);
});

test('generation is the top-down prediction chain from a one-hot class', () => {
  assert.match(texts(generation(base)), /μ_0 = onehot \(k\) \| μ_l = f\(W_lμ_\{l − 1\} \+ b_l\)/);
  assert.match(texts(generation({ ...base, form: 'pre' })), /μ_l = W_lf\(μ_\{l − 1\}\) \+ b_l/);
  assert.match(texts(generation({ ...base, output_energy: 'bernoulli' })), /image = σ\(μ_L\)/);
});

test('the trade-off objective weighs the image energy by 1 − λ against λ times the cross-entropy, for both rules', () => {
  const t = tradeoff({ ...base, output_energy: 'gaussian', steps: 20 });
  assert.match(texts(t), /PC: F_λ = \(1 − λ\)F \+ λE_c\(v_0\)/);
  assert.match(html(t), /<mtext>PC:<\/mtext><mspace width="0.5em"><\/mspace>/, 'a visible space after "PC:" (it read "PC:F")');
  assert.match(texts(t), /BP through inference: \| ℓ = \(1 − λ\)E_L\(x, μ_L\(v_0\(T\)\)\) \| \+ λE_c\(v_0\(T\)\)/);
  assert.match(t.words, /T = 20 steps.*Gaussian/);
  assert.match(tradeoff({ ...base, output_energy: 'bernoulli' }).words, /Bernoulli/);
});

test('the FLOP count follows the rule: 6BS for BP, 12BST through inference, T inference steps for PC', () => {
  assert.equal(texts(cost({ ...base, rule: 'bp' })), 'FLOPs ≈ 6BS');
  assert.equal(texts(cost({ ...base, rule: 'bp-through-inference' })), 'FLOPs ≈ 12BST');
  assert.equal(texts(cost(base)), 'FLOPs ≈ B(4S′T + 2n_0n_1 + 4S)');
  assert.equal(texts(cost({ ...base, accumulate: true })), 'FLOPs ≈ B(4S′T + 2n_0n_1 + 4S + 2ST)');
  assert.match(cost({ ...base, batch: 64 }).words, /T = 8 inference steps.*B = 64/);
});

test('log axes: powers of ten or 1-2-5, never closer than the gap, whatever the size', () => {
  const px = (v, lo, hi, pixels) => ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * pixels;
  for (const [lo, hi] of [[1e-3, 1e3], [0.5, 40], [1, 10], [1e-9, 1e9], [2.1, 3.3], [10, 1e5]]) {
    for (const pixels of [60, 120, 180, 300, 600]) {
      const ts = logTicks(lo, hi, pixels, 24);
      assert.ok(ts.length >= 2, `[${lo}, ${hi}] over ${pixels}px: ${ts}`);
      for (let i = 1; i < ts.length; i++) {
        assert.ok(px(ts[i], lo, hi, pixels) - px(ts[i - 1], lo, hi, pixels) >= 24 - 1e-9, `[${lo}, ${hi}] over ${pixels}px: ${ts} crowd`);
      }
      assert.ok(ts.every((t) => t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)));
    }
  }
  assert.deepEqual(logTicks(1e-3, 1e3, 300, 24), [0.001, 0.01, 0.1, 1, 10, 100, 1000]);
  assert.deepEqual(logTicks(1, 100, 400, 24), [1, 2, 5, 10, 20, 50, 100]);
  assert.ok(logTicks(1e-9, 1e9, 120, 24).every((v) => Number.isInteger(Math.log10(v))), 'only powers of ten when decades crowd');
});

test('the VAE line gives BP\'s negative ELBO through the sample and PC\'s energy with the engine\'s T', () => {
  const t = vae({ inference_steps: 20, inference_rate: 0.1, beta: 0.01 });
  assert.equal(texts(t), 'BP: − ELBO = BCE(x, a(z)) + KL, | z = m + e^(s/2) ⊙ ε, | KL = KL(N(m, e^s) ‖ N(0, I)); | '
    + 'PC: F = Σ_l 1/2‖v_l − μ_l‖^2 + KL + BCE(x, a(z))');
  assert.match(t.words, /T = 20 steps \(rate 0\.1\).*F = −ELBO.*β = 0\.01/);
});
