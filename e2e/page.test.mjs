// The page end to end in headless Chromium: presets train, play/pause/step/reset work,
// the URL holds the state, embed mode, errors are shown and survived, nothing leaves
// 127.0.0.1. Screenshots of every panel land in e2e/screenshots/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { pageOpener, ready, metric, until, assertClean, assertDigitsFitPhone, drawOne, digitGrids, SCREENSHOTS } from './browser.mjs';
import { initSync, Lab, presetConfig, configSchema } from '../www/pkg/pclab.js';

initSync({ module: readFileSync(new URL('../www/pkg/pclab_bg.wasm', import.meta.url)) });
const shipped = readFileSync(new URL('../www/data/mnist-10k.bin.gz', import.meta.url));
const { experiments } = configSchema();

const PRESETS = ['classification', 'compression', 'generation', 'tradeoff', 'gradients', 'tplus1'];
const PANELS = ['training', 'inference', 'reconstructions', 'classification', 'generation', 'vae', 'gradients', 'tradeoff', 'cost', 'weights'];

const open = pageOpener();

const stepOf = (page) => metric(page, 'step');

/** Clicks "step" and waits until the counter shows `n`. */
async function stepTo(page, n, what = `step ${n}`) {
  await page.getByTestId('step').click();
  await until(async () => (await stepOf(page)) === n, 10_000, what);
}

/** Types `value` into a setting's control and commits it (a change event). */
async function setSetting(page, name, value) {
  await page.getByTestId(name).fill(value);
  await page.getByTestId(name).dispatchEvent('change');
}

/** Plays until the step counter passes `n`, then pauses. */
async function trainPast(page, n, timeout = 30_000) {
  await page.getByTestId('play').click();
  await until(async () => (await stepOf(page)) > n, timeout, `step > ${n}`);
  await page.getByTestId('pause').click();
  await page.getByTestId('status').filter({ hasText: 'paused' }).waitFor();
}

test('the classification preset passes 80% test accuracy', async () => {
  const { page, problems } = await open('?preset=classification');
  // Trained for a number of steps, however long the machine takes.
  await trainPast(page, 400, 300_000);
  const acc = await until(async () => metric(page, 'accuracy'), 30_000, 'an evaluation');
  assert.ok(acc > 80, `accuracy ${acc}% after ${await stepOf(page)} steps`);
  // Evaluated: the cost panel (folded here) plots the metric against compute, not its note.
  const hidden = (id) => page.getByTestId(id).evaluate((e) => e.hidden);
  await until(async () => !(await hidden('plot-cost')), 10_000, 'the cost chart');
  assert.equal(await hidden('cost-waiting'), true);
  // The confusion matrix counts the whole test split (2,000 digits) and says so.
  assert.match(await page.getByTestId('confusion-note').textContent(), /^2000 test digits/);
  const rows = await page.getByTestId('belief-replay').locator('[data-testid=replay-layer]').count();
  assert.equal(rows, 5, 'a replay row per layer of 784-128-128-128-10');
  await page.waitForTimeout(800); // let the last visuals arrive before the screenshots
  for (const name of PANELS) {
    const panel = page.locator(`#panel-${name}`);
    if (await panel.isVisible()) await panel.screenshot({ path: `${SCREENSHOTS}panel-${name}.png` });
  }
  await page.locator('#controls').screenshot({ path: `${SCREENSHOTS}panel-controls.png` });
  await page.screenshot({ path: `${SCREENSHOTS}page-classification.png`, fullPage: true });
  assertClean(assert, problems);
  await page.close();
});

test('compression shows its first reconstruction error within a few steps, the engine\'s value', async () => {
  // The worker evaluates once the training since the last evaluation is three times what
  // an evaluation costs; before the first, the engine's estimate of that cost in steps.
  const config = presetConfig('compression');
  const lab = new Lab(config, shipped);
  const share = lab.evaluationShare();
  const { page, problems } = await open('?preset=compression&workers=1');
  await page.getByTestId('play').click();
  const mse = page.getByTestId('metric-mse');
  await until(async () => Number.isFinite(Number(await mse.textContent())), 120_000, 'a reconstruction error');
  await page.getByTestId('pause').click();
  const evalStep = Number(await mse.getAttribute('data-eval-step'));
  const shown = Number(await mse.textContent());
  assert.ok(evalStep >= 1 && evalStep <= Math.ceil(3 * share) + 2, `first evaluated at step ${evalStep} (an evaluation ≈ ${share.toFixed(2)} steps)`);
  // The same run trained as far in node (one worker: the same minibatches) and evaluated
  // on the experiment's test sample: the error the page shows, to its 4 decimals (the page
  // may run the relaxed-simd build, whose fused multiply-adds round differently).
  lab.train(evalStep);
  const samples = experiments.find((e) => e.name === config.experiment).test_samples;
  const engine = lab.evaluate(samples).mse;
  lab.free();
  assert.ok(Math.abs(shown - engine) <= 1e-4 + 1e-3 * engine, `shown ${shown}, engine ${engine}`);
  assertClean(assert, problems);
  await page.close();
});

/** The digit grid each preset leads with, if any. */
const KEY_GRID = { compression: 'recon-grid', generation: 'generated' };

/**
 * On a projector (1920×1080) every digit grid on show spans 80% of its panel's width or is
 * as large as it may be (--pixel-max per digit pixel, or 70% of the viewport's height);
 * on a phone (390×844) every grid and row of digits stays inside its panel and the page
 * does not scroll sideways.
 */
async function assertGridsFit(page, preset) {
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.waitForTimeout(300);
  const grids = (await digitGrids(page)).filter((g) => g.kind === 'grid');
  if (KEY_GRID[preset]) assert.ok(grids.some((g) => g.id === KEY_GRID[preset]), `${preset} shows ${KEY_GRID[preset]}`);
  for (const g of grids) {
    const what = `${preset} ${g.id}: ${g.width.toFixed(1)} of ${g.panel.width} px, ${g.pixel.toFixed(2)} px per digit pixel`;
    assert.ok(g.pixel <= g.pixelMax + 0.01, `${what}: at most ${g.pixelMax}`);
    assert.ok(g.width >= 0.8 * g.panel.width || g.pixel >= g.pixelMax - 0.01 || g.height >= 0.7 * 1080 - 1, `${what}: uses the panel`);
  }
  await assertDigitsFitPhone(assert, page, preset);
}

for (const preset of PRESETS.slice(1)) {
  test(`the ${preset} preset loads and trains`, async () => {
    const { page, problems } = await open(`?preset=${preset}`);
    assert.equal(await page.getByTestId('error').isVisible(), false, await page.getByTestId('error').textContent());
    await trainPast(page, 2, 60_000);
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${SCREENSHOTS}preset-${preset}.png`, fullPage: true });
    await assertGridsFit(page, preset);
    assertClean(assert, problems);
    await page.close();
  });
}

test('pause stops the step counter; step adds one; reset starts over', async () => {
  const { page, problems } = await open();
  await trainPast(page, 5);
  const paused = await stepOf(page);
  // One step after pausing lands exactly one past the paused count: nothing ran between.
  await stepTo(page, paused + 1, 'one more step');
  assert.equal(await stepOf(page), paused + 1, 'no steps while paused');
  await page.getByTestId('reset').click();
  await until(async () => (await stepOf(page)) === 0, 10_000, 'step 0 after reset');
  await stepTo(page, 1, 'training after reset');
  assertClean(assert, problems);
  await page.close();
});

test('a changed control is written to the URL and restored on reload', async () => {
  const { page, problems } = await open();
  await page.getByTestId('steps').fill('5');
  await page.getByTestId('steps').press('Enter');
  await page.getByTestId('rule').selectOption('bp');
  await setSetting(page, 'seed', '42');
  await until(() => page.url().includes('seed=42'), 5000, 'seed in the URL');
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('T'), '5');
  assert.equal(url.searchParams.get('rule'), 'bp');
  await page.reload();
  await ready(page);
  assert.equal(await page.getByTestId('steps').inputValue(), '5');
  assert.equal(await page.getByTestId('rule').inputValue(), 'bp');
  assert.equal(await page.getByTestId('seed').inputValue(), '42');
  await stepTo(page, 1, 'a step after reload');
  assertClean(assert, problems);
  await page.close();
});

test('embed mode is compact and hides the chosen controls', async () => {
  const { page, problems } = await open('?embed=1&hide=seed,lr');
  assert.ok(await page.evaluate(() => document.body.classList.contains('embed')));
  assert.equal(await page.getByTestId('seed').isVisible(), false);
  assert.equal(await page.getByTestId('lr').isVisible(), false);
  assert.equal(await page.getByTestId('rule').isVisible(), true);
  await trainPast(page, 3);
  await until(async () => (await metric(page, 'accuracy')) >= 0, 10_000, 'the evaluation after pause');
  await page.screenshot({ path: `${SCREENSHOTS}embed.png` });
  assertClean(assert, problems);
  await page.close();
});

test('bad URL parameters show a readable error and the page still trains', async () => {
  const { page, problems } = await open('?preset=nope&T=-3&lr=abc');
  const error = page.getByTestId('error');
  assert.ok(await error.isVisible());
  const text = await error.textContent();
  for (const part of ['nope', 'T=-3', 'lr=abc']) assert.ok(text.includes(part), `error mentions ${part}: ${text}`);
  await trainPast(page, 3);
  assertClean(assert, problems);
  await page.close();
});

test('malformed IDX files show an error and the page still trains', async () => {
  const { page, problems } = await open();
  const files = page.getByTestId('data-files');
  const error = page.getByTestId('error');
  // Not IDX at all: caught on the page.
  await files.setInputFiles([
    { name: 'images.idx3', mimeType: 'application/octet-stream', buffer: Buffer.from('hello, not idx') },
    { name: 'labels.idx1', mimeType: 'application/octet-stream', buffer: Buffer.from('nor this') },
  ]);
  await until(() => error.isVisible(), 10_000, 'an error for non-IDX files');
  assert.match(await error.textContent(), /IDX/);
  await page.locator('.dismiss').click();
  // IDX magic numbers but truncated bodies: the engine's validation speaks.
  const header = (dims, ...sizes) => Buffer.from([0, 0, 8, dims, ...sizes.flatMap((n) => [0, 0, 0, n])]);
  await files.setInputFiles([
    { name: 'bad-images.idx3', mimeType: 'application/octet-stream', buffer: Buffer.concat([header(3, 100, 28, 28), Buffer.alloc(50)]) },
    { name: 'bad-labels.idx1', mimeType: 'application/octet-stream', buffer: Buffer.concat([header(1, 100), Buffer.alloc(10)]) },
  ]);
  await until(() => error.isVisible(), 10_000, 'an error for truncated IDX files');
  assert.ok((await error.textContent()).length > 10);
  await trainPast(page, 3);
  assertClean(assert, problems);
  await page.close();
});

test('fixed-prediction inference with rate 1 matches BP exactly once T ≥ depth', async () => {
  const { page, problems } = await open('?preset=gradients');
  const table = page.getByTestId('gradient-cosine');
  await table.waitFor({ timeout: 60_000 });
  const layers = await page.locator('[data-testid=gradient-cosine] td[data-variant="fixed-prediction"][data-t="1"]').count();
  assert.ok(layers >= 2, `${layers} layers`);
  const cells = page.locator('[data-testid=gradient-cosine] td[data-variant="fixed-prediction"]');
  for (const cell of await cells.all()) {
    if (Number(await cell.getAttribute('data-t')) < layers) continue;
    const cosine = Number(await cell.getAttribute('data-value'));
    assert.ok(Math.abs(cosine - 1) < 1e-6, `fixed-prediction cosine ${cosine} at T=${await cell.getAttribute('data-t')}`);
  }
  await page.locator('#panel-gradients').screenshot({ path: `${SCREENSHOTS}panel-gradients.png` });
  // The cosines are of the weights at one step, and the panel says which.
  assert.match(await page.getByTestId('gradient-when').textContent(), /after 0 training steps/);
  // Play stops a computation under way, and the panel says so instead of staying empty.
  await page.getByTestId('gradient-tmax').fill('50');
  await page.getByTestId('gradient-compute').click();
  await page.getByTestId('play').click();
  await page.getByTestId('gradient-waiting').filter({ hasText: 'was stopped' }).waitFor({ timeout: 10_000 });
  await until(async () => Number(await page.getByTestId('metric-step').textContent()) >= 3, 30_000, '3 steps');
  await page.getByTestId('pause').click();
  await page.getByTestId('status').filter({ hasText: 'paused' }).waitFor();
  const step = Number(await page.getByTestId('metric-step').textContent());
  await page.getByTestId('gradient-tmax').fill('3');
  await page.getByTestId('gradient-compute').click();
  await page.getByTestId('gradient-when').filter({ hasText: `after ${step} training steps` }).waitFor({ timeout: 60_000 });
  // A loaded model's weights are counted from the load: not the steps of the run before.
  const save = page.waitForEvent('download');
  await page.getByTestId('save-model').click();
  const json = readFileSync(await (await save).path(), 'utf8');
  await page.getByTestId('load-model').setInputFiles({ name: 'model.json', mimeType: 'application/json', buffer: Buffer.from(json) });
  await page.getByTestId('data-status').filter({ hasText: 'model loaded' }).waitFor({ timeout: 20_000 });
  await page.getByTestId('gradient-compute').click();
  await page.getByTestId('gradient-when').filter({ hasText: /^Computed on the loaded model’s weights after 0 more training steps;/ }).waitFor({ timeout: 60_000 });
  await stepTo(page, 1);
  await page.getByTestId('gradient-compute').click();
  await page.getByTestId('gradient-when').filter({ hasText: /^Computed on the loaded model’s weights after 1 more training step;/ }).waitFor({ timeout: 60_000 });
  // An undefined cosine (a zero gradient) crosses the wasm boundary as null and shows as
  // '–', never as a measured 0; a defined one with four decimals.
  const shown = await page.evaluate(async () => {
    const { cosineTable } = await import('/www/panels/gradients.js');
    const table = cosineTable({ ts: [1], variants: { standard: [[null, 0.5]] } });
    return [...table.querySelectorAll('td[data-variant]')].map((td) => [td.textContent, td.dataset.value ?? null]);
  });
  assert.deepEqual(shown, [['–', null], ['0.5000', '0.5']]);
  assertClean(assert, problems);
  await page.close();
});

test('with Bernoulli hidden layers the gradients view compares strict and standard, the methods written for them', async () => {
  const settings = { hidden_energy: 'bernoulli', activation: 'identity' };
  const query = Object.entries(settings).map(([k, v]) => `${k}=${v}`).join('&');
  const { page, problems } = await open(`?preset=gradients&${query}`);
  const table = page.getByTestId('gradient-cosine');
  await table.waitFor({ timeout: 60_000 });
  const variants = await table.locator('td[data-variant]').evaluateAll((tds) => [...new Set(tds.map((td) => td.dataset.variant))]);
  assert.deepEqual(variants, ['strict', 'standard']);
  assert.ok(await page.getByTestId('gradient-chart-fixed-prediction').isHidden(), 'no empty fixed-prediction chart');
  assert.ok(await page.getByTestId('gradient-chart-standard').isVisible());
  // The shown cosines are the engine's, computed again here from the same settings.
  const rate = Number(await page.getByTestId('gradient-rate').inputValue());
  const engine = await page.evaluate(async ([settings, rate]) => {
    const pkg = await import('/www/engine-loader.js'); // the build the worker runs
    await pkg.default();
    const config = pkg.configWithSettings(pkg.presetConfig('gradients'), Object.keys(settings), Object.values(settings));
    const shipped = new Uint8Array(await (await fetch('/www/data/mnist-10k.bin.gz')).arrayBuffer());
    const lab = new pkg.Lab(config, shipped);
    const out = { variants: lab.gradientVariants(rate), standard3: lab.gradientCosines('standard', 3, rate) };
    lab.free();
    return out;
  }, [settings, rate]);
  assert.deepEqual(engine.variants.map((v) => v.inference), ['strict', 'standard']);
  const shown = await table.locator('td[data-variant=standard][data-t="3"]').evaluateAll((tds) => tds.map((td) => Number(td.dataset.value)));
  assert.equal(shown.length, engine.standard3.length);
  for (const [l, c] of shown.entries()) assert.ok(Math.abs(c - engine.standard3[l]) < 1e-12, `layer ${l + 1}: ${c} against ${engine.standard3[l]}`);
  assertClean(assert, problems);
  await page.close();
});

test('a drawn digit is classified live', async () => {
  const { page, problems } = await open('?preset=classification&all=1');
  await trainPast(page, 30);
  // A single tap leaves a dot, which is classified too (it drew nothing before).
  await page.getByTestId('draw-canvas').click({ position: { x: 112, y: 112 } });
  await page.getByTestId('draw-prediction').filter({ hasText: /^\d \(/ }).waitFor({ timeout: 10_000 });
  await page.getByTestId('draw-clear').click();
  await drawOne(page);
  await page.getByTestId('draw-prediction').filter({ hasText: /^\d \(/ }).waitFor({ timeout: 10_000 });
  await page.locator('#panel-classification').screenshot({ path: `${SCREENSHOTS}panel-classification-drawn.png` });
  assertClean(assert, problems);
  await page.close();
});

test('diverging settings stop training with a message; the page recovers', async () => {
  const { page, problems } = await open('?optimizer=sgd&lr=10');
  await page.getByTestId('play').click();
  const error = page.getByTestId('error');
  await until(() => error.isVisible(), 60_000, 'a divergence message');
  assert.match(await error.textContent(), /Training stopped/);
  await page.getByTestId('status').filter({ hasText: 'paused' }).waitFor();
  await setSetting(page, 'lr', '0.01');
  await page.getByTestId('status').filter({ hasText: 'ready' }).waitFor();
  await stepTo(page, 1, 'a step with sane settings');
  assertClean(assert, problems);
  await page.close();

  // Adam at 1e9 keeps every number finite, but its first step moves each weight by about
  // 1e9, past what f32 resolves: refused at once, the untrained weights kept.
  const huge = await open('?lr=1e9');
  await huge.page.getByTestId('play').click();
  await until(() => huge.page.getByTestId('error').isVisible(), 60_000, 'a divergence message');
  assert.match(await huge.page.getByTestId('error').textContent(), /diverged at step 1 .*beyond what f32 resolves/);
  assert.equal(await stepOf(huge.page), 0);
  await huge.page.close();
});

test('the training curves switch to a log scale when loss and energy span two orders of magnitude', async () => {
  for (const preset of ['tutorial', 'classification']) {
    const { page, problems } = await open(`?preset=${preset}`);
    await trainPast(page, 20);
    const csv = page.waitForEvent('download');
    await page.getByTestId('export-csv').click();
    const [, ...rows] = readFileSync(await (await csv).path(), 'utf8').trim().split('\n').map((r) => r.split(','));
    const values = rows.flatMap((r) => [Number(r[2]), Number(r[3])]).filter(Number.isFinite);
    const log = values.every((v) => v > 0) && Math.max(...values) > 100 * Math.min(...values);
    // The chart may have drawn a step or two before the export: compare once it has the same.
    await until(async () => (await page.getByTestId('plot-training').getAttribute('data-scale')) === (log ? 'log' : 'linear'),
      10_000, `${preset}: ${log ? 'log' : 'linear'} scale for values from ${Math.min(...values)} to ${Math.max(...values)}`);
    if (preset === 'tutorial') assert.ok(log, 'the tutorial\'s energy starts two orders above its loss');
    assertClean(assert, problems);
    await page.close();
  }
});

test('a model saves and loads; curves export as CSV and plots as PNG', async () => {
  const { page, problems } = await open();
  await trainPast(page, 5);
  const csv = page.waitForEvent('download');
  await page.getByTestId('export-csv').click();
  const rows = readFileSync(await (await csv).path(), 'utf8').trim().split('\n');
  assert.equal(rows[0], 'run,step,loss,energy,flops_total,accuracy_percent,mse');
  assert.ok(rows.length > 2, `${rows.length} CSV rows`);
  const png = page.waitForEvent('download');
  await page.locator('#panel-training .tools button', { hasText: 'PNG' }).click();
  const image = readFileSync(await (await png).path());
  assert.equal(image.subarray(1, 4).toString(), 'PNG');
  const save = page.waitForEvent('download');
  await page.getByTestId('save-model').click();
  const model = await save;
  const json = readFileSync(await model.path(), 'utf8');
  assert.doesNotThrow(() => JSON.parse(json));
  await page.getByTestId('load-model').setInputFiles({ name: 'model.json', mimeType: 'application/json', buffer: Buffer.from(json) });
  await page.getByTestId('data-status').filter({ hasText: 'model loaded' }).waitFor({ timeout: 20_000 });
  assert.equal(await page.getByTestId('error').isVisible(), false);
  await page.getByTestId('load-model').setInputFiles({ name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('{"not":"a model"}') });
  await until(() => page.getByTestId('error').isVisible(), 10_000, 'an error for a bad model file');

  assertClean(assert, problems);
  await page.close();
});

test('compare trains PC and BP side by side, both on one chart', async () => {
  const { page, problems } = await open('?compare=bp');
  await trainPast(page, 30);
  await page.waitForTimeout(800);
  const legend = await page.getByTestId('plot-training').locator('.u-legend').textContent();
  assert.match(legend, /PC loss/);
  assert.match(legend, /BP loss/);
  assert.equal(await page.locator('[data-testid=flops-table] tr').count(), 3, 'a FLOPs row per run');
  await page.locator('#panel-training').screenshot({ path: `${SCREENSHOTS}compare-training.png` });
  await page.locator('#panel-cost').screenshot({ path: `${SCREENSHOTS}compare-cost.png` });
  assertClean(assert, problems);
  await page.close();
});

test('your own IDX files (gzip) replace the data and train', async () => {
  const dir = '/usr/share/datasets/fashion-mnist/';
  const { page, problems } = await open();
  // Labels first: the page tells the files apart by their magic numbers, not order.
  await page.getByTestId('data-files').setInputFiles([`${dir}t10k-labels-idx1-ubyte.gz`, `${dir}t10k-images-idx3-ubyte.gz`]);
  await page.getByTestId('data-status').filter({ hasText: 'your IDX files' }).waitFor({ timeout: 30_000 });
  assert.equal(await page.getByTestId('error').isVisible(), false, await page.getByTestId('error').textContent());
  await trainPast(page, 10);
  await until(async () => (await metric(page, 'accuracy')) >= 0, 10_000, 'an evaluation on the new data');
  await page.locator('#panel-classification').screenshot({ path: `${SCREENSHOTS}own-data.png` });
  assertClean(assert, problems);
  await page.close();
});
