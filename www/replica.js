// A replica worker (see replicas.js): holds copies of the training worker's runs (slot
// 'run'; the benchmark builds its own slot) and, per step, learns from its shard of the
// minibatch and applies the sum the lead sends back. Each message gets exactly one
// reply, in order; an error is a reply too. Right after replying to an apply, the
// replica already learns from its shard of the next step (nothing changes its runs until
// then but that step or a rebuild), so the lead's next request finds its part ready.
import init, { Lab } from './engine-loader.js';

let shipped = null;
const slots = new Map(); // slot name → its labs
const ahead = new Map(); // slot name → { index, count, parts() } of the next step

function free(slot) {
  for (const lab of slots.get(slot) ?? []) lab.free();
  slots.delete(slot);
  ahead.delete(slot);
}

/**
 * Shard `index` of `count` of every run in `slot`, written into the arrays `reuse` where
 * they fit: a function giving the parts or throwing.
 */
function draw(slot, index, count, reuse = []) {
  try {
    const parts = labsOf(slot).map((lab, i) => lab.contribute(index, count, reuse[i]));
    return () => parts;
  } catch (err) {
    return () => {
      throw err;
    };
  }
}

function labsOf(slot) {
  const labs = slots.get(slot);
  if (!labs) throw new Error(`no runs built in slot ${slot}`);
  return labs;
}

const handlers = {
  async init(msg) {
    await init();
    shipped = msg.shipped;
  },
  build({ slot, configs, model, custom }) {
    const data = custom ? [shipped, custom.images, custom.labels] : [shipped];
    const built = model ? [Lab.load(model, ...data)] : configs.map((c) => new Lab(c, ...data));
    free(slot);
    slots.set(slot, built);
  },
  free: ({ slot }) => free(slot),
  contribute({ slot, index, count }) {
    const next = ahead.get(slot);
    ahead.delete(slot);
    // A part learnt ahead has moved the runs' minibatch cursor: drawing again would take
    // the minibatch after, so a part for another shard means the replica is out of step.
    if (next && (next.index !== index || next.count !== count)) {
      throw new Error(`replica out of step: asked for shard ${index} of ${count}, learnt ${next.index} of ${next.count}`);
    }
    const parts = (next ? next.parts : draw(slot, index, count))();
    return [{ parts }, parts.map((p) => p.buffer)];
  },
  apply({ slot, totals, next }) {
    labsOf(slot).forEach((lab, i) => lab.apply(totals[i]));
    const { index, count } = next;
    // The totals are not needed once applied: the next parts are written into them.
    return [{}, [], () => ahead.set(slot, { index, count, parts: draw(slot, index, count, totals) })];
  },
};

self.onmessage = async ({ data }) => {
  let after = null;
  try {
    const [reply = {}, transfer = [], then = null] = (await handlers[data.type](data)) ?? [];
    self.postMessage(reply, transfer);
    after = then;
  } catch (err) {
    self.postMessage({ error: String(err?.message ?? err) });
  }
  after?.();
};
