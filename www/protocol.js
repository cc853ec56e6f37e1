// The messages between the page and the engine's worker, in one place. Every request
// carries an `id`; the worker's answer to it carries the same `id` as `re`, and a failed
// request is answered by an ERROR that names the request and carries the engine's message.
// Notices (RUNNING, RECORDS, VISUALS while training) carry no `re`.

/** What the page asks of the worker. */
export const REQUEST = Object.freeze({
  INIT: 'init',
  CONFIGURE: 'configure',
  PLAY: 'play',
  PAUSE: 'pause',
  STEP: 'step',
  RESET: 'reset',
  CLASSIFY: 'classify',
  GENERATE: 'generate',
  GRADIENTS: 'gradients',
  BEYOND_GAUSSIAN: 'beyondGaussian',
  SWEEP: 'sweep',
  VAE: 'vae',
  BENCH: 'bench',
  SAVE: 'save',
  LOAD: 'load',
  SET_DATA: 'setData',
  REPLAY: 'replay',
});

/** What the worker tells the page. */
export const REPLY = Object.freeze({
  LOADED: 'loaded',
  CONFIGURED: 'configured',
  RUNNING: 'running',
  RECORDS: 'records',
  VISUALS: 'visuals',
  CLASSIFIED: 'classified',
  GENERATED: 'generated',
  GRADIENTS: 'gradients',
  BEYOND_GAUSSIAN: 'beyond-gaussian',
  TRADEOFF: 'tradeoff',
  VAE: 'vae',
  BENCH: 'bench',
  SAVED: 'saved',
  MODEL_LOADED: 'model-loaded',
  DATA_SET: 'data-set',
  REPLAY: 'replay',
  ERROR: 'error',
  PROGRESS: 'progress',
});

/** The reply that answers each request (play and pause answer with RUNNING). */
export const ANSWER = Object.freeze({
  [REQUEST.INIT]: REPLY.LOADED,
  [REQUEST.CONFIGURE]: REPLY.CONFIGURED,
  [REQUEST.PLAY]: REPLY.RUNNING,
  [REQUEST.PAUSE]: REPLY.RUNNING,
  [REQUEST.STEP]: REPLY.VISUALS,
  [REQUEST.RESET]: REPLY.CONFIGURED,
  [REQUEST.CLASSIFY]: REPLY.CLASSIFIED,
  [REQUEST.GENERATE]: REPLY.GENERATED,
  [REQUEST.GRADIENTS]: REPLY.GRADIENTS,
  [REQUEST.BEYOND_GAUSSIAN]: REPLY.BEYOND_GAUSSIAN,
  [REQUEST.SWEEP]: REPLY.TRADEOFF,
  [REQUEST.VAE]: REPLY.VAE,
  [REQUEST.BENCH]: REPLY.BENCH,
  [REQUEST.SAVE]: REPLY.SAVED,
  [REQUEST.LOAD]: REPLY.MODEL_LOADED,
  [REQUEST.SET_DATA]: REPLY.DATA_SET,
  [REQUEST.REPLAY]: REPLY.REPLAY,
});

/**
 * @typedef {object} Config An engine configuration (see src/config.rs).
 * @typedef {{ type: 'init', id: number, workers: number, asked: boolean }} InitRequest
 *   Start `workers` workers; `asked` (?workers=N): split every run over them, not only
 *   the runs whose steps gain from it.
 * @typedef {{ type: 'configure', id: number, configs: Config[] }} ConfigureRequest
 *   One config per run; two when comparing.
 * @typedef {{ type: 'play'|'pause'|'step'|'reset'|'bench'|'save', id: number }} ControlRequest
 * @typedef {{ type: 'classify', id: number, pixels: Float32Array }} ClassifyRequest
 *   784 pixels in [0, 1].
 * @typedef {{ type: 'generate', id: number, classes: number[], count: number, noise: number, seed: number, pixels: boolean }} GenerateRequest
 *   `count` samples of each class at noise scale `noise` (0: the mean prediction); answered by
 *   { classes, count, noise, seed, images: one Float32Array per class, model: the noise model }.
 * @typedef {{ type: 'gradients', id: number, ts: number[], rate: number }} GradientsRequest
 * @typedef {{ type: 'beyondGaussian', id: number, settings: object }} BeyondGaussianRequest
 * @typedef {{ type: 'sweep', id: number, lambdas: number[], seeds: number, steps: number }} SweepRequest
 *   Both rules, `seeds` seeds from the run's own, `steps` minibatches per run.
 * @typedef {{ type: 'vae', id: number, steps: number, seed: number, images: number }} VaeRequest
 *   A VAE trained by BP and one by PC side by side (src/vae), `steps` minibatches from
 *   `seed`; answered by { history, images, reconstructions, samples } (`images` test digits
 *   then each rule's reconstructions; `images` prior samples of BP's decoder then PC's).
 * @typedef {{ type: 'load', id: number, json: string }} LoadRequest
 * @typedef {{ type: 'setData', id: number, images: Uint8Array, labels: Uint8Array }} SetDataRequest
 * @typedef {{ type: 'replay', id: number, index?: number, drawn?: boolean, leastExplained?: boolean }} ReplayRequest
 *   Replay, in every run, test digit `index`, the digit last drawn (`drawn`) or the test
 *   digit the first run explains worst (`leastExplained`): now, and in every VISUALS from then on.
 *
 * @typedef {{ type: 'loaded', re: number, workers: number, note: string|null }} Loaded
 *   The engine and data are ready; training is split over `workers` workers (`note`: why
 *   fewer than asked).
 * @typedef {{ type: 'configured', re?: number, workers: number }} Configured The runs are built,
 *   untrained; their steps are split over `workers` workers.
 * @typedef {{ type: 'running', re?: number, running: boolean }} Running
 * @typedef {{ type: 'records', records: object[] }} Records One step record per run.
 * @typedef {{ type: 'visuals', re?: number, runs: object[], replaying: object }} Visuals
 *   Per run: evaluation, trace, recon, predictions, fields, replay (those its experiment has);
 *   `replaying`: which digit the replays show, `{ index }` or `{ drawn: true }`.
 * @typedef {{ type: 'model-loaded', re: number, config: Config, workers: number }} ModelLoaded
 *   The loaded model's own configuration: the page's state follows it.
 * @typedef {{ type: 'replay', re: number, replaying: object, replays: object[] }} ReplayReply
 *   Every run's replay of that digit (src/inspect.rs Replay); `replaying` as in Visuals.
 * @typedef {{ type: 'tradeoff', re: number, points: object[], summary: object[] }} TradeoffReply
 *   Every run of the λ sweep, and the mean ± sd over the seeds per rule and λ (src/sweep.rs).
 * @typedef {{ type: 'beyond-gaussian', re: number, result: object }} BeyondGaussianReply
 *   The beyond-Gaussian toy (src/beyond_gaussian.rs Toy): cosines with BP per T and block,
 *   test-loss curves, per rule.
 * @typedef {{ type: 'error', re?: number, request?: string, message: string }} ErrorReply
 * @typedef {{ type: 'progress', task: string, progress: number|null, stopped?: boolean }} Progress
 *   A long operation (λ sweep, benchmark, gradient cosines) running in pieces: its share
 *   done, or null when it ended (`stopped` when pause, reset or new settings cut it short).
 */
