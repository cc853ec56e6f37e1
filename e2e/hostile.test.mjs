// Hostile and careless input: every combination the controls or a URL can ask for leaves
// a page that answers (buttons enabled, a step trains), and work over the engine's budget
// is refused by name before anything is built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { pageOpener, metric, until, assertClean } from './browser.mjs';

const open = pageOpener();

/** The page answers: the buttons are enabled and one step trains. */
async function answers(page, what) {
  await page.getByTestId('status').filter({ hasText: 'ready' }).waitFor({ timeout: 60_000 });
  assert.equal(await page.getByTestId('step').isDisabled(), false, `${what}: step enabled`);
  await page.getByTestId('step').click();
  await until(async () => (await metric(page, 'step')) === 1, 60_000, `${what}: one step`);
}

test('a network over the budget is refused by name and the page falls back to one that trains', async () => {
  const { page, problems } = await open('?hidden=4096,4096,4096,4096,4096,4096,4096,4096&T=500&batch=2048');
  await until(() => page.getByTestId('error').isVisible(), 30_000, 'the refusal');
  const text = await page.getByTestId('error').textContent();
  for (const part of ['GFLOP', 'budget', 'T = 500', 'batch 2048']) assert.ok(text.includes(part), `${part} in ${text}`);
  await answers(page, 'after the refusal');
  assert.equal(new URL(page.url()).searchParams.get('T'), '8', 'the URL holds what runs');
  assertClean(assert, problems);
  await page.close();
});

test('a preset with a setting over the budget falls back to that preset, and says so', async () => {
  const { page, problems } = await open('?preset=compression&batch=8000');
  await until(() => page.getByTestId('error').isVisible(), 30_000, 'the refusal');
  const text = await page.getByTestId('error').textContent();
  assert.match(text, /budget/);
  assert.match(text, /starts from the compression preset's own settings instead/);
  await answers(page, 'after the refusal');
  assert.equal(await page.locator('#setting-hidden').inputValue(), '384', 'the compression decoder, not the default classifier');
  assert.equal(await page.locator('#setting-batch').inputValue(), '250');
  assertClean(assert, problems);
  await page.close();
});

test('every combination the issue found dead now answers', async () => {
  for (const query of [
    '?rule=bp-through-inference',
    '?preset=tradeoff&compare=bp',
    '?experiment=tradeoff&rule=bp',
    '?experiment=generate&inference=exact',
    '?inference=strict&experiment=compress',
  ]) {
    const { page, problems } = await open(query);
    await answers(page, query);
    if (await page.getByTestId('error').isVisible()) {
      assert.match(await page.getByTestId('error').textContent(), /experiment|inference|rule/, query);
    }
    assertClean(assert, problems);
    await page.close();
  }
});

test('the compare menu offers only what applies', async () => {
  const { page, problems } = await open('?rule=bp');
  const enabled = () => page.getByTestId('compare').locator('option:not([disabled])').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(await enabled(), ['off', 'bp'], 'no T+1 accumulation for BP');
  await page.getByTestId('rule').selectOption('pc');
  await page.getByTestId('status').filter({ hasText: 'ready' }).waitFor();
  assert.deepEqual(await enabled(), ['off', 'bp', 'accumulate']);
  assertClean(assert, problems);
  await page.close();
});

test('a saved model edited to ask for minutes of work per step is refused; the page trains on', async () => {
  const { page, problems } = await open();
  await page.getByTestId('step').click();
  await until(async () => (await metric(page, 'step')) === 1, 60_000, 'a step');
  const save = page.waitForEvent('download');
  await page.getByTestId('save-model').click();
  const model = JSON.parse(readFileSync(await (await save).path(), 'utf8'));
  model.config.steps = 1000;
  model.config.batch = 8192;
  await page.getByTestId('load-model').setInputFiles({ name: 'edited.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(model)) });
  await until(() => page.getByTestId('error').isVisible(), 30_000, 'the refusal');
  assert.match(await page.getByTestId('error').textContent(), /load: .*T = 1000.*GFLOP/);
  await page.getByTestId('step').click();
  await until(async () => (await metric(page, 'step')) === 2, 60_000, 'the run goes on');
  assertClean(assert, problems);
  await page.close();
});

test('a value not applied is reported until a valid one is applied', async () => {
  const { page, problems } = await open('?preset=classification');
  await page.getByTestId('status').filter({ hasText: 'ready' }).waitFor({ timeout: 60_000 });
  const hidden = page.locator('#setting-hidden');
  await hidden.fill('abc');
  await hidden.dispatchEvent('change');
  await until(() => page.getByTestId('error').isVisible(), 10_000, 'the refusal');
  assert.match(await page.getByTestId('error').textContent(), /Not applied: hidden=abc/);
  await hidden.fill('32');
  await hidden.dispatchEvent('change');
  await until(async () => !(await page.getByTestId('error').isVisible()), 30_000, 'the stale refusal gone once 32 is in');
  assert.equal(new URL(page.url()).searchParams.get('hidden'), '32');
  assertClean(assert, problems);
  await page.close();
});
