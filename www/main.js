// Page wiring: reads the state from the URL, builds the controls and panels, and talks
// to the worker that owns the engine (protocol.js). The page only draws; it never trains.
// What a setting may be, which panels an experiment has and what a preset is are the
// engine's: the page asks its schema and its parser.
import init, { version, configSchema, configWithSettings, runConfigs, maxReplicas } from './engine-loader.js';
import { readState, writeState, runNames, experimentOf } from './settings.js';
import { REQUEST, REPLY } from './protocol.js';
import { History } from './history.js';
import { fmt, el, runLabel } from './dom.js';
import { RUN_COLORS } from './plots.js';
import { showPanels, applyView, mountFolds, mountTools } from './view.js';
import * as keys from './keys.js';
import * as controls from './panels/controls.js';
import * as intro from './panels/intro.js';
import * as training from './panels/training.js';
import * as inference from './panels/inference.js';
import * as reconstructions from './panels/reconstructions.js';
import * as classification from './panels/classification.js';
import * as generation from './panels/generation.js';
import * as gradients from './panels/gradients.js';
import * as tradeoff from './panels/tradeoff.js';
import * as vae from './panels/vae.js';
import * as cost from './panels/cost.js';
import * as weights from './panels/weights.js';

const PANELS = [intro, training, inference, reconstructions, classification, generation, vae, gradients, tradeoff, cost, weights];

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const errorBox = document.querySelector('.error-box');

/**
 * Shows `message` in the error box until dismissed; one about `settings` (a control's
 * value not applied) also goes once a configuration asked for after it is built.
 */
function showError(message, { settings = false } = {}) {
  $('error').textContent = message;
  errorBox.hidden = false;
  errorBox.dataset.about = settings ? 'settings' : 'other';
  errorBox.dataset.since = String(nextId); // the first request sent after it
}
document.querySelector('.dismiss').addEventListener('click', () => { errorBox.hidden = true; });

/** Subscribers to worker messages, by type. */
const listeners = new Map();
let nextId = 1;

/** The engine as the settings module uses it. */
const engine = {
  schema: null,
  maxReplicas: 1,
  withSettings: (config, keys, values) => configWithSettings(config, keys, values),
  runConfigs: (config, compare) => runConfigs(config, compare),
};

/** The run configs of the last state they were asked for. */
const runsOf = { state: null, configs: [] };

/** What every panel gets: the state, the history, the worker and the message bus. */
const ctx = {
  state: null,
  view: null,
  schema: null,
  engine,
  history: new History(),
  running: false,
  worker: null,
  /**
   * The engine configs of the runs (one, or two when comparing), asked of the engine once
   * per state (every change makes a new state object), not on every redraw.
   */
  runs() {
    if (runsOf.state !== ctx.state) {
      runsOf.configs = engine.runConfigs(ctx.state.config, ctx.state.page.compare);
      runsOf.state = ctx.state;
    }
    return runsOf.configs;
  },
  names: () => runNames(ctx.schema, ctx.runs(), ctx.state.page),
  /** The experiment table's row of the current experiment. */
  experiment: () => experimentOf(ctx.schema, ctx.state.config),
  /** Sends a request (protocol.js); returns its id, which its answer carries as `re`. */
  send(msg, transfer = []) {
    const id = nextId++;
    ctx.worker.postMessage({ ...msg, id }, transfer);
    return id;
  },
  on(type, fn) {
    if (!listeners.has(type)) listeners.set(type, []);
    listeners.get(type).push(fn);
  },
  emit(type, msg) {
    for (const fn of listeners.get(type) ?? []) fn(msg);
  },
  showError,
  /**
   * Applies one setting as the engine parses it; returns null, or the engine's message
   * when it refuses (the state is then unchanged).
   */
  applySetting(name, text) {
    try {
      if (name === 'compare') {
        engine.runConfigs(ctx.state.config, text);
        ctx.setState({ config: ctx.state.config, page: { ...ctx.state.page, compare: text } });
      } else {
        ctx.setState({ config: engine.withSettings(ctx.state.config, [name], [text]), page: ctx.state.page });
      }
      return null;
    } catch (err) {
      return err.message;
    }
  },
  /** Applies new settings: URL, controls, then a fresh network (training continues if it ran). */
  setState(state) {
    leave(state.config);
    ctx.state = state;
    showState();
    configure();
  },
  /** Changes how the page shows the state (view.js): the URL and the layout follow. */
  setView(patch) {
    ctx.view = { ...ctx.view, ...patch };
    applyView(ctx.view);
    showState();
  },
};

/** Leaving the preset for `config`: a preset's lead panel stays while its experiment does. */
function leave(config) {
  const same = config.experiment === ctx.state.config.experiment;
  ctx.view = { ...ctx.view, preset: null, lead: same ? ctx.view.lead : null };
}

/** The URL, the controls and the panels follow the state. */
function showState() {
  history.replaceState(null, '', writeState(ctx.state, ctx.view, ctx.schema));
  controls.refresh(ctx);
  showPanels(ctx);
}

function configure() {
  const runs = ctx.runs();
  ctx.history.reset(runs.length);
  ctx.send({ type: REQUEST.CONFIGURE, configs: runs });
}

function setButtons(enabled) {
  for (const id of ['play', 'pause', 'step', 'reset']) $(id).disabled = !enabled;
}

/**
 * The metric bar: the step, and each run's test metric, energy and throughput; comparing,
 * the runs' names once (a legend under the buttons) and a line per run in each metric,
 * marked by the run's colour (the runs train in lockstep, so the step is shared).
 */
function showMetrics() {
  const runs = ctx.history.runs;
  if (!runs.length) return;
  const engineNames = ctx.names();
  const names = runs.map((_, i) => engineNames[i] ?? `run ${i + 1}`);
  const legend = $('run-legend');
  legend.hidden = runs.length === 1;
  legend.replaceChildren(...(runs.length === 1 ? [] : names.map((name, i) => runLabel(name, RUN_COLORS[i]))));
  $('metric-step').textContent = String(runs[0].last?.step ?? 0);
  const percent = (x) => (x === null || x === undefined ? '–' : (100 * x).toFixed(1));
  const fixed = (x) => (x === null || x === undefined ? '–' : x.toFixed(4));
  const cells = {
    accuracy: (run) => percent(run.evaluation?.accuracy),
    mse: (run) => fixed(run.evaluation?.mse),
    energy: (run) => fmt(run.last?.energy),
    'samples-per-s': (run) => (run.last ? String(Math.round(run.last.samples_per_s)) : '–'),
  };
  for (const [name, value] of Object.entries(cells)) {
    const dd = $(`metric-${name}`);
    if (runs.length === 1) {
      dd.textContent = value(runs[0]);
      dd.dataset.evalStep = runs[0].evalStep.at(-1) ?? '';
    }
    else {
      // data-eval-step: the step of the run's latest evaluation (the test metrics' step).
      dd.replaceChildren(...runs.map((run, i) => el('span', { class: 'metric-run', 'data-run': String(i), 'data-eval-step': run.evalStep.at(-1), title: names[i] },
        runLabel(names[i], RUN_COLORS[i]), el('span', { class: 'metric-value' }, value(run)))));
    }
  }
  // Only what this experiment's test measures (the engine's table): no dash that never fills.
  const { metrics } = ctx.experiment();
  $('metric-accuracy').parentElement.hidden = !metrics.includes('accuracy');
  $('metric-mse').parentElement.hidden = !metrics.includes('mse');
}

function setStatus(text) {
  $('status').textContent = text;
}

function wireButtons() {
  $('play').addEventListener('click', () => ctx.send({ type: REQUEST.PLAY }));
  $('pause').addEventListener('click', () => ctx.send({ type: REQUEST.PAUSE }));
  $('step').addEventListener('click', () => ctx.send({ type: REQUEST.STEP }));
  $('reset').addEventListener('click', () => ctx.send({ type: REQUEST.RESET }));
}

/** A loaded model brings its own configuration: the URL, controls and history follow it. */
function modelLoaded({ config }) {
  leave(config);
  ctx.state = { config, page: { ...ctx.state.page, compare: 'off' } };
  ctx.history.reset(1);
  showState();
}

function onWorkerMessage({ data }) {
  switch (data.type) {
    case REPLY.LOADED:
      ctx.workersStarted = data.workers;
      showWorkers(data.workers);
      if (data.note) showError(data.note);
      configure();
      break;
    case REPLY.CONFIGURED:
      showWorkers(data.workers);
      ctx.history.reset(ctx.runs().length);
      setButtons(true);
      setStatus('ready');
      // ?bench=1: time the fixed workloads in the worker once the engine is ready.
      if (ctx.view.bench && !ctx.benchStarted) {
        ctx.benchStarted = true;
        ctx.send({ type: REQUEST.BENCH });
      }
      break;
    case REPLY.MODEL_LOADED:
      showWorkers(data.workers);
      modelLoaded(data);
      break;
    case REPLY.RUNNING:
      ctx.running = data.running;
      if (data.running) setStatus('training');
      else if ($('status').textContent === 'training') setStatus('paused');
      break;
    case REPLY.RECORDS:
      ctx.history.addRecords(data.records);
      break;
    case REPLY.PROGRESS:
      // A long operation runs in pieces: the status says which and how far.
      if (data.progress !== null) setStatus(`${data.task}… ${Math.round(100 * data.progress)}%`);
      else if (!ctx.running) setStatus(data.stopped ? `${data.task} stopped` : 'ready');
      break;
    case REPLY.VISUALS:
      ctx.history.addEvaluations(data.runs.map((r) => r.evaluation));
      break;
    case REPLY.ERROR:
      if (data.request === REQUEST.CONFIGURE && !ctx.lastGood) {
        // Before any run was built, the page starts from the named preset's own settings
        // (or the defaults), so it is never left without one.
        const preset = ctx.schema.presets.find((p) => p.name === ctx.view.preset);
        const own = preset && JSON.stringify(preset.config) !== JSON.stringify(ctx.state.config);
        ctx.state = own ? { config: preset.config, page: { compare: preset.compare } } : { config: ctx.schema.defaults, page: { compare: 'off' } };
        showError(`${data.request}: ${data.message} The page starts from ${own ? `the ${preset.name} preset's own settings` : 'the default settings'} instead.`);
        showState();
        configure();
      } else if (data.request === REQUEST.CONFIGURE) {
        // The engine keeps the last runs it could build, and so does the page.
        showError(`${data.request}: ${data.message}`);
        ctx.state = ctx.lastGood;
        showState();
      } else {
        showError(data.request ? `${data.request}: ${data.message}` : data.message);
      }
      break;
    default:
  }
  if (data.type === REPLY.CONFIGURED) {
    ctx.lastGood = ctx.state;
    // New settings are in: a configuration asked for after the refusal (not one already
    // under way when it was shown) is built.
    if (errorBox.dataset.about === 'settings' && data.re >= Number(errorBox.dataset.since)) errorBox.hidden = true;
  }
  if ([REPLY.RECORDS, REPLY.VISUALS, REPLY.CONFIGURED, REPLY.MODEL_LOADED].includes(data.type)) showMetrics();
  ctx.emit(data.type, data);
}

async function start() {
  await init();
  $('version').textContent = version();
  ctx.schema = engine.schema = configSchema();
  engine.maxReplicas = maxReplicas();
  const { state, view, errors } = readState(location.search, engine);
  ctx.state = state;
  ctx.view = view;
  if (errors.length) showError(errors.join(' '));
  controls.mount(ctx);
  for (const p of PANELS) p.mount(ctx);
  mountFolds(ctx);
  applyView(view);
  showState();
  wireButtons();
  mountTools(ctx);
  keys.mount(ctx, $);
  ctx.worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  ctx.worker.addEventListener('message', onWorkerMessage);
  ctx.worker.addEventListener('error', (e) => {
    e.preventDefault();
    showError(`The engine worker failed: ${e.message ?? 'unknown error'}`);
  });
  // Asked for N workers: every run is split over them; by default, only runs that gain.
  ctx.send({ type: REQUEST.INIT, workers: ctx.view.workers ?? defaultWorkers(), asked: Boolean(ctx.view.workers) });
}

/**
 * The workers the current runs' steps are split over; where that is fewer than started,
 * the metric says why (the engine judged the steps too short to gain from splitting).
 */
function showWorkers(used) {
  const metric = $('metric-workers');
  metric.textContent = String(used);
  const started = ctx.workersStarted ?? used;
  metric.title = used < started
    ? `${started} workers started; these runs' steps are too short to gain from being split (the engine's cost model), so one worker trains them. ?workers=${started} splits them anyway.`
    : '';
}

/** One worker per core but one (left for the page), at most the engine's limit. */
const defaultWorkers = () => Math.max(1, Math.min(engine.maxReplicas, (navigator.hardwareConcurrency || 2) - 1));

window.addEventListener('unhandledrejection', (e) => {
  e.preventDefault();
  showError(String(e.reason?.message ?? e.reason));
});

start().catch((err) => showError(`The engine could not be loaded: ${err.message ?? err}`));
