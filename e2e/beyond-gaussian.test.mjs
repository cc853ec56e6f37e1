// The beyond-Gaussian toy in the gradients panel: the numbers it shows are the engine's
// (beyondGaussianToy computed independently in the page for the same settings), and what
// they show holds: matched PC's cosines are closer to BP than Gaussian PC's at s = 1, and
// its final loss lies between BP's and Gaussian PC's. Screenshots at four sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pageOpener, assertClean, SCREENSHOTS } from './browser.mjs';

const open = pageOpener();
const SIZES = { 960: [960, 540], 1280: [1280, 800], 1920: [1920, 1080], phone: [390, 844] };

test('the toy shows the engine\'s cosines and losses for Gaussian PC, matched PC and BP', async () => {
  const { page, problems } = await open('?preset=gradients');
  await page.getByTestId('toy-seed').fill('2');
  await page.getByTestId('toy-run').click();
  const table = page.getByTestId('toy-table');
  await table.waitFor({ timeout: 60_000 });
  const engine = await page.evaluate(async () => {
    const pkg = await import('/www/pkg/pclab.js');
    await pkg.default();
    return pkg.beyondGaussianToy({ seed: 2, output_scale: 1 });
  });
  // Hostile settings are refused with a message, not a panic.
  const refusals = await page.evaluate(async () => {
    const pkg = await import('/www/pkg/pclab.js');
    return [{ rate: 0 }, { ts: [1e6] }, { output_scale: 'x' }, { lr: 1e9 }].map((s) => {
      try { pkg.beyondGaussianToy(s); return 'accepted'; } catch (e) { return String(e.message ?? e); }
    });
  });
  assert.match(refusals[0], /rate/);
  assert.match(refusals[1], /ts/);
  assert.match(refusals[2], /invalid toy settings/);
  assert.match(refusals[3], /lr must be/);
  const { ts } = engine.settings;
  for (const rule of ['gaussian_pc', 'matched_pc']) {
    for (const [k, t] of ts.entries()) {
      for (const layer of [1, 2]) {
        const cell = table.locator(`td[data-rule="${rule}"][data-layer="${layer}"][data-t="${t}"]`);
        const shown = Number(await cell.getAttribute('data-value'));
        assert.ok(Math.abs(shown - engine.cosines[rule][k][layer - 1]) < 1e-12, `${rule} layer ${layer} T=${t}: ${shown}`);
        assert.equal(await cell.textContent(), engine.cosines[rule][k][layer - 1].toFixed(4));
      }
    }
  }
  const finalLoss = {};
  for (const rule of ['gaussian_pc', 'matched_pc', 'bp']) {
    finalLoss[rule] = Number(await table.locator(`.toy-loss[data-rule="${rule}"]`).getAttribute('data-value'));
    assert.ok(Math.abs(finalLoss[rule] - engine.loss[rule].at(-1)) < 1e-12, `${rule} loss ${finalLoss[rule]}`);
  }
  assert.ok(finalLoss.bp < finalLoss.matched_pc && finalLoss.matched_pc < finalLoss.gaussian_pc, JSON.stringify(finalLoss));
  const last = ts.length - 1;
  assert.ok(engine.cosines.matched_pc[last][1] > engine.cosines.gaussian_pc[last][1] + 0.03);
  // Both charts drew their series (two PC rules × two layers; three loss curves).
  const drawn = await page.evaluate(() => [...document.querySelectorAll('[data-testid=beyond-gaussian] .chart')]
    .map((c) => c.querySelectorAll('.u-legend .u-series').length));
  assert.deepEqual(drawn, [4, 3]); // a legend entry per line
  const toy = page.locator("#panel-gradients");
  for (const [name, [width, height]] of Object.entries(SIZES)) {
    await page.setViewportSize({ width, height });
    await page.waitForTimeout(300);
    await toy.screenshot({ path: `${SCREENSHOTS}panel-gradients-toy-${name}.png` });
  }
  assertClean(assert, problems);
  await page.close();
});
