// The module Worker that owns the wasm engine. Weights, beliefs and the data set stay in
// wasm memory; the page receives small metric records and images as transferable typed
// arrays. Training runs in short chunks with a yield between them, so pause, step and
// reset messages are handled promptly and the page never freezes. The messages are those
// of protocol.js; which views each run has comes from the engine's experiment table.
import init, { Lab, TradeoffSweep, VaeComparison, Benchmark, benchConfigs, benchMeasurement, configSchema, maxReplicas, beyondGaussianToy } from './engine-loader.js';
import { REQUEST, REPLY } from './protocol.js';
import { Replicas } from './replicas.js';

const CHUNK_MS = 60; // aim for chunks this long
const VISUALS_MS = 700; // refresh images and energy traces at most this often
const EVAL_SHARE = 3; // evaluate after at least this many times its cost in training
const EVAL_ON_DEMAND_MS = 1000; // pause and step evaluate only when cheaper than this
const N_RECON = 10;
const N_PREDICTIONS = 12;
const N_FIELDS = 40;

let schema = null; // the engine's configuration schema
let shipped = null; // the shipped MNIST bytes
let custom = null; // { images, labels } IDX bytes the user brought
let configs = []; // one engine config per run
let labs = [];
let replicas = null; // the other workers each step is split over (replicas.js), if any
let everyRun = false; // split every run over the replicas (?workers=N), not only where it pays
let splitRuns = false; // whether the current runs' steps are split over the replicas
let running = false;
let chunk = 1;
let lastVisuals = 0;
let trainMs = 0; // training time since the last evaluation
let stepMs = 0; // time per minibatch, the least seen since the build (no warm-up)
let evalMs = null; // how long the last evaluation took
let scheduled = false;
// The digit the inference panel replays in every run: a test index, or the digit last
// drawn (`drawn`, its pixels in `lastDrawn`).
let replaying = { index: 0 };
let lastDrawn = null; // the pixels of the last digit classified (the drawing pad's)

const post = (msg, transfer = []) => self.postMessage(msg, transfer);
const postError = (err, request) => post({ type: REPLY.ERROR, ...request, message: String(err?.message ?? err) });

function freeLabs() {
  for (const lab of labs) lab.free?.();
  labs = [];
  if (replaying.drawn) replaying = { index: 0 }; // a drawn digit belongs to the runs that saw it
}

/** The data the runs train on: the user's IDX files, or the shipped set. */
const dataArgs = () => (custom ? [shipped, custom.images, custom.labels] : [shipped]);

/** Builds the runs from `configs` here and in the replicas; on failure the previous runs stay. */
async function build() {
  const built = [];
  try {
    for (const c of configs) built.push(new Lab(c, ...dataArgs()));
  } catch (err) {
    for (const lab of built) lab.free?.();
    throw err;
  }
  freeLabs();
  labs = built;
  await splitOver({ configs, custom });
  chunk = 1;
  trainMs = stepMs = 0;
  evalMs = null;
}

/**
 * Splits the current runs over the replicas (building their copies from `runs`) where the
 * engine says a step gains from it, or everywhere when the page asked for N workers;
 * otherwise the replicas hold no runs.
 */
async function splitOver(runs) {
  const split = Boolean(replicas) && (everyRun || labs.every((lab) => lab.splitPays()));
  splitRuns = false; // until the replicas hold copies of these runs
  try {
    if (split) await replicas.build(runs);
    else await replicas?.free('run');
    splitRuns = split;
  } catch (err) {
    // The runs here are built and stay; replicas that cannot copy them must not be asked
    // for parts (theirs would be of other runs): one worker trains.
    replicas?.free('run').catch(() => {});
    postError(new Error(`the other workers could not take the runs (${err?.message ?? err}); training on one worker`));
  }
}

/** How many workers the current runs' steps are split over. */
const workersUsed = () => (splitRuns ? replicas.count : 1);

/**
 * What an evaluation of the test split is expected to cost: as much as the last one, or
 * before any, the engine's estimate in training steps (the lead evaluates alone, so a
 * step split over the workers counts whole).
 */
const expectedEvalMs = () => evalMs ?? stepMs * workersUsed() * Math.max(...labs.map((lab) => lab.evaluationShare()));
const evaluationDue = () => trainMs > 0 && trainMs >= Math.max(VISUALS_MS, EVAL_SHARE * expectedEvalMs());
const evaluationCheap = () => stepMs > 0 && expectedEvalMs() < EVAL_ON_DEMAND_MS;

/** Builds the runs and tells the page, with their untrained state. */
async function rebuild(re) {
  await build();
  post({ type: REPLY.CONFIGURED, re, workers: workersUsed() });
  sendVisuals(false);
}

/** Trains every run `n` minibatches (over the replicas, if any); posts their records. */
async function trainAll(n) {
  const t0 = performance.now();
  let records = [];
  if (splitRuns) {
    for (let i = 0; i < n; i++) records = await replicas.step(labs);
  } else {
    records = labs.map((lab) => lab.train(n));
  }
  const elapsed = performance.now() - t0;
  if (splitRuns) {
    records = records.map((r, i) => ({ ...r, samples_per_s: (n * configs[i].batch) / Math.max(elapsed / 1000, 1e-3) }));
  }
  trainMs += elapsed;
  stepMs = stepMs ? Math.min(stepMs, elapsed / n) : elapsed / n;
  post({ type: REPLY.RECORDS, records });
  return elapsed;
}

/**
 * Energy traces and images of every run, as transferable arrays, and (when `evaluate`)
 * their evaluations on the test split, which can be costly.
 */
function sendVisuals(evaluate, re) {
  const t0 = performance.now();
  const runs = labs.map((lab, i) => visualsOf(lab, configs[i], evaluate));
  if (evaluate) {
    evalMs = performance.now() - t0;
    trainMs = 0;
  }
  lastVisuals = performance.now();
  const transfer = runs.flatMap((r) => [r.recon, r.predictions?.images, r.fields].filter(Boolean).map((a) => a.buffer));
  post({ type: REPLY.VISUALS, re, runs, replaying }, transfer);
}

/** The row of the engine's experiment table for `config`'s experiment. */
const experimentOf = (config) => schema.experiments.find((e) => e.name === config.experiment);

/**
 * Every view the run's experiment has (the engine's table), and nothing else; evaluated
 * on as many test images as the table says (null: the whole test split).
 */
function visualsOf(lab, config, evaluate) {
  const { views, test_samples: samples } = experimentOf(config);
  const has = (view) => views.includes(view);
  return {
    evaluation: evaluate ? lab.evaluate(samples ?? undefined) : null,
    trace: lab.energyTrace(),
    recon: has('reconstructions') ? lab.reconstructions(N_RECON) : null,
    predictions: has('classification') ? lab.predictions(N_PREDICTIONS) : null,
    fields: has('weights') ? lab.receptiveFields(N_FIELDS) : null,
    replay: has('inference') ? replayIn(lab, replaying) : null,
  };
}

/** `lab`'s replay of the digit `which` names (see `replaying`). */
const replayIn = (lab, which) => (which.drawn ? lab.replayPixels(lastDrawn) : lab.replay(which.index));

function setRunning(on, re) {
  running = on;
  post({ type: REPLY.RUNNING, re, running });
  schedule();
}

/**
 * A long operation run in small pieces with a yield between chunks, like training, so
 * pause, reset and new settings interrupt it: { task, request, id, advance() → done,
 * progress() → 0..1, finish() → the reply }.
 */
let job = null;

/** Queues the next chunk (at most one is ever queued). */
function schedule() {
  if ((!running && !job) || scheduled) return;
  scheduled = true;
  setTimeout(() => {
    scheduled = false;
    serial(loop);
  }, 0);
}

/** Starts a long operation; a running one is stopped first. */
function startJob(next) {
  stopJob();
  setRunning(false);
  job = next;
  post({ type: REPLY.PROGRESS, task: job.task, progress: 0 });
  schedule();
}

/** Stops the long operation, if one runs, and says so. */
function stopJob() {
  if (!job) return;
  post({ type: REPLY.PROGRESS, task: job.task, progress: null, stopped: true });
  job.free?.();
  job = null;
}

/** One chunk of the long operation, about CHUNK_MS (a piece may wait for the replicas). */
async function jobChunk() {
  const t0 = performance.now();
  try {
    while (performance.now() - t0 < CHUNK_MS) {
      if (await job.advance()) {
        const done = job;
        job = null;
        post({ ...done.finish(), re: done.id });
        post({ type: REPLY.PROGRESS, task: done.task, progress: null });
        await done.free?.();
        return;
      }
    }
    post({ type: REPLY.PROGRESS, task: job.task, progress: job.progress() });
  } catch (err) {
    const failed = job;
    job = null;
    failed.free?.();
    postError(err, { re: failed.id, request: failed.request });
    post({ type: REPLY.PROGRESS, task: failed.task, progress: null, stopped: true });
  }
}

/**
 * Runs `fn` after everything queued before it: requests and training chunks never
 * interleave, even while a step waits for the replicas.
 */
let queue = Promise.resolve();
function serial(fn) {
  const done = queue.then(fn);
  queue = done.catch(() => {});
  return done;
}

/** One chunk of a long operation or of training, then a yield so messages get through. */
async function loop() {
  if (job) {
    await jobChunk();
    schedule();
    return;
  }
  if (!running) return;
  try {
    const elapsed = await trainAll(chunk);
    chunk = Math.max(1, Math.min(64, Math.round(chunk * (elapsed > 0 ? CHUNK_MS / elapsed : 2))));
    if (performance.now() - lastVisuals > VISUALS_MS) sendVisuals(evaluationDue());
  } catch (err) {
    setRunning(false);
    postError(`Training stopped: ${err?.message ?? err}. Try a smaller learning rate or inference rate.`);
    return;
  }
  schedule();
}

/** The first run, which the single-run views ask. */
function first() {
  if (!labs[0]) throw new Error('The network is not built yet.');
  return labs[0];
}

/** Gradient cosines PC vs BP for each inference variant as T runs over `ts`, one per piece. */
function gradientJob({ id, ts, rate }) {
  const variants = first().gradientVariants(rate); // the methods this run allows, in order
  const tasks = variants.flatMap((v) => ts.map((t) => [v.inference, t, v.rate]));
  const result = Object.fromEntries(variants.map((v) => [v.inference, []]));
  let done = 0;
  return {
    task: 'gradient cosines',
    request: REQUEST.GRADIENTS,
    id,
    advance() {
      const [variant, t, r] = tasks[done++];
      result[variant].push(first().gradientCosines(variant, t, r));
      return done === tasks.length;
    },
    progress: () => done / tasks.length,
    finish: () => ({ type: REPLY.GRADIENTS, result: { ts, variants: result } }),
  };
}

/** The λ sweep (both rules, `seeds` seeds per λ), a few training steps per piece. */
function sweepJob({ id, lambdas, seeds, steps }) {
  // Tested as the run's experiment is while it trains (a sample of the test split).
  const sweep = new TradeoffSweep(first(), lambdas, seeds, steps, experimentOf(configs[0]).test_samples);
  return {
    task: 'λ sweep',
    request: REQUEST.SWEEP,
    id,
    advance: () => sweep.advance(1),
    progress: () => sweep.progress(),
    finish: () => ({ type: REPLY.TRADEOFF, points: sweep.points(), summary: sweep.summary() }),
    free: () => sweep.free(),
  };
}

/** The VAE comparison (src/vae): BP and PC side by side, a training step per piece. */
function vaeJob({ id, steps, seed, images }) {
  const vae = new VaeComparison(first(), steps, seed, experimentOf(configs[0]).test_samples);
  return {
    task: 'VAE',
    request: REQUEST.VAE,
    id,
    advance: () => vae.advance(1),
    progress: () => vae.progress(),
    finish: () => ({
      type: REPLY.VAE, history: vae.history(), images,
      reconstructions: vae.reconstructions(images), samples: vae.samples(images, seed),
    }),
    free: () => vae.free(),
  };
}

/** The training workloads also timed split over every worker (when there are replicas). */
// BP last: timed after the split BP steps, the split compression steps ran at one
// worker's speed from their fourth step on (session 6; cause not found, see #11).
const SPLIT_BENCH = ['pc_classification_step', 'pc_compression_step', 'bp_classification_step'];
const SPLIT_BENCH_MS = 1000;

/**
 * The training workload `config` split over every worker, on the shipped data: steps for
 * about SPLIT_BENCH_MS after as long a warm-up (a replica's functions, fresh, run in
 * Chromium's baseline tier for a while), each timed; the engine makes the row.
 */
async function timeSplit({ name, label, config }) {
  const lab = new Lab(config, shipped);
  try {
    await replicas.build({ slot: 'bench', configs: [config] });
    for (const w0 = performance.now(); performance.now() - w0 < SPLIT_BENCH_MS;) {
      await replicas.step([lab], 'bench');
    }
    const times = [];
    let flops = 0;
    for (const t0 = performance.now(); performance.now() - t0 < SPLIT_BENCH_MS || times.length < 3;) {
      const t = performance.now();
      flops = (await replicas.step([lab], 'bench'))[0].flops_step;
      times.push(performance.now() - t);
    }
    const row = benchMeasurement(times, flops, config.batch);
    return { ...row, name, label, workers: replicas.count };
  } finally {
    lab.free();
    await replicas.free('bench');
  }
}

/** The benchmark workloads, one run per piece; then those split over every worker. */
function benchJob({ id }) {
  const bench = new Benchmark(1.0);
  const workloads = benchConfigs(); // not the runs' `configs`
  const split = replicas ? SPLIT_BENCH.map((name) => workloads.find((w) => w.name === name)) : [];
  const rows = [];
  let engineDone = false;
  return {
    task: 'benchmark',
    request: REQUEST.BENCH,
    id,
    async advance() {
      if (!engineDone) {
        engineDone = bench.advance();
        return engineDone && split.length === 0;
      }
      rows.push(await timeSplit(split[rows.length]));
      return rows.length === split.length;
    },
    progress: () => (bench.progress() + rows.length) / (1 + split.length),
    finish: () => ({ type: REPLY.BENCH, rows: [...bench.results().map((r) => ({ ...r, workers: 1 })), ...rows] }),
    free: () => bench.free(),
  };
}

/** One handler per request; each answers with its reply (protocol.js ANSWER). */
const handlers = {
  async [REQUEST.INIT]({ id, workers = 1, asked = false }) {
    everyRun = asked;
    await init();
    schema = configSchema();
    const res = await fetch(new URL('./data/mnist-10k.bin.gz', import.meta.url));
    if (!res.ok) throw new Error(`The MNIST data could not be fetched (${res.status}).`);
    shipped = new Uint8Array(await res.arrayBuffer());
    const count = Math.max(1, Math.min(maxReplicas(), Math.floor(workers) || 1));
    let note = null;
    if (count > 1) {
      replicas = await Replicas.start(count, shipped).catch((err) => {
        note = `Training on one worker: the others could not start (${err?.message ?? err}).`;
        return null;
      });
    }
    post({ type: REPLY.LOADED, re: id, workers: replicas?.count ?? 1, note });
  },
  async [REQUEST.CONFIGURE]({ id, configs: next }) {
    stopJob();
    const wasRunning = running;
    setRunning(false);
    const previous = configs;
    configs = next;
    try {
      await rebuild(id);
    } catch (err) {
      configs = previous;
      throw err;
    }
    if (wasRunning) setRunning(true);
  },
  [REQUEST.PLAY]({ id }) {
    stopJob();
    setRunning(true, id);
  },
  [REQUEST.PAUSE]({ id }) {
    stopJob();
    setRunning(false, id);
    sendVisuals(evaluationCheap());
  },
  async [REQUEST.STEP]({ id }) {
    stopJob();
    setRunning(false);
    await trainAll(1);
    sendVisuals(evaluationCheap(), id);
  },
  async [REQUEST.RESET]({ id }) {
    stopJob();
    setRunning(false);
    await rebuild(id);
  },
  [REQUEST.CLASSIFY]({ id, pixels }) {
    const result = first().classify(pixels);
    lastDrawn = pixels;
    post({ type: REPLY.CLASSIFIED, re: id, result });
  },
  [REQUEST.GENERATE]({ id, classes, count, noise, seed, pixels }) {
    const lab = first();
    const images = classes.map((k) => lab.sample(k, count, noise, seed, pixels));
    const model = lab.noiseModel();
    post({ type: REPLY.GENERATED, re: id, classes, count, noise, seed, images, model }, images.map((a) => a.buffer));
  },
  [REQUEST.GRADIENTS]: (msg) => startJob(gradientJob(msg)),
  [REQUEST.BEYOND_GAUSSIAN]: ({ id, settings }) => post({ type: REPLY.BEYOND_GAUSSIAN, re: id, result: beyondGaussianToy(settings) }),
  [REQUEST.SWEEP]: (msg) => startJob(sweepJob(msg)),
  [REQUEST.VAE]: (msg) => startJob(vaeJob(msg)),
  [REQUEST.BENCH]: (msg) => startJob(benchJob(msg)),
  [REQUEST.SAVE]: ({ id }) => post({ type: REPLY.SAVED, re: id, json: first().save() }),
  async [REQUEST.LOAD]({ id, json }) {
    stopJob();
    setRunning(false);
    const lab = Lab.load(json, ...dataArgs());
    freeLabs();
    labs = [lab];
    configs = [lab.config()];
    await splitOver({ model: json, custom });
    post({ type: REPLY.MODEL_LOADED, re: id, config: configs[0], workers: workersUsed() });
    sendVisuals(true);
  },
  async [REQUEST.SET_DATA]({ id, images, labels }) {
    stopJob();
    setRunning(false);
    const previous = custom;
    custom = { images, labels };
    try {
      await rebuild();
    } catch (err) {
      custom = previous; // a bad file leaves the current data in place
      throw err;
    }
    post({ type: REPLY.DATA_SET, re: id });
  },
  [REQUEST.REPLAY]({ id, index, drawn, leastExplained }) {
    if (drawn && !lastDrawn) throw new Error('Draw a digit on the pad first.');
    const which = drawn ? { drawn: true } : { index: leastExplained ? first().leastExplained() : index };
    const replays = labs.map((lab) => replayIn(lab, which));
    replaying = which; // only once the engine accepted it
    post({ type: REPLY.REPLAY, re: id, replaying, replays });
  },
};

self.onmessage = ({ data }) => serial(async () => {
  const handler = Object.hasOwn(handlers, data.type) ? handlers[data.type] : null;
  if (!handler) return postError(`unknown request ${data.type}`, { re: data.id, request: data.type });
  try {
    await handler(data);
  } catch (err) {
    postError(err, { re: data.id, request: data.type });
  }
  schedule();
});

self.addEventListener('unhandledrejection', (e) => {
  e.preventDefault();
  postError(e.reason);
});
