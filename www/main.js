// Page wiring: reads the state from the URL, builds the controls and panels, and talks
// to the worker that owns the engine. The page only draws; it never trains.
import init, { version, defaultConfig, presetConfig, Lab } from './pkg/pclab.js';
import { readState, writeState, runConfigs, runNames } from './settings.js';
import { History } from './history.js';
import { fmt } from './dom.js';
import * as controls from './panels/controls.js';
import * as training from './panels/training.js';
import * as inference from './panels/inference.js';
import * as reconstructions from './panels/reconstructions.js';
import * as classification from './panels/classification.js';
import * as generation from './panels/generation.js';
import * as gradients from './panels/gradients.js';
import * as tradeoff from './panels/tradeoff.js';
import * as cost from './panels/cost.js';
import * as weights from './panels/weights.js';

const PANELS = [training, inference, reconstructions, classification, generation, gradients, tradeoff, cost, weights];

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const errorBox = document.querySelector('.error-box');

function showError(message) {
  $('error').textContent = message;
  errorBox.hidden = false;
}
document.querySelector('.dismiss').addEventListener('click', () => { errorBox.hidden = true; });

/** Subscribers to worker messages, by type. */
const listeners = new Map();

/** What every panel gets: the state, the history, the worker and the message bus. */
const ctx = {
  state: null,
  view: null,
  history: new History(),
  running: false,
  worker: null,
  names: () => runNames(ctx.state),
  /** Whether this engine build's Lab has `method` (some views need newer engines). */
  engineHas: (method) => typeof Lab.prototype[method] === 'function' || typeof Lab[method] === 'function',
  send(msg, transfer = []) {
    ctx.worker.postMessage(msg, transfer);
  },
  on(type, fn) {
    if (!listeners.has(type)) listeners.set(type, []);
    listeners.get(type).push(fn);
  },
  emit(type, msg) {
    for (const fn of listeners.get(type) ?? []) fn(msg);
  },
  showError,
  /** Applies new settings: URL, then a fresh network (training continues if it ran). */
  setState(state) {
    ctx.state = state;
    ctx.view = { ...ctx.view, preset: null };
    history.replaceState(null, '', writeState(state, ctx.view));
    configure();
  },
};

function configure() {
  ctx.history.reset(runConfigs(ctx.state).length);
  ctx.send({ type: 'configure', configs: runConfigs(ctx.state) });
}

function setButtons(enabled) {
  for (const id of ['play', 'pause', 'step', 'reset']) $(id).disabled = !enabled;
}

function showMetrics() {
  const run = ctx.history.runs[0];
  if (!run) return;
  const r = run.last;
  $('metric-step').textContent = String(r?.step ?? 0);
  $('metric-energy').textContent = fmt(r?.energy);
  $('metric-samples-per-s').textContent = r ? String(Math.round(r.samples_per_s)) : '–';
  const e = run.evaluation;
  $('metric-accuracy').textContent = e?.accuracy === null || e?.accuracy === undefined ? '–' : (100 * e.accuracy).toFixed(1);
  $('metric-mse').textContent = e?.mse === null || e?.mse === undefined ? '–' : e.mse.toFixed(4);
}

function setStatus(text) {
  $('status').textContent = text;
}

function wireButtons() {
  $('play').addEventListener('click', () => ctx.send({ type: 'play' }));
  $('pause').addEventListener('click', () => ctx.send({ type: 'pause' }));
  $('step').addEventListener('click', () => ctx.send({ type: 'step' }));
  $('reset').addEventListener('click', () => ctx.send({ type: 'reset' }));
}

function onWorkerMessage({ data }) {
  switch (data.type) {
    case 'loaded':
      configure();
      break;
    case 'configured':
      ctx.history.reset(runConfigs(ctx.state).length);
      setButtons(true);
      setStatus('ready');
      // ?bench=1: time the fixed workloads in the worker once the engine is ready.
      if (ctx.view.bench && !ctx.benchStarted) {
        ctx.benchStarted = true;
        ctx.send({ type: 'bench' });
      }
      break;
    case 'running':
      ctx.running = data.running;
      if (data.running) setStatus('training');
      else if ($('status').textContent === 'training') setStatus('paused');
      break;
    case 'records':
      ctx.history.addRecords(data.records);
      break;
    case 'visuals':
      ctx.history.addEvaluations(data.runs.map((r) => r.evaluation));
      break;
    case 'error':
      showError(data.message);
      break;
    default:
  }
  if (['records', 'visuals', 'configured'].includes(data.type)) showMetrics();
  ctx.emit(data.type, data);
}

function applyView(view) {
  document.body.classList.toggle('embed', view.embed);
  for (const name of view.hide) {
    for (const node of document.querySelectorAll(`[data-name="${CSS.escape(name)}"]`)) node.hidden = true;
  }
}

async function start() {
  await init();
  $('version').textContent = version();
  const { state, view, errors } = readState(location.search, { defaultConfig, presetConfig });
  ctx.state = state;
  ctx.view = view;
  if (errors.length) showError(errors.join(' '));
  controls.mount(ctx);
  for (const p of PANELS) p.mount(ctx);
  applyView(view);
  wireButtons();
  ctx.worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  ctx.worker.addEventListener('message', onWorkerMessage);
  ctx.worker.addEventListener('error', (e) => {
    e.preventDefault();
    showError(`The engine worker failed: ${e.message ?? 'unknown error'}`);
  });
  ctx.send({ type: 'init' });
}

window.addEventListener('unhandledrejection', (e) => {
  e.preventDefault();
  showError(String(e.reason?.message ?? e.reason));
});

start().catch((err) => showError(`The engine could not be loaded: ${err.message ?? err}`));
