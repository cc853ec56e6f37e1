// Accessibility: axe-core audits every preset, every panel open, in the light and the
// dark theme and in presentation mode; any serious or critical violation fails.
// axe is evaluated into the page through the browser's debugging protocol, which the
// page's Content-Security-Policy (no inline scripts) does not govern.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { launch, openPage, ready, until, metric, assertClean } from './browser.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let env;
let presets;
before(async () => {
  env = await launch();
  const { page } = await openPage(env.browser, env.url);
  await ready(page);
  presets = await page.evaluate(async () => (await import('/www/pkg/pclab.js')).configSchema().presets.map((p) => p.name));
  await page.close();
});
after(async () => { await env?.close(); });

/** axe's serious and critical violations on `page`, one line each. */
async function violations(page) {
  await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    const { violations: all } = await window.axe.run(document, { resultTypes: ['violations'] });
    return all.filter((v) => ['serious', 'critical'].includes(v.impact))
      .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  });
  return found;
}

/** Opens `query` in `scheme`, trains a few steps so every figure has content, audits. */
async function audit(query, scheme) {
  const { page, problems } = await openPage(env.browser, `${env.url}${query}`, { colorScheme: scheme });
  await ready(page);
  await page.getByTestId('play').click();
  await until(async () => (await metric(page, 'step')) > 3, 30_000, 'a few steps');
  await page.getByTestId('pause').click();
  await page.getByTestId('status').filter({ hasText: 'paused' }).waitFor();
  const found = await violations(page);
  assertClean(assert, problems);
  await page.close();
  return found;
}

for (const scheme of ['light', 'dark']) {
  test(`every preset passes axe (serious, critical) in the ${scheme} theme`, async () => {
    const failures = [];
    for (const name of presets) {
      for (const v of await audit(`?preset=${name}&all=1`, scheme)) failures.push(`${name}: ${v}`);
    }
    assert.deepEqual(failures, []);
  });
}

test('presentation mode and the shortcuts dialog pass axe', async () => {
  const failures = await audit('?preset=classification&present=1', 'light');
  const { page } = await openPage(env.browser, `${env.url}?embed=1&controls=0&panels=training`);
  await ready(page);
  failures.push(...await violations(page));
  await page.keyboard.press('?');
  await page.getByRole('dialog').waitFor();
  failures.push(...await violations(page));
  await page.close();
  assert.deepEqual(failures, []);
});
