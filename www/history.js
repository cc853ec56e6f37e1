// The metric history of each run: training records (per chunk) and evaluations (per
// visual refresh), as column arrays ready for the charts and the CSV export.

const MAX_POINTS = 4000; // beyond this, every other training point is dropped

function emptyRun() {
  return { step: [], loss: [], energy: [], flops: [], evalStep: [], evalFlops: [], accuracy: [], mse: [], last: null, evaluation: null };
}

export class History {
  constructor() {
    this.runs = [];
  }

  reset(nRuns) {
    this.runs = Array.from({ length: nRuns }, emptyRun);
  }

  /** One training record per run. */
  addRecords(records) {
    records.forEach((r, i) => {
      const run = this.runs[i];
      if (!run) return;
      run.last = r;
      run.step.push(r.step);
      run.loss.push(r.loss);
      run.energy.push(r.energy);
      run.flops.push(r.flops_total);
      if (run.step.length > MAX_POINTS) {
        for (const k of ['step', 'loss', 'energy', 'flops']) run[k] = run[k].filter((_, j) => j % 2 === 0);
      }
    });
  }

  /** One evaluation per run, taken after the run's latest record. */
  addEvaluations(evaluations) {
    evaluations.forEach((e, i) => {
      const run = this.runs[i];
      if (!run || !e) return;
      run.evaluation = e;
      const step = run.last?.step ?? 0;
      if (run.evalStep.at(-1) === step) return;
      run.evalStep.push(step);
      run.evalFlops.push(run.last?.flops_total ?? 0);
      run.accuracy.push(e.accuracy === null || e.accuracy === undefined ? null : 100 * e.accuracy);
      run.mse.push(e.mse ?? null);
    });
  }

  /** CSV rows: run, step, loss, energy, flops, accuracy %, mse (evaluations joined by step). */
  csvRows(names) {
    const rows = [];
    this.runs.forEach((run, i) => {
      const evals = new Map(run.evalStep.map((s, j) => [s, j]));
      run.step.forEach((s, j) => {
        const e = evals.get(s);
        rows.push([names[i], s, run.loss[j], run.energy[j], run.flops[j], e === undefined ? '' : run.accuracy[e], e === undefined ? '' : run.mse[e]]);
      });
    });
    return rows;
  }
}

export const CSV_HEADER = ['run', 'step', 'loss', 'energy', 'flops_total', 'accuracy_percent', 'mse'];
