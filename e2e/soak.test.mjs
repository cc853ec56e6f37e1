// A 2-minute soak of the classification preset (scripts/soak.mjs, sampled every 10 s):
// the step counter keeps increasing, no error is shown and memory plateaus (the page
// renderer's RSS, the page's and the worker's JS heaps and the wasm memory: max of the
// last third of the samples within 10% or 30 MB of the max of the middle third). Nothing about speed is
// asserted. The samples are printed; the browser and server are closed in every case,
// within a hard limit of 4 minutes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { soak, tableHeader, tableRow, describe } from '../scripts/soak.mjs';

test('a 2-minute soak keeps training with no error, and memory plateaus', { timeout: 240_000 }, async () => {
  console.log(`soak, classification preset, 2 min, a sample every 10 s:\n${tableHeader()}`);
  const { samples, verdict } = await soak({
    minutes: 2,
    interval: 10,
    hardTimeoutMs: 230_000,
    onSample: (s) => console.log(tableRow(s)),
  });
  console.log(describe(verdict));
  assert.ok(samples.length >= 12, `${samples.length} samples`);
  assert.ok(verdict.ok, describe(verdict));
});
