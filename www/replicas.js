// Data parallelism for the training worker: every run is replicated in `count − 1` more
// workers (nested in this one; no shared memory, so it works in a plain iframe). Each step,
// every replica learns from its shard of the same minibatch (Lab.contribute), this worker
// sums the shards in replica order (Lab.combine) and every replica applies that same sum
// (Lab.apply), so the replicas never drift apart. The engine does the arithmetic; this
// module only moves arrays.

/** A replica worker and its replies, answered in order. */
class Replica {
  constructor() {
    this.worker = new Worker(new URL('./replica.js', import.meta.url), { type: 'module' });
    this.pending = [];
    this.worker.onmessage = ({ data }) => {
      const { ok, fail } = this.pending.shift();
      if (data.error) fail(new Error(`a replica worker failed: ${data.error}`));
      else ok(data);
    };
    this.worker.onerror = (e) => {
      e.preventDefault();
      for (const { fail } of this.pending.splice(0)) fail(new Error(`a replica worker failed: ${e.message}`));
    };
  }

  /** Sends `msg` (transferring `transfer`); resolves with the replica's reply. */
  ask(msg, transfer = []) {
    return new Promise((ok, fail) => {
      this.pending.push({ ok, fail });
      this.worker.postMessage(msg, transfer);
    });
  }

  terminate() {
    this.worker.terminate();
  }
}

export class Replicas {
  /** `count` workers in all: this one and `count − 1` replicas, given the shipped data. */
  static async start(count, shipped) {
    const replicas = new Replicas(Array.from({ length: count - 1 }, () => new Replica()));
    await Promise.all(replicas.others.map((r) => r.ask({ type: 'init', shipped })));
    return replicas;
  }

  constructor(others) {
    this.others = others;
    this.count = others.length + 1;
    // Per slot, the replicas' apply of its last step: not awaited by the step itself (each
    // replica answers in order, so the next step's parts come after it), only before what
    // follows in that slot.
    this.applied = new Map();
    // Per slot, this worker's own part and total of the last step, per run: the engine
    // writes the next step's into them (no new buffers per step).
    this.kept = new Map();
  }

  /**
   * Builds every replica's runs in `slot` like this worker's: from `configs`, or from a
   * saved model; on the user's data when `custom` is given.
   */
  async build({ slot = 'run', configs = null, model = null, custom = null }) {
    await this.settle(slot).catch(() => {}); // this slot's runs are replaced anyway
    this.kept.delete(slot);
    await settled(this.others.map((r) => r.ask({ type: 'build', slot, configs, model, custom })));
  }

  /** Waits for the replicas' apply of `slot`'s last step; throws if one failed. */
  async settle(slot) {
    const last = this.applied.get(slot);
    this.applied.delete(slot);
    await last;
  }

  /** Frees the replicas' runs in `slot`. */
  async free(slot) {
    await this.settle(slot).catch(() => {}); // the runs go anyway
    this.kept.delete(slot);
    await settled(this.others.map((r) => r.ask({ type: 'free', slot })));
  }

  /** One step of every run in `labs` (and the replicas' `slot`); returns the runs' records. */
  async step(labs, slot = 'run') {
    const asked = this.others.map((r, k) => r.ask({ type: 'contribute', slot, index: k + 1, count: this.count }));
    // Every replica draws its minibatch: wait for them all, even when this one fails.
    const kept = this.kept.get(slot) ?? { own: [], totals: [] };
    this.kept.delete(slot); // until this step has succeeded
    const own = attempt(() => labs.map((lab, i) => lab.contribute(0, this.count, kept.own[i])));
    const parts = await settled(asked);
    await this.settle(slot); // answered before the parts: a replica that failed to apply stops here
    const totals = labs.map((lab, i) => lab.combine([own()[i], ...parts.map((p) => p.parts[i])], kept.totals[i]));
    this.kept.set(slot, { own: own(), totals });
    // Each replica is handed a copy of the totals (transferred, not cloned in the message),
    // written into the arrays its parts came in.
    const applied = settled(this.others.map((r, k) => {
      const copy = totals.map((t, i) => copyInto(parts[k].parts[i], t));
      // `next`: the replica learns from its shard of the next step right after applying.
      return r.ask({ type: 'apply', slot, totals: copy, next: { index: k + 1, count: this.count } }, copy.map((t) => t.buffer));
    }));
    const records = attempt(() => labs.map((lab, i) => lab.apply(totals[i])));
    // The replicas apply the same sums to the same weights: where this worker's apply fails
    // (a diverging step, rolled back), theirs fail alike, and this worker's error says so.
    let failed = false;
    try {
      records();
    } catch {
      failed = true;
    }
    const last = failed ? applied.catch(() => {}) : applied;
    last.catch(() => {}); // reported by the slot's next step (a build or free replaces the runs anyway)
    this.applied.set(slot, last);
    return records();
  }

  terminate() {
    for (const r of this.others) r.terminate();
  }
}

/** `source` copied into `target` where it fits, else into a new array. */
function copyInto(target, source) {
  if (target.length !== source.length) return source.slice();
  target.set(source);
  return target;
}

/** Runs `fn` now; returns a function that gives its result or throws its error. */
function attempt(fn) {
  try {
    const value = fn();
    return () => value;
  } catch (err) {
    return () => {
      throw err;
    };
  }
}

/** Waits for every promise; throws the first rejection, if any. */
async function settled(promises) {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => r.value);
}
