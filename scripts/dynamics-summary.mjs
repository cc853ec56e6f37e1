// Summarises `pclab dynamics` JSON lines (stdin) for the README: per rule, the mean ± sd
// over seeds of each seed's mean over its digits of the reconstruction MSE at t = 0, T/2
// and T, the latent's distance left at T/2 (‖v₀(T/2) − v₀(T)‖ / ‖v₀(0) − v₀(T)‖), the first
// t within 10% of the starting distance, and the energy at T.
//   pclab dynamics --preset compression --epochs 1 --seeds 0..5 --digits 10 | node scripts/dynamics-summary.mjs
import { createInterface } from 'node:readline';

const runs = new Map(); // rule/seed/digit → lines by t
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const r = JSON.parse(line);
  const key = `${r.rule}\t${r.seed}\t${r.digit}`;
  if (!runs.has(key)) runs.set(key, []);
  runs.get(key)[r.t] = r;
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
const MEASURES = {
  'MSE at t = 0': (rs) => rs[0].mse,
  'MSE at t = T/2': (rs) => rs[Math.floor((rs.length - 1) / 2)].mse,
  'MSE at t = T': (rs) => rs.at(-1).mse,
  'distance left at T/2': (rs) => rs[Math.floor((rs.length - 1) / 2)].latent_distance / rs[0].latent_distance,
  't to 90% of the way': (rs) => rs.findIndex((r) => r.latent_distance <= 0.1 * rs[0].latent_distance),
  'energy at T': (rs) => rs.at(-1).energy,
};
const bySeed = new Map(); // rule → seed → digit runs
for (const [key, rs] of runs) {
  const [rule, seed] = key.split('\t');
  if (!bySeed.has(rule)) bySeed.set(rule, new Map());
  const seeds = bySeed.get(rule);
  if (!seeds.has(seed)) seeds.set(seed, []);
  seeds.get(seed).push(rs);
}
for (const [rule, seeds] of bySeed) {
  console.log(`${rule} (${seeds.size} seeds)`);
  for (const [name, f] of Object.entries(MEASURES)) {
    const perSeed = [...seeds.values()].map((digits) => mean(digits.map(f)));
    console.log(`  ${name}: ${mean(perSeed).toFixed(4)} ± ${(perSeed.length > 1 ? sd(perSeed) : 0).toFixed(4)}`);
  }
}
