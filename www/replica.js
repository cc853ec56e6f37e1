// A replica worker (see replicas.js): holds copies of the training worker's runs and, per
// step, learns from its shard of the minibatch and applies the sum the lead sends back.
// Each message gets exactly one reply, in order; an error is a reply too.
import init, { Lab } from './engine-loader.js';

let shipped = null;
let labs = [];

const handlers = {
  async init(msg) {
    await init();
    shipped = msg.shipped;
  },
  build({ configs, model, custom }) {
    const data = custom ? [shipped, custom.images, custom.labels] : [shipped];
    const built = model ? [Lab.load(model, ...data)] : configs.map((c) => new Lab(c, ...data));
    for (const lab of labs) lab.free();
    labs = built;
  },
  contribute({ index, count }) {
    const parts = labs.map((lab) => lab.contribute(index, count));
    return [{ parts }, parts.map((p) => p.buffer)];
  },
  apply({ totals }) {
    labs.forEach((lab, i) => lab.apply(totals[i]));
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
