// The module Worker that owns the wasm engine. Weights, beliefs and the data set stay in
// wasm memory; the page receives small metric records and images as transferable typed
// arrays. Training runs in short chunks with a yield between them, so pause, step and
// reset messages are handled promptly and the page never freezes.
import init, { Lab } from './pkg/pclab.js';

const CHUNK_MS = 60; // aim for chunks this long
const VISUALS_MS = 700; // refresh images and energy traces at most this often
const EVAL_SHARE = 3; // evaluate after at least this many times its cost in training
const EVAL_ON_DEMAND_MS = 1000; // pause and step evaluate only when cheaper than this
const N_RECON = 10;
const N_PREDICTIONS = 12;
const N_FIELDS = 40;
const REPLAY_INDEX = 0; // the test digit whose beliefs the inference panel replays
// Experiments that infer a latent to test are evaluated on this many test images spread
// over the test set (an estimate, refreshed often); classify uses the whole test set.
const EVAL_SAMPLES = 500;

let shipped = null; // the shipped MNIST bytes
let custom = null; // { images, labels } IDX bytes the user brought
let configs = []; // one engine config per run
let labs = [];
let running = false;
let chunk = 1;
let lastVisuals = 0;
let trainMs = 0; // training time since the last evaluation
let stepMs = 0; // time per minibatch, the least seen since the build (no warm-up)
let evalMs = null; // how long the last evaluation took
let busy = false;
let scheduled = false;

const post = (msg, transfer = []) => self.postMessage(msg, transfer);
const postError = (err) => post({ type: 'error', message: String(err?.message ?? err) });

function freeLabs() {
  for (const lab of labs) lab.free?.();
  labs = [];
}

/** Builds the runs from `configs`, on the shipped data or the user's. */
function build() {
  freeLabs();
  for (const c of configs) {
    const lab = new Lab(c, shipped);
    labs.push(lab);
    if (custom) lab.setData(custom.images, custom.labels);
  }
  chunk = 1;
  trainMs = stepMs = 0;
  evalMs = null;
}

/**
 * What an evaluation of the test split is expected to cost: as much as the last one,
 * or before any, about as much as training on that many samples.
 */
const expectedEvalMs = () => evalMs ?? 10 * stepMs;
const evaluationDue = () => trainMs > 0 && trainMs >= Math.max(VISUALS_MS, EVAL_SHARE * expectedEvalMs());
const evaluationCheap = () => stepMs > 0 && expectedEvalMs() < EVAL_ON_DEMAND_MS;

/** Builds the runs and tells the page, with their untrained state. */
function rebuild() {
  build();
  post({ type: 'configured' });
  sendVisuals(false);
}

/** Trains every run `n` minibatches; posts their records. */
function trainAll(n) {
  const t0 = performance.now();
  const records = labs.map((lab) => lab.train(n));
  const elapsed = performance.now() - t0;
  trainMs += elapsed;
  stepMs = stepMs ? Math.min(stepMs, elapsed / n) : elapsed / n;
  post({ type: 'records', records });
  return elapsed;
}

/**
 * Energy traces and images of every run, as transferable arrays, and (when `evaluate`)
 * their evaluations on the test split, which can be costly.
 */
function sendVisuals(evaluate) {
  const t0 = performance.now();
  const runs = labs.map((lab, i) => visualsOf(lab, configs[i], evaluate));
  if (evaluate) {
    evalMs = performance.now() - t0;
    trainMs = 0;
  }
  lastVisuals = performance.now();
  const transfer = runs.flatMap((r) => [r.recon, r.predictions?.images, r.fields].filter(Boolean).map((a) => a.buffer));
  post({ type: 'visuals', runs }, transfer);
}

const attempt = (fn) => {
  try {
    return fn();
  } catch {
    return null; // a view this experiment does not have
  }
};

function visualsOf(lab, config, evaluate) {
  return {
    evaluation: evaluate ? lab.evaluate(config.experiment === 'classify' ? undefined : EVAL_SAMPLES) : null,
    trace: attempt(() => lab.energyTrace()),
    recon: config.experiment === 'classify' ? null : attempt(() => lab.reconstructions(N_RECON)),
    predictions: config.experiment === 'compress' ? null : attempt(() => lab.predictions(N_PREDICTIONS)),
    fields: attempt(() => lab.receptiveFields(N_FIELDS)),
    replay: attempt(() => lab.replay(REPLAY_INDEX)),
  };
}

function setRunning(on) {
  running = on;
  post({ type: 'running', running });
  schedule();
}

/** Queues the next chunk (at most one is ever queued). */
function schedule() {
  if (!running || scheduled) return;
  scheduled = true;
  setTimeout(() => {
    scheduled = false;
    loop();
  }, 0);
}

/** One chunk of training, then a yield (setTimeout) so messages get through. */
function loop() {
  if (!running || busy) return;
  try {
    const elapsed = trainAll(chunk);
    chunk = Math.max(1, Math.min(64, Math.round(chunk * (elapsed > 0 ? CHUNK_MS / elapsed : 2))));
    if (performance.now() - lastVisuals > VISUALS_MS) sendVisuals(evaluationDue());
  } catch (err) {
    running = false;
    post({ type: 'running', running });
    postError(`Training stopped: ${err?.message ?? err}. Try a smaller learning rate or inference rate.`);
    return;
  }
  schedule();
}

/** Calls `method` on the first run, with a clear message if the engine lacks it. */
function call(method, ...args) {
  const lab = labs[0];
  if (!lab) throw new Error('The network is not built yet.');
  if (typeof lab[method] !== 'function') throw new Error(`This engine build has no ${method}().`);
  return lab[method](...args);
}

/** Gradient cosines PC vs BP for each inference variant as T runs over `ts`. */
function gradientSweep({ ts, rate }) {
  const variants = { strict: rate, 'fixed-prediction': 1, standard: rate };
  const result = {};
  for (const [variant, r] of Object.entries(variants)) {
    result[variant] = ts.map((t) => call('gradientCosines', variant, t, r));
  }
  return { ts, variants: result };
}

const handlers = {
  async init() {
    await init();
    const res = await fetch(new URL('./data/mnist-10k.bin.gz', import.meta.url));
    if (!res.ok) throw new Error(`The MNIST data could not be fetched (${res.status}).`);
    shipped = new Uint8Array(await res.arrayBuffer());
    post({ type: 'loaded' });
  },
  configure(msg) {
    const wasRunning = running;
    setRunning(false);
    configs = msg.configs;
    rebuild();
    if (wasRunning) setRunning(true);
  },
  play: () => setRunning(true),
  pause: () => {
    setRunning(false);
    sendVisuals(evaluationCheap());
  },
  step() {
    setRunning(false);
    trainAll(1);
    sendVisuals(evaluationCheap());
  },
  reset() {
    setRunning(false);
    rebuild();
  },
  classify: ({ pixels }) => post({ type: 'classified', result: call('classify', pixels) }),
  generate({ label, n }) {
    const images = call('generate', label, n);
    post({ type: 'generated', label, images }, [images.buffer]);
  },
  gradients: (msg) => post({ type: 'gradients', result: gradientSweep(msg) }),
  sweep: ({ lambdas, steps }) => post({ type: 'tradeoff', points: call('sweepTradeoff', lambdas, steps, EVAL_SAMPLES) }),
  bench: () => post({ type: 'bench', rows: Lab.bench(1.0) }),
  save: () => post({ type: 'saved', json: call('save') }),
  load({ json }) {
    setRunning(false);
    const lab = Lab.load(json, shipped);
    if (custom) lab.setData(custom.images, custom.labels);
    freeLabs();
    labs = [lab];
    configs = configs.slice(0, 1);
    sendVisuals(true);
    post({ type: 'model-loaded' });
  },
  setData({ images, labels }) {
    setRunning(false);
    // Validate on a scratch run first, so a bad file leaves the current data in place.
    const probe = new Lab(configs[0], shipped);
    try {
      probe.setData(images, labels);
    } finally {
      probe.free?.();
    }
    custom = { images, labels };
    rebuild();
    post({ type: 'data-set' });
  },
};

self.onmessage = async ({ data }) => {
  const handler = handlers[data.type];
  if (!handler) return postError(`unknown message ${data.type}`);
  busy = true;
  try {
    await handler(data);
  } catch (err) {
    postError(err);
  } finally {
    busy = false;
  }
  schedule();
};

self.addEventListener('unhandledrejection', (e) => {
  e.preventDefault();
  postError(e.reason);
});
