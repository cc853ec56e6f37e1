// Data-parallel workers (?workers=N): a minibatch split over two workers trains like one
// worker (the loss curves agree to 1e-4 relative over 50 steps, for PC, BP and BP through
// inference), the page says how many workers it uses, a bad count is reported, and two
// workers train inside a plain iframe on another origin (no cross-origin isolation); a
// step that diverges on two workers is reported once, and the page recovers. By default
// only runs whose steps gain from it are split (the engine's cost model).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launch, openPage, ready, until, assertClean, hostPage } from './browser.mjs';

let env;
before(async () => { env = await launch(); });
after(async () => { await env?.close(); });

const stepOf = async (page) => Number(await page.getByTestId('metric-step').textContent());

/** The loss of each of `steps` single steps of the run at `query`, from the page's CSV. */
async function losses(query, steps, { resetAfter = 0 } = {}) {
  const { page, problems } = await openPage(env.browser, `${env.url}${query}`);
  await ready(page);
  if (resetAfter) {
    // A few steps, then a reset: the run starts again from its seed (and a replica's part
    // of the next step, learnt ahead, must be thrown away with the old run).
    for (let n = 1; n <= resetAfter; n++) {
      await page.getByTestId('step').click();
      await until(async () => (await stepOf(page)) === n, 20_000, `step ${n} of ${query}`);
    }
    await page.getByTestId('reset').click();
    await until(async () => (await stepOf(page)) === 0, 20_000, `the reset of ${query}`);
  }
  for (let n = 1; n <= steps; n++) {
    await page.getByTestId('step').click();
    await until(async () => (await stepOf(page)) === n, 20_000, `step ${n} of ${query}`);
  }
  const workers = Number(await page.getByTestId('metric-workers').textContent());
  const csv = page.waitForEvent('download');
  await page.getByTestId('export-csv').click();
  const rows = readFileSync(await (await csv).path(), 'utf8').trim().split('\n').map((r) => r.split(','));
  const [header, ...data] = rows;
  const [run, step, loss] = ['run', 'step', 'loss'].map((c) => header.indexOf(c));
  const curve = data.filter((r) => r[run] === data[0][run]).map((r) => [Number(r[step]), Number(r[loss])]);
  assertClean(assert, problems);
  await page.close();
  return { workers, curve };
}

const RUNS = {
  'PC classification': 'preset=classification&hidden=32,32&batch=40',
  'BP classification': 'preset=classification&rule=bp&hidden=32,32&batch=40',
  'BP through inference (compression)': 'preset=compression&rule=bp-through-inference&hidden=32&latent=8&batch=40&T=10',
};

for (const [name, settings] of Object.entries(RUNS)) {
  test(`${name}: two workers learn like one, to 1e-4 over 50 steps`, async () => {
    const one = await losses(`?${settings}&workers=1`, 50);
    const two = await losses(`?${settings}&workers=2`, 50);
    assert.equal(one.workers, 1);
    assert.equal(two.workers, 2);
    assert.deepEqual(two.curve.map(([s]) => s), one.curve.map(([s]) => s), 'the same steps recorded');
    assert.equal(one.curve.length, 50);
    one.curve.forEach(([s, a], i) => {
      const b = two.curve[i][1];
      assert.ok(Number.isFinite(a) && Math.abs(a - b) <= 1e-4 * Math.max(Math.abs(a), 1e-3),
        `step ${s}: loss ${b} on two workers against ${a} on one`);
    });
  });
}

test('after a reset, two workers learn like one from the seed again', async () => {
  const settings = RUNS['PC classification'];
  const one = await losses(`?${settings}&workers=1`, 20);
  const two = await losses(`?${settings}&workers=2`, 20, { resetAfter: 5 });
  assert.equal(two.curve.length, 20);
  one.curve.forEach(([s, a], i) => {
    const b = two.curve[i][1];
    assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(Math.abs(a), 1e-3), `step ${s}: ${b} after a reset against ${a}`);
  });
});

test('by default a run is split only where the engine says it gains; ?workers=N splits every run', async () => {
  // A four-core machine: the default is three workers.
  const fourCores = () => Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', { get: () => 4 });
  const workersOf = async (query) => {
    const { page, problems } = await openPage(env.browser, `${env.url}${query}`, { init: fourCores });
    await ready(page);
    await page.getByTestId('step').click();
    await until(async () => (await stepOf(page)) === 1, 20_000, `a step of ${query}`);
    const metric = page.getByTestId('metric-workers');
    const shown = { used: Number(await metric.textContent()), title: await metric.getAttribute('title') };
    assertClean(assert, problems);
    await page.close();
    return shown;
  };
  // PC classification: 2,300 FLOPs per exchanged weight, split over all three.
  assert.deepEqual(await workersOf('?preset=classification'), { used: 3, title: '' });
  // BP classification: 6·B = 768, trained on one worker, and the metric says why.
  const bp = await workersOf('?preset=classification&rule=bp');
  assert.equal(bp.used, 1);
  assert.match(bp.title, /3 workers started; these runs' steps are too short to gain/);
  // Asked for: split anyway.
  assert.deepEqual(await workersOf('?preset=classification&rule=bp&workers=3'), { used: 3, title: '' });
});

test('a bad worker count is reported and the page trains on its default', async () => {
  for (const bad of ['0', 'abc', '99', '1.5']) {
    const { page } = await openPage(env.browser, `${env.url}?workers=${bad}`);
    await ready(page);
    await page.getByTestId('error').filter({ hasText: `Ignored workers=${bad}` }).waitFor({ timeout: 10_000 });
    const workers = Number(await page.getByTestId('metric-workers').textContent());
    assert.ok(workers >= 1, `${workers} workers`);
    await page.close();
  }
});

test('two workers train in a plain iframe on another origin', async () => {
  const host = await hostPage(`${env.url}?preset=classification&embed=1&panels=training&workers=2`);
  try {
    const { page, problems } = await openPage(env.browser, host.url);
    const frame = page.frameLocator('iframe');
    await frame.getByTestId('status').filter({ hasText: 'ready' }).waitFor({ timeout: 60_000 });
    assert.equal(await frame.locator('html').evaluate(() => self.crossOriginIsolated), false);
    assert.equal(await frame.getByTestId('metric-workers').textContent(), '2');
    await frame.getByTestId('play').click();
    await until(async () => Number(await frame.getByTestId('metric-step').textContent()) > 20, 60_000, 'training in the iframe');
    await frame.getByTestId('pause').click();
    await frame.getByTestId('status').filter({ hasText: 'paused' }).waitFor();
    assertClean(assert, problems);
    await page.close();
  } finally {
    await host.close();
  }
});

test('a step that diverges on two workers stops with one message; the page recovers', async () => {
  const { page, problems } = await openPage(env.browser, `${env.url}?optimizer=sgd&lr=10&workers=2`);
  await ready(page);
  assert.equal(await page.getByTestId('metric-workers').textContent(), '2');
  await page.getByTestId('play').click();
  const error = page.getByTestId('error');
  await until(() => error.isVisible(), 60_000, 'a divergence message');
  const text = await error.textContent();
  assert.match(text, /Training stopped: .*training diverged at step \d+/);
  assert.doesNotMatch(text, /replica/, 'the replicas diverge alike and are not reported apart');
  await page.getByTestId('status').filter({ hasText: 'paused' }).waitFor();
  await page.getByTestId('lr').fill('0.01');
  await page.getByTestId('lr').dispatchEvent('change');
  await page.getByTestId('status').filter({ hasText: 'ready' }).waitFor();
  for (let n = 1; n <= 3; n++) {
    await page.getByTestId('step').click();
    await until(async () => (await stepOf(page)) === n, 20_000, `step ${n} after the divergence`);
  }
  assert.deepEqual(problems.pageErrors, []);
  assert.deepEqual(problems.foreignRequests, []);
  await page.close();
});
