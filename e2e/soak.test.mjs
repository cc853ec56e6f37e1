// A 2-minute soak of the classification preset (scripts/soak.mjs, sampled every 10 s):
// the step counter keeps increasing, no error is shown and memory plateaus (the page
// renderer's RSS, the page's and the worker's JS heaps and the wasm memory: max of the
// last third of the samples within 10% or 30 MB of the max of the middle third). Nothing about speed is
// asserted. The samples are printed; the browser and server are closed in every case,
// within a hard limit of 4 minutes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { soak, judge, tableHeader, tableRow, describe } from '../scripts/soak.mjs';

const MB = 1 << 20;
/** Twelve synthetic samples: 10 steps/s, memory `mem(i)` MB everywhere. */
const synthetic = (mem, extra = () => ({})) => Array.from({ length: 12 }, (_, i) => ({
  t: 10 * i, step: 100 * i, rssPage: mem(i) * MB, pageHeap: mem(i) * MB, workerHeap: MB, wasm: 20 * MB, error: null, ...extra(i),
}));

test('the plateau rule: noise and warm-up pass; growth, a stall or an error fail', () => {
  assert.ok(judge(synthetic((i) => (i < 4 ? 100 + 50 * i : 300 + (i % 2) * 40))).ok, 'warm-up, then a saw-tooth');
  assert.ok(judge(synthetic((i) => 300 + 3 * i)).ok, 'slow growth, under 10%');
  assert.ok(judge(synthetic((i) => 100 + 4 * i)).ok, 'over 10% but under 30 MB');
  const growing = judge(synthetic((i) => 300 + 20 * i));
  assert.ok(!growing.ok && growing.memory.rssPage.ok === false, describe(growing));
  const stalled = judge(synthetic(() => 300, (i) => ({ step: Math.min(i, 7) * 100 })));
  assert.match(stalled.failures.join('\n'), /stalled/);
  const error = judge(synthetic(() => 300, (i) => ({ error: i === 9 ? 'boom' : null })));
  assert.match(error.failures.join('\n'), /error at 90 s: boom/);
  assert.ok(!judge(synthetic(() => 300).slice(0, 5)).ok, 'too few samples to judge');
});

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
