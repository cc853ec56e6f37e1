// Panel 2, Training curves: loss and energy, and test accuracy (or reconstruction MSE),
// against training step; both runs on one chart when comparing.
import { panel, button, el, stylesheet } from '../dom.js';
import { chartSlot, align, pngButton, saveCSV, RUN_COLORS, OKABE_ITO } from '../plots.js';
import * as equations from '../equations.js';
import { seeingLine } from './seeing.js';
import { CSV_HEADER } from '../history.js';
import { REPLY } from '../protocol.js';

const METRIC_LABELS = { accuracy: 'test accuracy %', mse: 'reconstruction MSE' };
/** Each run's energy: a colour of its own (beside its loss's) and a dashed line. */
const ENERGY_COLORS = [OKABE_ITO.sky, OKABE_ITO.orange];

/** What a run's loss measures under its learning rule. */
const LOSS_WORDS = {
  pc: 'the output energy after inference',
  bp: 'the output energy at the feedforward prediction',
  'bp-through-inference': 'the outer loss on the settled latent',
};

/** The help's sentence on what each run's loss is (both runs when comparing). */
function lossSentence(ctx) {
  const runs = ctx.runs();
  const names = ctx.names();
  const each = runs.map((c, i) => `${names[i]} loss: ${LOSS_WORDS[c.rule] ?? 'its training loss'}`);
  if (runs.length < 2) return `${each[0]}. `;
  // Only a PC run against a BP run reads its loss at other beliefs than the other's.
  const rules = new Set(runs.map((c) => c.rule));
  const why = rules.has('pc') && rules.size > 1
    ? 'Both measure the output energy, at different beliefs: inference moves the beliefs to explain the clamped data, '
      + 'so a PC loss reads lower than the same network\'s feedforward loss would; the test metric below compares like with like. '
    : 'The test metric below compares the runs on the same test digits. ';
  return `Comparing: ${each.join('; ')}. ${why}`;
}

/** The evaluation the current experiment is judged by (the first its test measures). */
export const judgedBy = (ctx) => {
  const key = ctx.experiment().metrics[0];
  return { key, label: METRIC_LABELS[key] };
};

export function mount(ctx) {
  stylesheet(new URL('./inference.css', import.meta.url)); // the equations' styles
  const { section, tools, body } = panel({ name: 'training', title: 'Training curves', help: 'Loss (solid) and total energy F after inference (dashed, lighter colour) per minibatch; the test metric at each refresh.' });
  seeingLine(ctx, section, (config) => `${lossSentence(ctx)}The energy: ${equations.html({ lines: equations.energy(config).lines.slice(0, 1) })} (${equations.energy(config).words}).`);
  const lossEl = el('div', { class: 'chart', 'data-testid': 'plot-training' });
  const evalEl = el('div', { class: 'chart', 'data-testid': 'plot-evaluation' });
  body.append(lossEl, evalEl);
  const loss = chartSlot(lossEl);
  const evaluation = chartSlot(evalEl);
  tools.append(
    button('CSV', () => saveCSV(CSV_HEADER, ctx.history.csvRows(ctx.names()), 'pclab-curves.csv'), { 'data-testid': 'export-csv' }),
    pngButton(() => loss.chart?.canvas, 'pclab-training.png'),
  );

  let queued = false;
  const draw = () => {
    queued = false;
    const names = ctx.names();
    const runs = ctx.history.runs;
    const key = names.join('|');
    const lossSeries = names.flatMap((n, i) => [
      { label: `${n} loss`, color: RUN_COLORS[i] },
      { label: `${n} energy (dashed)`, color: ENERGY_COLORS[i], dash: [5, 4] },
    ]);
    // A log scale once the curves span two orders of magnitude (the tutorial's energy
    // starts near 70 while its loss ends near 0.1): on a linear one the loss lies flat.
    let [lo, hi, positive] = [Infinity, 0, true];
    for (const r of runs) {
      for (const v of [...r.loss, ...r.energy]) {
        if (!Number.isFinite(v)) continue;
        if (v <= 0) positive = false;
        [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
      }
    }
    const logY = positive && hi > 100 * lo;
    lossEl.dataset.scale = logY ? 'log' : 'linear';
    loss.show(`${key}|${logY}`, lossSeries, { x: 'step', y: logY ? 'loss / energy (log scale)' : 'loss / energy', logY })
      .setData(align(runs.flatMap((r) => [[r.step, r.loss], [r.step, r.energy]])));
    const judged = judgedBy(ctx);
    evaluation.show(`${key}|${judged.key}`, names.map((n, i) => ({ label: n, color: RUN_COLORS[i], points: true })), { x: 'step', y: judged.label })
      .setData(align(runs.map((r) => [r.evalStep, r[judged.key]])));
  };
  const queue = () => {
    if (!queued) requestAnimationFrame(draw);
    queued = true;
  };
  for (const type of [REPLY.RECORDS, REPLY.VISUALS, REPLY.CONFIGURED, REPLY.MODEL_LOADED]) ctx.on(type, queue);
}
