// One source of truth, seen from the page: every preset it offers is exactly the engine's,
// its limits are the engine's, and a loaded model brings its own architecture into the
// controls, the URL and the next reset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { pageOpener, metric, until, assertClean } from './browser.mjs';

const open = pageOpener();

/** The engine's answer and the page's state, both read inside the page. */
function pageState(page, preset) {
  return page.evaluate(async (name) => {
    const pkg = await import('/www/pkg/pclab.js');
    const settings = await import('/www/settings.js');
    const engine = { schema: pkg.configSchema(), withSettings: pkg.configWithSettings, runConfigs: pkg.runConfigs };
    const { state, errors } = settings.readState(location.search, engine);
    const controls = {};
    for (const s of settings.settingsOf(engine.schema)) {
      const input = document.getElementById(`setting-${s.name}`);
      controls[s.name] = input.type === 'checkbox' ? input.checked : input.value;
    }
    const expected = {};
    const config = name ? pkg.presetConfig(name) : state.config;
    for (const s of settings.settingsOf(engine.schema)) {
      const value = s.page ? state.page[s.name] : config[s.name];
      expected[s.name] = s.kind === 'bool' ? value : settings.formatValue(s, value);
    }
    return { presets: engine.schema.presets.map((p) => p.name), config: name ? config : null, state, errors, controls, expected };
  }, preset ?? null);
}

test('every preset the page offers is exactly the engine preset, in the URL and the controls', async () => {
  const { page, problems } = await open();
  const { presets } = await pageState(page);
  const offered = await page.getByTestId('preset').locator('option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
  assert.deepEqual(offered, presets, 'the preset menu lists the engine presets');
  for (const name of ['gradients', 'tplus1', 'tutorial']) assert.ok(offered.includes(name), name);
  await page.close();
  for (const name of presets) {
    const opened = await open(`?preset=${name}`);
    const got = await pageState(opened.page, name);
    assert.deepEqual(got.errors, [], `${name}: ${got.errors}`);
    assert.deepEqual(got.state.config, got.config, `${name}: the URL the page wrote holds the engine preset`);
    assert.deepEqual(got.controls, got.expected, `${name}: every control shows the preset`);
    assert.equal(await opened.page.getByTestId('error').isVisible(), false, name);
    assertClean(assert, opened.problems);
    await opened.page.close();
  }
  assertClean(assert, problems);
});

test("the page's limits are the engine's", async () => {
  const { page, problems } = await open();
  const max = (name) => page.locator(`#setting-${name}`).getAttribute('data-max');
  assert.equal(await max('steps'), '1000');
  assert.equal(await max('batch'), '8192');
  assert.equal(await max('latent'), '4096');
  const activations = await page.getByTestId('activation').locator('option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(activations, ['identity', 'tanh', 'sigmoid', 'relu', 'leaky-relu', 'gelu']);
  // A value past the engine's limit is refused by the engine, named, and the control reverts.
  await page.getByTestId('steps').fill('1001');
  await page.getByTestId('steps').dispatchEvent('change');
  await until(() => page.getByTestId('error').isVisible(), 5000, 'a refusal');
  assert.match(await page.getByTestId('error').textContent(), /steps \(T\) must be a whole number from 1 to 1000/);
  assert.equal(await page.getByTestId('steps').inputValue(), '8');
  assert.equal(new URL(page.url()).searchParams.get('T'), '8');
  assertClean(assert, problems);
  await page.close();
});

/** Plays until the step counter passes `n`, then pauses and waits for the evaluation. */
async function trainPast(page, n) {
  await page.getByTestId('play').click();
  await until(async () => (await metric(page, 'step')) > n, 60_000, `step > ${n}`);
  await page.getByTestId('pause').click();
  await page.getByTestId('status').filter({ hasText: 'paused' }).waitFor();
}

test('a loaded model of another architecture sets the controls, the URL and the next reset', async () => {
  // A model of 784-32-10, trained a little, saved from one page...
  const donor = await open('?hidden=32&seed=5&batch=64');
  await trainPast(donor.page, 60);
  await until(async () => (await metric(donor.page, 'accuracy')) > 0, 20_000, 'the donor evaluated');
  const save = donor.page.waitForEvent('download');
  await donor.page.getByTestId('save-model').click();
  const json = readFileSync(await (await save).path(), 'utf8');
  assert.deepEqual(JSON.parse(json).config.hidden, [32]);
  await donor.page.close();

  // ...loaded into a page of the default 784-128-128-128-10.
  const { page, problems } = await open();
  assert.equal(await page.getByTestId('hidden').inputValue(), '128,128,128');
  await page.getByTestId('load-model').setInputFiles({ name: 'model.json', mimeType: 'application/json', buffer: Buffer.from(json) });
  await page.getByTestId('data-status').filter({ hasText: 'model loaded' }).waitFor({ timeout: 20_000 });
  assert.equal(await page.getByTestId('hidden').inputValue(), '32', 'the controls show the model');
  assert.equal(await page.getByTestId('batch').inputValue(), '64');
  assert.equal(await page.getByTestId('seed').inputValue(), '5');
  const url = new URL(page.url()).searchParams;
  assert.equal(url.get('hidden'), '32', 'the URL shows the model');
  assert.equal(url.get('batch'), '64');
  // The loaded weights classify at once (an untrained 784-32-10 guesses about 10%).
  const loaded = await until(async () => {
    const a = await metric(page, 'accuracy');
    return a > 0 ? a : 0;
  }, 20_000, 'the loaded model evaluated');
  assert.ok(loaded > 50, `accuracy of the loaded model: ${loaded}%`);
  // Training continues from them.
  await page.getByTestId('step').click();
  await until(async () => (await metric(page, 'step')) === 1, 10_000, 'a step after loading');
  // Reset starts that architecture afresh.
  await page.getByTestId('reset').click();
  await page.getByTestId('status').filter({ hasText: 'ready' }).waitFor();
  assert.equal(await page.getByTestId('hidden').inputValue(), '32');
  assert.equal(new URL(page.url()).searchParams.get('hidden'), '32');
  await page.getByTestId('step').click();
  await until(async () => (await metric(page, 'step')) === 1, 10_000, 'a step after reset');
  assert.equal(await page.getByTestId('error').isVisible(), false, await page.getByTestId('error').textContent());
  assertClean(assert, problems);
  await page.close();
});

test('choosing compress starts from settings under which it learns', async () => {
  const { page, problems } = await open();
  await page.getByTestId('experiment').selectOption('compress');
  await page.getByTestId('status').filter({ hasText: 'ready' }).waitFor();
  assert.equal(await page.getByTestId('output_energy').inputValue(), 'gaussian');
  assert.equal(await page.getByTestId('hidden').inputValue(), '384');
  assert.equal(await page.locator('#panel-reconstructions').isVisible(), true);
  assert.equal(await page.locator('#panel-classification').isVisible(), false, 'compress does not classify');
  assert.equal(await page.getByTestId('lambda').isVisible(), false, 'λ belongs to the trade-off');
  // An invalid combination is refused by name; the page stays usable.
  await page.getByTestId('inference').evaluate((select) => {
    select.value = 'strict';
    select.dispatchEvent(new Event('change'));
  });
  await until(() => page.getByTestId('error').isVisible(), 5000, 'a refusal');
  assert.match(await page.getByTestId('error').textContent(), /strict inference needs both ends clamped/);
  assert.equal(await page.getByTestId('play').isDisabled(), false);
  await page.getByTestId('step').click();
  await until(async () => (await metric(page, 'step')) === 1, 20_000, 'a compress step');
  assertClean(assert, problems);
  await page.close();
});
