// ?bench=1 times the engine's fixed workloads in the worker (and, with ?workers=N, the
// training steps split over N workers) and shows samples/s and GFLOP/s; the trade-off
// panel sweeps λ for both rules over seeds, its error bars the engine's mean ± sd. The
// benchmark prints what it measured, for the README.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launch, openPage, ready, assertClean, SCREENSHOTS } from './browser.mjs';
import { initSync, Lab, TradeoffSweep, benchConfigs } from '../www/pkg/pclab.js';

initSync({ module: readFileSync(new URL('../www/pkg/pclab_bg.wasm', import.meta.url)) });
const shipped = readFileSync(new URL('../www/data/mnist-10k.bin.gz', import.meta.url));

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
    trs.slice(1).map((tr) => [tr.dataset.name, Number(tr.dataset.workers), ...[...tr.children].map((td) => td.textContent)]));
  console.log(`bench in Chromium:\n${rows.join('\n')}`);
  assert.equal(cells.length, 6 + 3, 'two products and four training steps, three of them also split');
  // Each row reads as the engine labels its workload (not its key), with the workers.
  const labels = new Map(benchConfigs().map((w) => [w.name, w.label]));
  const label = (name) => labels.get(name) ?? name.replace(/^gemm_(\d+)x(\d+)x(\d+)$/, 'matrix product ($1×$2)·($2×$3)');
  for (const [name, workers, text] of cells) {
    assert.equal(text, workers === 1 ? label(name) : `${label(name)}, split over ${workers} workers`);
  }
  assert.equal(labels.get('pc_classification_step'), 'PC classification step (784-128-128-128-10, T = 8, batch 128)');
  for (const name of ['pc_classification_step', 'bp_classification_step', 'pc_compression_step']) {
    assert.ok(cells.some(([n, workers]) => n === name && workers === 2), `${name} split over 2 workers`);
  }
  for (const [name, , , , gflops] of cells) assert.ok(Number(gflops) > 0, `${name}: ${gflops} GFLOP/s`);
  // Never trained: the cost panel says when its chart will appear instead of an empty frame.
  assert.equal(await page.getByTestId('plot-cost').isVisible(), false);
  assert.match(await page.getByTestId('cost-waiting').textContent(), /first evaluation/);
  await page.locator('#panel-cost').screenshot({ path: `${SCREENSHOTS}panel-cost-bench.png` });
  assertClean(assert, problems);
  await page.close();
});

test('the trade-off panel sweeps λ for both rules over seeds; the error bars are the engine\'s mean ± sd', async () => {
  const { page, problems } = await openPage(env.browser, `${env.url}?preset=tradeoff&hidden=32&latent=16&T=5&all=1`);
  await ready(page);
  const [lambdas, seeds, steps] = [[0, 0.5, 1], 3, 15];
  await page.getByTestId('sweep-lambdas').fill(lambdas.join(','));
  await page.getByTestId('sweep-steps').fill(String(steps));
  await page.getByTestId('sweep-seeds').fill(String(seeds));
  // Before a sweep: what the button does, not an empty chart.
  assert.equal(await page.getByTestId('plot-tradeoff').isVisible(), false);
  assert.match(await page.getByTestId('sweep-waiting').textContent(), /Press sweep/);
  await page.getByTestId('sweep').click();
  const table = page.getByTestId('tradeoff-table');
  await table.waitFor({ timeout: 120_000 });
  assert.equal(await table.locator('tr').count(), 4, 'a header and three λ rows');
  const cells = await table.locator('td[data-rule]').evaluateAll((tds) => tds.map((td) => ({
    rule: td.dataset.rule, lambda: Number(td.dataset.lambda), metric: td.dataset.metric,
    mean: Number(td.dataset.mean), sd: Number(td.dataset.sd), text: td.textContent })));
  assert.equal(cells.length, 3 * 2 * 2, 'accuracy and MSE of two rules at three λ');
  assert.deepEqual([...new Set(cells.map((c) => c.rule))], ['pc', 'bp-through-inference']);

  // The same sweep by the engine in node, from the page's own configuration.
  const save = page.waitForEvent('download');
  await page.getByTestId('save-model').click();
  const { config } = JSON.parse(readFileSync(await (await save).path(), 'utf8'));
  const lab = new Lab(config, shipped);
  const sweep = new TradeoffSweep(lab, lambdas, seeds, steps, 500);
  while (!sweep.advance(1000));
  const summary = sweep.summary();
  const points = sweep.points();
  sweep.free();
  lab.free();
  assert.equal(points.length, 3 * 2 * seeds);
  const close = (a, b, tol) => Math.abs(a - b) <= tol * (1 + Math.abs(b));
  for (const c of cells) {
    const s = summary.find((x) => x.rule === c.rule && x.lambda === c.lambda)[c.metric];
    // Chromium runs the relaxed-SIMD build, node the simd128 one: equal up to rounding.
    const tol = c.metric === 'mse' ? 1e-3 * s.mean : 0.005;
    assert.ok(Math.abs(c.mean - s.mean) <= tol && Math.abs(c.sd - s.sd) <= tol,
      `${c.rule} λ=${c.lambda} ${c.metric}: page ${c.mean} ± ${c.sd}, engine ${s.mean} ± ${s.sd}`);
    // The text shows the sd to two significant digits (never "± 0.0000" for a small sd).
    const shownSd = Number(c.text.split('±')[1]);
    const scale = c.metric === 'accuracy' ? 100 : 1;
    if (scale * c.sd > 1e-9 * Math.max(1, scale * Math.abs(c.mean))) assert.ok(Math.abs(shownSd / (scale * c.sd) - 1) <= 0.06, `${c.text} for sd ${c.sd}`);
    // By hand from the runs: the mean and sample sd of the seeds.
    const xs = points.filter((p) => p.rule === c.rule && p.lambda === c.lambda).map((p) => p[c.metric]);
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(close(s.mean, m, 1e-12));
    assert.ok(close(s.sd, Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1)), 1e-9));
  }
  // The error bars drawn are the table's mean ± sd (accuracy in %), one per rule and λ.
  const bars = JSON.parse(await page.getByTestId('plot-tradeoff').locator('.uplot').getAttribute('data-bars'));
  assert.equal(bars.length, 6);
  for (const bar of bars) {
    const of = (metric) => cells.find((c) => c.rule === bar.rule && c.lambda === bar.lambda && c.metric === metric);
    const [mse, acc] = [of('mse'), of('accuracy')];
    assert.ok(close(bar.x[0], mse.mean - mse.sd, 1e-12) && close(bar.x[1], mse.mean + mse.sd, 1e-12), JSON.stringify({ bar, mse }));
    assert.ok(close(bar.y[0], 100 * (acc.mean - acc.sd), 1e-9) && close(bar.y[1], 100 * (acc.mean + acc.sd), 1e-9), JSON.stringify({ bar, acc }));
    assert.equal(bar.label, `λ=${bar.lambda}`);
  }
  assert.ok(bars.some((b) => b.x[1] > b.x[0]), 'seeds differ: some bar has a width');
  await page.waitForTimeout(300);
  await page.locator('#panel-tradeoff').screenshot({ path: `${SCREENSHOTS}panel-tradeoff-sweep.png` });
  assertClean(assert, problems);
  await page.close();
});

test('a long sweep runs in pieces: the status names it, and reset stops it at once', async () => {
  const { page, problems } = await openPage(env.browser, `${env.url}?preset=tradeoff`);
  await ready(page);
  await page.getByTestId('sweep-lambdas').fill('0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1');
  await page.getByTestId('sweep-steps').fill('50');
  await page.getByTestId('sweep-seeds').fill('1');
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
  // A sweep over the page's budget is refused by the engine, with what to change.
  await page.getByTestId('sweep-lambdas').fill('0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1');
  await page.getByTestId('sweep-steps').fill('100');
  await page.getByTestId('sweep-seeds').fill('3');
  await page.getByTestId('sweep').click();
  await page.getByTestId('error').filter({ hasText: /over the budget.*fewer seeds/ }).waitFor();
  assertClean(assert, problems);
  await page.close();
});
