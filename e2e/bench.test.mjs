// ?bench=1 times the engine's fixed workloads in the worker (and, with ?workers=N, the
// training steps split over N workers) and shows samples/s and GFLOP/s; the trade-off
// panel sweeps λ. Both print what they measured, for the README.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, ready, assertClean, SCREENSHOTS } from './browser.mjs';

let env;
before(async () => { env = await launch(); });
after(async () => { await env?.close(); });

test('?bench=1 measures every workload in the worker, then split over two workers', async () => {
  const { page, problems } = await openPage(env.browser, `${env.url}?bench=1&all=1&workers=2`);
  await ready(page);
  const table = page.getByTestId('bench-table');
  await table.waitFor({ timeout: 120_000 });
  const rows = await table.locator('tr').allTextContents();
  const cells = await table.locator('tr').evaluateAll((trs) =>
    trs.slice(1).map((tr) => [...tr.children].map((td) => td.textContent)));
  console.log(`bench in Chromium:\n${rows.join('\n')}`);
  assert.ok(cells.length >= 9, `${cells.length} workloads`);
  for (const name of ['pc_classification_step', 'bp_classification_step', 'pc_compression_step']) {
    assert.ok(cells.some(([n]) => n === `${name} × 2 workers`), `${name} split over 2 workers`);
  }
  for (const [name, , gflops] of cells) assert.ok(Number(gflops) > 0, `${name}: ${gflops} GFLOP/s`);
  await page.locator('#panel-cost').screenshot({ path: `${SCREENSHOTS}panel-cost-bench.png` });
  assertClean(assert, problems);
  await page.close();
});

test('the trade-off panel sweeps λ and plots accuracy against MSE', async () => {
  const { page, problems } = await openPage(env.browser, `${env.url}?preset=tradeoff`);
  await ready(page);
  await page.getByTestId('sweep-lambdas').fill('0,0.5,1');
  await page.getByTestId('sweep-steps').fill('15');
  await page.getByTestId('sweep').click();
  const table = page.getByTestId('tradeoff-table');
  await table.waitFor({ timeout: 120_000 });
  const rows = await table.locator('tr').count();
  assert.equal(rows, 4, 'a header and three λ rows');
  await page.waitForTimeout(300);
  await page.locator('#panel-tradeoff').screenshot({ path: `${SCREENSHOTS}panel-tradeoff-sweep.png` });
  assertClean(assert, problems);
  await page.close();
});

test('a long sweep runs in pieces: the status names it, and reset stops it at once', async () => {
  const { page, problems } = await openPage(env.browser, `${env.url}?preset=tradeoff`);
  await ready(page);
  await page.getByTestId('sweep-lambdas').fill('0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1');
  await page.getByTestId('sweep-steps').fill('200');
  await page.getByTestId('sweep').click();
  await page.getByTestId('status').filter({ hasText: /λ sweep… \d+%/ }).waitFor({ timeout: 60_000 });
  await page.getByTestId('reset').click();
  await page.getByTestId('status').filter({ hasText: 'ready' }).waitFor({ timeout: 60_000 });
  assert.match(await page.getByTestId('panel-tradeoff-out').textContent(), /stopped/);
  // The worker answers at once and trains again; no sweep result ever arrives.
  await page.getByTestId('step').click();
  await page.getByTestId('metric-step').filter({ hasText: /^1$/ }).waitFor({ timeout: 60_000 });
  assert.equal(await page.getByTestId('tradeoff-table').count(), 0);
  // An empty λ list is refused by name, not swept as λ = 0.
  await page.getByTestId('sweep-lambdas').fill('');
  await page.getByTestId('sweep').click();
  await page.getByTestId('error').filter({ hasText: /at least one/ }).waitFor();
  assertClean(assert, problems);
  await page.close();
});
