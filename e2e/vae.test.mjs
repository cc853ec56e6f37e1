// The VAE comparison end to end (src/vae, www/panels/vae.js): the generation experiment's
// VAE panel trains a BP-VAE and a PC-VAE side by side; the MSE and ELBO it shows are the
// engine's, recomputed here by a second engine in the page from the same seed and steps;
// the reconstructions are the engine's pixels; two prior samples differ, and BP's decoder
// and PC's draw different images from the same codes; the trained panel passes axe. Screenshots at 960×540, 1280×800,
// 1920×1080 and 390×844 land in e2e/screenshots/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pageOpener, assertClean, SCREENSHOTS } from './browser.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const openPageAt = pageOpener();
const STEPS = 40;
const SEED = 3;
const TILE = 28 * 2 + 2; // drawDigits at scale 2 with a 2-pixel gap

/** The grey levels of tile `k` of the digit strip `testid`. */
function tile(page, testid, k) {
  return page.evaluate(([id, k, size]) => {
    const ctx = document.querySelector(`[data-testid="${id}"]`).getContext('2d');
    const data = ctx.getImageData(k * size, 0, 56, 56).data;
    const out = [];
    for (let y = 0; y < 56; y += 2) for (let x = 0; x < 56; x += 2) out.push(data[(y * 56 + x) * 4]);
    return out;
  }, [testid, k, TILE]);
}

const grey = (v) => Math.round(255 * (1 - Math.max(0, Math.min(1, v))));

test('the VAE panel shows the engine\'s BP and PC numbers, reconstructions and differing prior samples', async () => {
  const { page, problems } = await openPageAt('?preset=generation&all=1');
  await page.setViewportSize({ width: 1280, height: 800 });
  const panel = page.locator('#panel-vae');
  assert.match(await page.getByTestId('seeing-vae').textContent(), /^What am I seeing: .*F = −ELBO/);

  // No empty digit strips before the first run.
  assert.equal(await page.getByTestId('vae-digits').isVisible(), false);
  // A bad input is refused with the engine's bound in the message.
  await page.getByTestId('vae-steps').fill('0');
  await page.getByTestId('vae-train').click();
  assert.match(await page.getByTestId('error').textContent(), /VAE steps: a whole number from 1 to \d+/);
  await page.locator('.dismiss').click();

  await page.getByTestId('vae-steps').fill(String(STEPS));
  await page.getByTestId('vae-seed').fill(String(SEED));
  await page.getByTestId('vae-train').click();
  const table = page.getByTestId('vae-table');
  await table.waitFor({ timeout: 120_000 });
  assert.equal(await page.getByTestId('vae-digits').isVisible(), true);
  const shown = await table.locator('td').evaluateAll((tds) => tds.map((td) => ({
    rule: td.dataset.rule, metric: td.dataset.metric, value: Number(td.dataset.value), text: td.textContent,
  })));
  assert.equal(shown.length, 6, 'MSE, ELBO and KL of both rules');

  // A second engine in the page, the same plan: the same numbers and pixels.
  const engine = await page.evaluate(async ([steps, seed]) => {
    const mod = await import('/www/engine-loader.js');
    await mod.default();
    const bytes = new Uint8Array(await (await fetch('/www/data/mnist-10k.bin.gz')).arrayBuffer());
    const lab = new mod.Lab(mod.presetConfig('generation'), bytes);
    const vae = new mod.VaeComparison(lab, steps, seed, 500);
    while (!vae.advance(5));
    const out = { history: vae.history(), recon: Array.from(vae.reconstructions(8)), samples: Array.from(vae.samples(8, seed)) };
    vae.free();
    lab.free();
    return out;
  }, [STEPS, SEED]);
  const last = engine.history[engine.history.length - 1];
  assert.equal(last.step, STEPS);
  for (const { rule, metric, value, text } of shown) {
    assert.equal(value, last[rule][metric], `${rule} ${metric}`);
    assert.equal(text, last[rule][metric].toFixed(metric === 'mse' ? 4 : 1), `${rule} ${metric} as shown`);
  }
  const first = engine.history[0];
  assert.deepEqual(first.bp, first.pc, 'both start from the same weights');
  for (const rule of ['bp', 'pc']) assert.ok(last[rule].mse < first[rule].mse, `${rule} learns: ${first[rule].mse} → ${last[rule].mse}`);

  // Pixels: the first test digit, its PC reconstruction, BP's first prior sample.
  const pixels = (a, k) => a.slice(k * 784, (k + 1) * 784).map(grey);
  const near = (a, b, what) => assert.ok(a.every((g, i) => Math.abs(g - b[i]) <= 1), what);
  near(await tile(page, 'vae-digits', 0), pixels(engine.recon, 0), 'the test digit');
  near(await tile(page, 'vae-recon-pc', 0), pixels(engine.recon, 2 * 8), 'PC\'s reconstruction');
  near(await tile(page, 'vae-samples-bp', 0), pixels(engine.samples, 0), 'BP\'s prior sample');
  const differ = (a, b) => a.filter((g, i) => Math.abs(g - b[i]) > 8).length;
  const [s0, s1] = [await tile(page, 'vae-samples-bp', 0), await tile(page, 'vae-samples-bp', 1)];
  assert.ok(differ(s0, s1) > 20, `two prior samples differ in ${differ(s0, s1)} pixels`);
  near(await tile(page, 'vae-samples-pc', 0), pixels(engine.samples, 8), 'PC\'s prior sample');
  const gap = Math.max(...engine.samples.slice(0, 784).map((v, i) => Math.abs(v - engine.samples[8 * 784 + i])));
  assert.ok(gap > 1e-3, `BP's and PC's decoders draw different images from one code (largest gap ${gap})`);

  // The trained panel (table, strips, chart) has no serious or critical axe violation.
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const { violations: all } = await window.axe.run('#panel-vae', { resultTypes: ['violations'] });
    return all.filter((v) => ['serious', 'critical'].includes(v.impact)).map((v) => `${v.id}: ${v.help}`);
  });
  assert.deepEqual(violations, []);

  for (const [w, h] of [[960, 540], [1280, 800], [1920, 1080], [390, 844]]) {
    await page.setViewportSize({ width: w, height: h });
    await panel.scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${SCREENSHOTS}vae-${w}x${h}.png` });
    await panel.screenshot({ path: `${SCREENSHOTS}panel-vae-${w}.png` });
  }
  assertClean(assert, problems);
  await page.close();
});
