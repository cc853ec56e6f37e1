// A replica worker (see replicas.js): holds copies of the training worker's runs (slot
// 'run'; the benchmark builds its own slot) and, per step, learns from its shard of the
// minibatch and applies the sum the lead sends back. Each message gets exactly one
// reply, in order; an error is a reply too.
import init, { Lab } from './engine-loader.js';

let shipped = null;
const slots = new Map(); // slot name → its labs

function free(slot) {
  for (const lab of slots.get(slot) ?? []) lab.free();
  slots.delete(slot);
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
    const parts = labsOf(slot).map((lab) => lab.contribute(index, count));
    return [{ parts }, parts.map((p) => p.buffer)];
  },
  apply({ slot, totals }) {
    labsOf(slot).forEach((lab, i) => lab.apply(totals[i]));
  },
};

self.onmessage = async ({ data }) => {
  try {
    const [reply = {}, transfer = []] = (await handlers[data.type](data)) ?? [];
    self.postMessage(reply, transfer);
  } catch (err) {
    self.postMessage({ error: String(err?.message ?? err) });
  }
};
