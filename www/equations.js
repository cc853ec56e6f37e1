// The equations the panels show, as native MathML (no library, no network request) and
// as plain text (for screen readers' labels and for tests), built from the current
// settings: the energy and its output term, the inference update of the chosen variant,
// and the learning rule. Pure functions (no DOM), so node can test them.

/** A piece of an equation: its MathML `m` and its plain text `t`. */
const piece = (m, t) => ({ m, t });

const escape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const mi = (x) => piece(`<mi>${escape(x)}</mi>`, x);
const mn = (x) => piece(`<mn>${escape(x)}</mn>`, String(x));
const mo = (x, t = x) => piece(`<mo>${escape(x)}</mo>`, t === x ? ` ${x} ` : t);
/** A bracket that keeps its size (stretchy brackets grow huge around a transpose). */
const fence = (x) => piece(`<mo stretchy="false">${escape(x)}</mo>`, x);
const op = (x) => piece(`<mo form="prefix">${escape(x)}</mo>`, `${x} `);
const space = '<mspace width="0.5em"></mspace>';
/** Words inside an equation; a leading or trailing space becomes a visible one (MathML drops it). */
const text = (x) => piece(`${x.startsWith(' ') ? space : ''}<mtext>${escape(x.trim())}</mtext>${x.endsWith(' ') ? space : ''}`, x);
const row = (...ps) => piece(`<mrow>${ps.map((p) => p.m).join('')}</mrow>`, ps.map((p) => p.t).join(''));
const sub = (b, s) => piece(`<msub>${b.m}${s.m}</msub>`, `${b.t}_${s.t.length > 1 ? `{${s.t}}` : s.t}`);
const sup = (b, s) => piece(`<msup>${b.m}${s.m}</msup>`, `${b.t}^${s.t}`);
const frac = (a, b) => piece(`<mfrac>${a.m}${b.m}</mfrac>`, `${a.t}/${b.t}`);
const paren = (...ps) => row(fence('('), ...ps, fence(')'));
const bracket = (...ps) => row(fence('['), ...ps, fence(']'));
const sum = (index, from, to, ...body) => row(piece(
  `<munderover><mo>∑</mo><mrow>${index.m}<mo>=</mo>${from.m}</mrow>${to.m}</munderover>`,
  `Σ_{${index.t}=${from.t}}^${to.t} `), ...body);
const sumOver = (index, ...body) => row(piece(`<munder><mo>∑</mo>${index.m}</munder>`, `Σ_${index.t} `), ...body);

/** Layer-indexed symbols: v_l, μ_l, ε_l, E_l, W_l and their l−1, l+1 neighbours. */
const l = mi('l');
const lMinus = row(mi('l'), mo('−'), mn(1));
const lPlus = row(mi('l'), mo('+'), mn(1));
const L = mi('L');
const v = (i) => sub(mi('v'), i);
const mu = (i) => sub(mi('μ'), i);
const eps = (i) => sub(mi('ε'), i);
const W = (i) => sub(mi('W'), i);
const b = (i) => sub(mi('b'), i);
const E = (i) => sub(mi('E'), i);
const F = mi('F');
const half = frac(mn(1), mn(2));
const fPrime = piece('<mi>f′</mi>', 'f′');
const tr = (p) => piece(`<msup>${p.m}<mo>⊤</mo></msup>`, `${p.t}ᵀ`);
const norm2 = (...ps) => row(fence('‖'), ...ps, sup(fence('‖'), mn(2)));
const dF = (i) => frac(row(mi('∂'), F), row(mi('∂'), v(i)));
const log = op('log');

/** Wraps pieces in a <math> element; `t` is its plain text. */
export function math(...ps) {
  const p = row(...ps);
  return { mathml: `<math display="inline">${p.m}</math>`, text: p.t.replace(/\s+/g, ' ').trim() };
}

/** The prediction of layer l from layer l−1 in the network's form (`post` or `pre`). */
function prediction(config) {
  return config.form === 'pre'
    ? row(mu(l), mo('='), W(l), mi('f'), paren(v(lMinus)), mo('+'), b(l))
    : row(mu(l), mo('='), mi('f'), paren(W(l), v(lMinus), mo('+'), b(l)));
}

/** The output layer's energy term E_L as the output energy says. */
function outputTerm(config) {
  const vL = (i) => sub(mi('v'), row(L, mo(',', ','), mi(i)));
  const muL = (i) => sub(mi('μ'), row(L, mo(',', ','), mi(i)));
  switch (config.output_energy) {
    case 'categorical':
      return row(E(L), mo('='), mo('−'), sumOver(mi('k'), vL('k'), log, sub(row(op('softmax'), paren(mu(L))), mi('k'))));
    case 'bernoulli':
      return row(E(L), mo('='), mo('−'), sumOver(mi('i'), bracket(
        vL('i'), log, mi('σ'), paren(muL('i')), mo('+'),
        paren(mn(1), mo('−'), vL('i')), log, paren(mn(1), mo('−'), mi('σ'), paren(muL('i'))))));
    default:
      return row(E(L), mo('='), half, norm2(v(L), mo('−'), mu(L)));
  }
}

/** What the output energy is, in words. */
const OUTPUT_WORDS = {
  gaussian: 'Gaussian: half the squared error',
  categorical: 'categorical: the softmax cross-entropy',
  bernoulli: 'Bernoulli: the binary cross-entropy on logits',
};

/** The mean m of a hidden distribution layer (hidden_energy), or undefined when Gaussian. */
const HIDDEN_MEAN = { categorical: (x) => row(op('softmax'), paren(x)), bernoulli: (x) => row(mi('σ'), paren(x)) };

/**
 * A hidden categorical or Bernoulli layer's term: its belief is a distribution
 * v_l = m(φ_l) scored by KL(v_l ‖ m(μ_l)) (src/energy.rs), or null for Gaussian layers.
 */
function hiddenTerm(config) {
  const m = HIDDEN_MEAN[config.hidden_energy];
  return m ? math(E(l), mo('='), op('KL'), paren(v(l), mo('‖'), m(mu(l))), mo(',', ', '), v(l), mo('='), m(sub(mi('φ'), l)), text(' (l < L)')) : null;
}

/**
 * The energy F = Σ_l E_l with the hidden layers' term (Gaussian, or a distribution's
 * divergence) and the output term the settings choose. Returns { lines: [{ mathml, text }], words }.
 */
export function energy(config) {
  const hidden = hiddenTerm(config);
  const gaussian = (config.output_energy === 'gaussian' || !config.output_energy) && !hidden;
  const lines = [
    math(F, mo('='), sum(l, mn(1), L, E(l))),
    hidden ?? math(E(l), mo('='), half, norm2(v(l), mo('−'), mu(l)), text(gaussian ? ' (every layer l = 1..L)' : ' (l < L)')),
  ];
  if (!gaussian) lines.push(math(outputTerm(config)));
  lines.push(math(prediction(config)));
  const hiddenWords = hidden ? `; hidden layers ${config.hidden_energy}: a distribution belief scored by its KL divergence` : '';
  return { lines, words: `output energy ${OUTPUT_WORDS[config.output_energy] ?? OUTPUT_WORDS.gaussian}${hiddenWords}` };
}

/**
 * The gradient of F at a free Gaussian belief: its own error against the error it causes
 * above. Returns { piece: the equation, above: the term from the layer above }.
 */
function gradient(config) {
  const above = config.form === 'pre'
    ? row(fPrime, paren(v(l)), mo('⊙'), tr(W(lPlus)), eps(lPlus))
    : row(tr(W(lPlus)), paren(eps(lPlus), mo('⊙'), fPrime, paren(W(lPlus), v(l), mo('+'), b(lPlus))));
  return { piece: row(dF(l), mo('='), eps(l), mo('−'), above), above };
}

/**
 * The inference update of the chosen variant (config.inference), with its rate and
 * number of steps. Returns { lines: [{ mathml, text }], words }.
 */
export function inference(config) {
  const rate = config.inference_lr;
  const steps = config.steps;
  const update = (symbol) => math(v(l), mo('←'), v(l), mo('−'), mi(symbol), dF(l));
  // A hidden distribution layer descends its natural parameters φ_l (src/inference.rs).
  const phi = sub(mi('φ'), l);
  const dPhi = frac(row(mi('∂'), F), row(mi('∂'), phi));
  const { piece, above } = gradient(config);
  const descent = (symbol) => (HIDDEN_MEAN[config.hidden_energy]
    ? [math(phi, mo('←'), phi, mo('−'), mi(symbol), dPhi),
      math(dPhi, mo('='), sub(mi('J'), mi('m')), paren(phi), bracket(phi, mo('−'), mu(l), mo('−'), above))]
    : [update(symbol), math(piece)]);
  switch (config.inference) {
    case 'strict':
      return { lines: descent('η'),
        words: `strict (Torch2PC): gradient descent on F with both ends clamped, η = ${rate}, ${steps} steps` };
    case 'fixed-prediction': {
      const hat = (i) => sub(mi('v̂'), i);
      return {
        lines: [math(v(l), mo('←'), v(l), mo('−'), mi('η'), paren(eps(l), mo('−'), tr(row(sub(mi('J'), lPlus), paren(hat(l)))), eps(lPlus))),
          math(mu(l), mo('='), hat(l), text(' frozen at the feedforward pass'))],
        words: `fixed-prediction (Torch2PC): the predictions stay at the feedforward values, η = ${rate}, ${steps} sweeps`,
      };
    }
    case 'exact': {
      const hat = (i) => sub(mi('v̂'), i);
      const g = frac(row(mi('∂'), mi('ℓ')), row(mi('∂'), hat(l)));
      return { lines: [math(v(l), mo('='), hat(l), mo('−'), g), math(eps(l), mo('='), mo('−'), g)],
        words: 'exact (Torch2PC): the errors are the backprop gradients, no iteration' };
    }
    default: {
      const momentum = config.inference_momentum > 0 ? `, momentum ${config.inference_momentum}` : '';
      return { lines: descent('α'),
        words: `standard: gradient descent on F over the free beliefs, α = ${rate}${momentum}, T = ${steps} steps` };
    }
  }
}

/**
 * The learning rule of config.rule (and its form). Returns { lines: [{ mathml, text }], words }.
 */
export function learning(config) {
  const dW = row(mo('Δ', 'Δ'), W(l));
  switch (config.rule) {
    case 'bp':
      return { lines: [math(dW, mo('∝'), mo('−'), frac(row(mi('∂'), E(L)), row(mi('∂'), W(l))))],
        words: 'backprop: the output energy at the feedforward prediction, differentiated through the network' };
    case 'bp-through-inference':
      return { lines: [math(dW, mo('∝'), mo('−'), frac(row(mi('∂'), mi('ℓ')), row(mi('∂'), W(l))))],
        words: 'backprop of the outer loss ℓ through every inference step' };
    default: {
      const local = config.form === 'pre'
        ? row(dW, mo('∝'), eps(l), tr(row(mi('f'), paren(v(lMinus)))))
        : row(dW, mo('∝'), paren(eps(l), mo('⊙'), fPrime, paren(W(l), v(lMinus), mo('+'), b(l))), tr(v(lMinus)));
      const acc = config.accumulate ? ', summed over the inference states t = 0..T−1' : ', at the settled beliefs';
      return { lines: [math(local)], words: `PC: local, each block from its own error and its input${acc}` };
    }
  }
}

/** The output energy's mean m(μ) (src/train/evaluation.rs `decode`) applied to `p`. */
function mean(config, p) {
  switch (config.output_energy) {
    case 'categorical': return row(op('softmax'), paren(p));
    case 'bernoulli': return row(mi('σ'), paren(p));
    default: return p;
  }
}

/** What m(μ) is, in words. */
const MEAN_WORDS = {
  gaussian: 'the prediction itself, for the Gaussian output energy',
  categorical: 'its softmax, for the categorical output energy',
  bernoulli: 'its sigmoid, for the Bernoulli output energy',
};
const meanWords = (config) => MEAN_WORDS[config.output_energy] ?? MEAN_WORDS.gaussian;

/** The classifier read from the latent (tradeoff): softmax(C v_0 + c). */
const classifierReadout = row(op('softmax'), paren(mi('C'), v(mn(0)), mo('+'), mi('c')));
const pk = row(mi('p'), paren(mi('k'), mo('|'), mi('x')));

/**
 * The class read-out the Classification panel shows, as the experiment reads it
 * (src/train/evaluation.rs `class_probabilities`): the mean of the output energy at the
 * top label layer, the normalised class layer at the bottom, or the classifier on the
 * latent. Returns { lines, words }.
 */
export function readout(config, experiment) {
  const guess = math(mi('guess'), mo('='), sub(op('argmax'), mi('k')), mi('p'), paren(mi('k'), mo('|'), mi('x')));
  if (experiment.classifier) {
    return { lines: [math(pk, mo('='), sub(classifierReadout, mi('k'))), guess],
      words: 'a linear classifier on the latent v₀ inferred from the image alone' };
  }
  if (experiment.bottom === 'label') {
    const v0 = (i) => sub(mi('v'), row(mn(0), mo(',', ','), mi(i)));
    return { lines: [math(pk, mo('='), frac(v0('k'), sumOver(mi('j'), v0('j')))), guess],
      words: `the class layer v₀ inferred with the image clamped on top (T = ${config.steps} steps), normalised` };
  }
  const words = `at the settled beliefs: with the label free, inference leaves every v_l at its prediction μ_l (the feedforward pass), and p is ${meanWords(config)}`;
  if (config.output_energy !== 'categorical') {
    // Scores, not a distribution over classes (src/inspect.rs scores_as_probabilities).
    const m = (i) => sub(mi('m'), i);
    const plus = (i) => row(op('max'), paren(mn(0), mo(',', ','), m(i)));
    return {
      lines: [math(pk, mo('='), frac(plus(mi('k')), sumOver(mi('j'), plus(mi('j'))))),
        math(m(mi('k')), mo('='), sub(mean(config, mu(L)), mi('k'))), math(prediction(config)), guess],
      words: `${words}: scores, not probabilities, so each is clipped at 0 and divided by their sum`,
    };
  }
  return { lines: [math(pk, mo('='), sub(mean(config, mu(L)), mi('k'))), math(prediction(config)), guess], words };
}

/**
 * The reconstruction the Reconstructions panel shows and the MSE it is judged by: the
 * prediction of the image from the inferred latent, or the BP autoencoder's output.
 * Returns { lines, words }.
 */
export function reconstruction(config, experiment) {
  const xhat = mi('x̂');
  const mse = math(mi('MSE'), mo('='), frac(mn(1), mi('N')), sumOver(mi('i'), sup(paren(sub(xhat, mi('i')), mo('−'), sub(mi('x'), mi('i'))), mn(2))));
  if (config.rule === 'bp' && experiment.bottom === 'latent') {
    return { lines: [math(xhat, mo('='), mi('decoder'), paren(mi('encoder'), paren(mi('x')))), mse],
      words: `a BP autoencoder: no inference, the latent is the encoder's output; x̂ is ${meanWords(config)}` };
  }
  const settled = piece(`<msubsup><mi>v</mi><mn>0</mn><mo>*</mo></msubsup>`, 'v_0^*');
  return {
    lines: [math(xhat, mo('='), mean(config, row(sub(mi('μ'), L), paren(settled)))), mse],
    words: `the image predicted top-down from the latent v₀* inferred with the image clamped (T = ${config.steps} steps from v₀ = 0), x̂ is ${meanWords(config)}; N = 784 pixels`,
  };
}

/**
 * The top-down prediction chain the Generation panel shows: a one-hot class at layer 0,
 * each layer predicted from the one below, the image the output energy's mean.
 * Returns { lines, words }.
 */
export function generation(config) {
  const chain = config.form === 'pre'
    ? row(mu(l), mo('='), W(l), mi('f'), paren(mu(lMinus)), mo('+'), b(l))
    : row(mu(l), mo('='), mi('f'), paren(W(l), mu(lMinus), mo('+'), b(l)));
  return {
    lines: [math(mu(mn(0)), mo('='), row(op('onehot'), paren(mi('k')))), math(chain, text(' (l = 1..L)')),
      math(mi('image'), mo('='), mean(config, mu(L)))],
    words: `the class clamped at layer 0 and every layer above set to its prediction; the image is ${meanWords(config)}`,
  };
}

/**
 * The trade-off objective of each rule (src/train/mod.rs `pc_tradeoff`,
 * `bp_through_inference`): the image energy weighted by 1−λ against the classifier's
 * cross-entropy E_c weighted by λ. Returns { lines, words }.
 */
export function tradeoff(config) {
  const lambda = mi('λ');
  const oneMinus = paren(mn(1), mo('−'), lambda);
  const ce = math(row(E(mi('c')), paren(v(mn(0)))), mo('='), mo('−'), sumOver(mi('k'), sub(mi('y'), mi('k')), log, sub(classifierReadout, mi('k'))));
  const vT = row(v(mn(0)), paren(mi('T')));
  return {
    lines: [
      math(text('PC: '), sub(F, lambda), mo('='), oneMinus, F, mo('+'), lambda, row(E(mi('c')), paren(v(mn(0))))),
      // Three pieces, so that a narrow screen breaks the line between them, not inside.
      math(text('BP through inference: ')),
      math(mi('ℓ'), mo('='), oneMinus, row(E(L), paren(mi('x'), mo(',', ', '), row(mu(L), paren(vT))))),
      math(mo('+'), lambda, row(E(mi('c')), paren(vT))),
      ce,
    ],
    words: `PC settles the latent on F_λ and learns locally; BP through inference settles on F alone and backpropagates ℓ through the T = ${config.steps} steps; E_L is the ${OUTPUT_WORDS[config.output_energy] ?? OUTPUT_WORDS.gaussian} energy`,
  };
}

/**
 * The VAE comparison's objectives (src/vae/mod.rs): BP descends the negative ELBO through
 * the sample z = m + e^{s/2} ⊙ ε; PC's energy F sums the Gaussian prediction errors of the
 * free beliefs (h_e, φ = (m, s), h_d), the KL to the prior and the pixels' Bernoulli
 * energy, and equals −ELBO at the feedforward state. `limits` is the schema's `vae`.
 * Returns { lines, words }.
 */
export function vae(limits) {
  const m = mi('m');
  const s = mi('s');
  const z = row(mi('z'), mo('='), m, mo('+'), sup(mi('e'), piece('<mrow><mi>s</mi><mo>/</mo><mn>2</mn></mrow>', '(s/2)')), mo('⊙'), mi('ε'));
  const kl = row(mi('KL'), paren(row(mi('N'), paren(m, mo(',', ', '), sup(mi('e'), s))), mo('‖'), row(mi('N'), paren(mn(0), mo(',', ', '), mi('I')))));
  const bce = row(mi('BCE'), paren(mi('x'), mo(',', ', '), row(mi('a'), paren(mi('z')))));
  const KL = mi('KL');
  return {
    lines: [
      math(text('BP: '), mo('−'), mi('ELBO'), mo('='), bce, mo('+'), KL, mo(',', ', ')),
      math(z, mo(',', ', ')),
      math(KL, mo('='), kl, mo(';', '; ')),
      math(text('PC: '), F, mo('='), sumOver(mi('l'), half, norm2(v(l), mo('−'), mu(l))), mo('+'), KL, mo('+'), bce),
    ],
    words: `the encoder gives the posterior's mean m and log-variance s, the decoder Bernoulli pixel logits a(z); BP backpropagates the negative ELBO through the sample; `
      + `PC holds ε fixed, lets the beliefs on both hidden layers and on (m, s) settle for T = ${limits.inference_steps} steps (rate ${limits.inference_rate}) and learns locally; `
      + `at the feedforward state F = −ELBO; PC weighs the ELBO's terms by β = ${limits.beta}, small, so that its update follows BP's gradient. `
      + `Both train on the same batches and the same ε`,
  };
}

/**
 * What one training step's FLOP count covers under `config.rule` (the estimate of
 * src/cost.rs; the counter counts every product, 2·m·n·k, and every elementwise pass).
 * Returns { lines, words }.
 */
export function cost(config) {
  const B = mi('B');
  const T = mi('T');
  const S = mi('S');
  const n = (i) => sub(mi('n'), mn(i));
  switch (config.rule) {
    case 'bp':
      return { lines: [math(mi('FLOPs'), mo('≈'), mn(6), B, S)],
        words: `BP: a forward pass, the backward pass and the weight gradient, with S weights and batch B = ${config.batch}` };
    case 'bp-through-inference':
      return { lines: [math(mi('FLOPs'), mo('≈'), mn(12), B, S, T)],
        words: `BP through inference: T = ${config.steps} inference steps forward and their reverse, S weights, batch B = ${config.batch}` };
    default: {
      const acc = config.accumulate ? [mo('+'), mn(2), S, T] : [];
      return { lines: [math(mi('FLOPs'), mo('≈'), B, paren(mn(4), piece('<mi>S′</mi>', 'S′'), T, mo('+'), mn(2), n(0), n(1), mo('+'), mn(4), S, ...acc))],
        words: `PC: T = ${config.steps} inference steps, each predicting the layers above a free belief and sending their errors back `
          + `(S′: the weights of blocks with a free input), the clamped input's prediction once, then the weight update; batch B = ${config.batch}`
          + `${config.accumulate ? ', plus the gradient summed over the T states' : ''}` };
    }
  }
}

/** Joins equation lines as HTML: MathML with its text as the accessible label. */
export function html({ lines }) {
  return lines.map((x) => `<span class="eq" title="${escape(x.text)}">${x.mathml}</span>`).join(' ');
}

/**
 * The layers of the network `config` trains, bottom (layer 0) first, as the engine builds
 * them (src/config.rs `sizes`): [{ size, role }] with role 'image', 'label', 'latent' or
 * 'hidden'. `experiment` is the engine's experiment-table row ({ bottom, top }); a BP
 * autoencoder (BP on a latent at the bottom) encodes the image first.
 */
export function layers(config, experiment, { pixels = 784, classes = 10 } = {}) {
  const sizeOf = { image: pixels, label: classes, latent: config.latent };
  const hidden = (sizes) => sizes.map((size) => ({ size, role: 'hidden' }));
  const out = [];
  if (config.rule === 'bp' && experiment.bottom === 'latent') {
    out.push({ size: pixels, role: 'image' }, ...hidden([...config.hidden].reverse()));
  }
  out.push({ size: sizeOf[experiment.bottom], role: experiment.bottom }, ...hidden(config.hidden),
    { size: sizeOf[experiment.top], role: experiment.top });
  return out;
}
