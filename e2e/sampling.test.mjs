// Sampled generation end to end: the generation panel draws a grid of samples (a column
// per class), two samples of one class differ, "resample" draws others, and at noise 0
// every row is the mean prediction, computed here independently from the saved weights.
// Screenshots at 1280×800, 960×540 and 390×844 land in e2e/screenshots/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { pageOpener, metric, until, assertClean, assertDigitsFitPhone, digitGrids, SCREENSHOTS } from './browser.mjs';

const openPageAt = pageOpener();
const TILE = 28 * 2 + 2; // drawDigits at scale 2 with a 2-pixel gap

/** The grey levels of the sample in row `r`, column (class) `c` of the grid. */
function tile(page, r, c) {
  return page.evaluate(([r, c, size]) => {
    const canvas = document.querySelector('[data-testid="generated"]');
    const ctx = canvas.getContext('2d');
    const data = ctx.getImageData(c * size, r * size, 56, 56).data;
    // Every other pixel of every other row: the 28 × 28 image at scale 2.
    const out = [];
    for (let y = 0; y < 56; y += 2) for (let x = 0; x < 56; x += 2) out.push(data[(y * 56 + x) * 4]);
    return out;
  }, [r, c, TILE]);
}

/**
 * The generation grid as shown: its box, CSS px per digit pixel and panel (digitGrids),
 * and each column label's centre beside the centre of its column's tiles, both measured.
 */
async function generationGrid(page) {
  const grid = (await digitGrids(page)).find((g) => g.id === 'generated');
  const columns = await page.getByTestId('sample-columns').evaluate((row, tile) => {
    const canvas = document.querySelector('[data-testid="generated"]');
    const box = canvas.getBoundingClientRect();
    const css = box.width / canvas.width; // CSS px per canvas pixel
    return [...row.children].map((c, k) => {
      const b = c.getBoundingClientRect();
      return { text: c.textContent, mid: (b.left + b.right) / 2, tileMid: box.left + (k * tile + (tile - 2) / 2) * css };
    });
  }, TILE);
  return { ...grid, columns };
}

/** The column labels over the generation grid are centred over their columns (2 px). */
function assertLabelsCentred(columns, where) {
  assert.deepEqual(columns.map((c) => c.text), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'any']);
  columns.forEach(({ mid, tileMid }, k) => {
    assert.ok(Math.abs(mid - tileMid) <= 2, `${where}: label ${k} centred over its column (${mid.toFixed(1)} vs ${tileMid.toFixed(1)})`);
  });
}

/** The note under the grid once it says `text`. */
const noteSays = (page, text) =>
  page.getByTestId('sample-note').filter({ hasText: text }).waitFor({ timeout: 30_000 });

/**
 * `μ = f(W v + b)` block by block from the saved model (post form: tanh, sigmoid image),
 * from the one-hot of class `k`, or from layer-0 state `k` when it is an array.
 */
function meanPrediction(model, k) {
  const { sizes, weights, biases } = model;
  let v = Array.isArray(k) ? k : Array.from({ length: sizes[0] }, (_, j) => (j === k ? 1 : 0));
  for (let l = 1; l < sizes.length; l++) {
    const last = l === sizes.length - 1;
    v = Array.from({ length: sizes[l] }, (_, i) => {
      let z = biases[l - 1][i];
      for (let j = 0; j < sizes[l - 1]; j++) z += weights[l - 1][i * sizes[l - 1] + j] * v[j];
      return last ? 1 / (1 + Math.exp(-z)) : Math.tanh(z);
    });
  }
  return v;
}

const grey = (v) => Math.round(255 * (1 - Math.max(0, Math.min(1, v))));

test('sampled generation: samples of a class differ, resample redraws, noise 0 is the mean prediction', async () => {
  const { page, problems } = await openPageAt('?preset=generation&seed=2');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.getByTestId('play').click();
  await until(async () => (await metric(page, 'step')) > 60, 120_000, 'step > 60');
  await page.getByTestId('pause').click();
  await page.getByTestId('status').filter({ hasText: 'paused' }).waitFor();
  await noteSays(page, 'seed 0');
  const size = await page.getByTestId('generated').evaluate((c) => [c.width, c.height]);
  assert.deepEqual(size, [11 * TILE - 2, 5 * TILE - 2], 'ten classes and the unconditional column across, five samples down');
  // Column labels over the grid: the classes, then the unconditional column.
  assertLabelsCentred((await generationGrid(page)).columns, '1280×800');
  const variances = /σ² of layers 1 to L \(the image\): ([^(]+) \(/.exec(await page.getByTestId('sample-note').textContent())[1];
  assert.equal(variances.split(',').length, 3, 'one learned variance per layer below the class');

  const first = await tile(page, 0, 3);
  const second = await tile(page, 1, 3);
  const changed = first.filter((g, i) => Math.abs(g - second[i]) > 8).length;
  assert.ok(changed > 20, `two samples of a 3 differ in ${changed} pixels`);
  assert.ok(first.some((g) => g < 128), 'a sample has ink');
  const free = [await tile(page, 0, 10), await tile(page, 1, 10)];
  assert.ok(free[0].filter((g, i) => Math.abs(g - free[1][i]) > 8).length > 20, 'two unconditional samples differ');
  await page.screenshot({ path: `${SCREENSHOTS}sampling-1280.png` });

  await page.getByTestId('resample').click();
  await noteSays(page, 'seed 1');
  assert.notDeepEqual(await tile(page, 0, 3), first, 'resample draws new samples');

  // Noise 0: every row is the class's mean prediction, whatever the seed.
  await page.getByTestId('sample-noise').fill('0');
  await noteSays(page, 'Noise 0');
  const save = page.waitForEvent('download');
  await page.getByTestId('save-model').click();
  const model = JSON.parse(readFileSync(await (await save).path(), 'utf8'));
  // The unconditional column at noise 0 predicts from the prior's mean, the class
  // frequencies π the saved noise model holds.
  const { probabilities } = model.noise.prior;
  assert.ok(Math.abs(probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-9, 'π sums to 1');
  for (const [column, k] of [[0, 0], [3, 3], [7, 7], [10, probabilities]]) {
    const expected = meanPrediction(model, k).map(grey);
    for (const r of [0, 4]) {
      const shown = await tile(page, r, column);
      const worst = Math.max(...shown.map((g, i) => Math.abs(g - expected[i])));
      assert.ok(worst <= 1, `column ${column}, row ${r}: the mean prediction to one grey level (off by ${worst})`);
    }
  }
  await page.screenshot({ path: `${SCREENSHOTS}sampling-noise0-1280.png` });

  await page.getByTestId('sample-noise').fill('1');
  await noteSays(page, 'seed 1');
  // The grid grows with its panel: larger on a projector than on a slide, and there it
  // spans most of the panel or is as large as it may be; on a phone it fits, and the
  // labels stay over their columns at every size (1920×600: as tall as the grid may be).
  const shown = {};
  for (const [name, viewport] of [['1920', { width: 1920, height: 1080 }], ['960', { width: 960, height: 540 }], ['phone', { width: 390, height: 844 }], ['1920x600', { width: 1920, height: 600 }]]) {
    await page.setViewportSize(viewport);
    await page.waitForTimeout(300);
    shown[name] = await generationGrid(page);
    assertLabelsCentred(shown[name].columns, name);
    assert.ok(shown[name].pixel <= shown[name].pixelMax + 0.01, `${name}: ${shown[name].pixel} px per digit pixel, at most ${shown[name].pixelMax}`);
    await page.screenshot({ path: `${SCREENSHOTS}sampling-${name}.png` });
  }
  const big = shown['1920'];
  assert.ok(big.pixel > shown['960'].pixel, `larger cells at 1920×1080 (${big.pixel}) than at 960×540 (${shown['960'].pixel})`);
  assert.ok(big.width >= 0.8 * big.panel.width || big.pixel >= big.pixelMax - 0.01,
    `at 1920×1080 the grid spans ${big.width} of ${big.panel.width} px at ${big.pixel} px per digit pixel`);
  await assertDigitsFitPhone(assert, page, 'generation');
  assertClean(assert, problems);
  await page.close();
});
