// Times one benchmark workload's training step in this Node process, step by step: the
// machine's own steadiness, without a browser. On a shared VM a run can lose half its
// core for seconds with no steal time reported; repeated runs of this show it.
//
//   node scripts/step-times.mjs [WORKLOAD] [STEPS]   (default pc_compression_step 16)
//
// WORKLOAD is a name from benchConfigs() (src/bench.rs); the step is the first of two
// shards of the minibatch, as the lead worker computes it. Needs the built www/pkg.
import { readFileSync } from 'node:fs';
import { initSync, Lab, benchConfigs } from '../www/pkg/pclab.js';

const [name = 'pc_compression_step', steps = '16'] = process.argv.slice(2);
initSync({ module: readFileSync(new URL('../www/pkg/pclab_bg.wasm', import.meta.url)) });
const shipped = readFileSync(new URL('../www/data/mnist-10k.bin.gz', import.meta.url));
const workload = benchConfigs().find((w) => w.name === name);
if (!workload) throw new Error(`no workload ${name}: ${benchConfigs().map((w) => w.name).join(', ')}`);
const lab = new Lab(workload.config, shipped);
const times = [];
let part = null;
for (let i = 0; i < Number(steps); i++) {
  const t = performance.now();
  part = lab.contribute(0, 2, part);
  times.push(performance.now() - t);
}
lab.free();
console.log(`${name}, ms per half step: ${times.map((t) => t.toFixed(0)).join(' ')}`);
