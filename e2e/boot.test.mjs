// The page loads the wasm engine in headless Chromium and shows its version.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launch, openPage, SCREENSHOTS } from './browser.mjs';

const cargoVersion = readFileSync(new URL('../Cargo.toml', import.meta.url), 'utf8')
  .match(/^version = "([^"]+)"/m)[1];

let env;
before(async () => { env = await launch(); });
after(async () => { await env?.close(); });

test('the page shows the engine version without console errors', async () => {
  const { page, problems } = await openPage(env.browser, env.url);
  // Ready, or an error message: whichever comes first, so a failed load says why.
  const error = page.getByTestId('error');
  await page.getByTestId('status').filter({ hasText: 'ready' }).or(error).first()
    .waitFor({ timeout: 30_000 });
  assert.equal(await error.isVisible(), false, `the page shows: ${await error.textContent()}`);
  assert.equal(await page.getByTestId('version').textContent(), cargoVersion);
  await page.screenshot({ path: `${SCREENSHOTS}boot.png`, fullPage: true });
  assert.deepEqual(problems.consoleErrors, []);
  assert.deepEqual(problems.pageErrors, []);
  assert.deepEqual(problems.foreignRequests, []);
});
