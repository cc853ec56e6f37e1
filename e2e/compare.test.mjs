// Compare mode shows both runs in every panel, side by side and labelled by rule, with
// the engine's numbers: the metric bar, the inference replay (and a decoder's dynamics,
// PC-trained against BP-trained) and the receptive fields. Each figure is checked against
// the same runs rebuilt in node from the same wasm module and trained the same steps
// (training is deterministic). Also: the drawn digit and the least-well-explained test
// digit can be replayed. The runs are named by the engine (the rules' legend names of
// configSchema()), the selects show the engine's labels, and the metric bar with two runs
// fits a slide and a phone. Screenshots land in e2e/screenshots/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { pageOpener, metric, until, assertClean, assertDigitsFitPhone, setReplayT as setT, drawOne, SCREENSHOTS } from './browser.mjs';
import { initSync, Lab, presetConfig, runConfigs, configWithSettings, configSchema } from '../www/pkg/pclab.js';

initSync({ module: readFileSync(new URL('../www/pkg/pclab_bg.wasm', import.meta.url)) });
const schema = configSchema();
/** The engine's choices of the rule setting: [{ name, label, short }]. */
const RULES = schema.fields.find((f) => f.name === 'rule').choices;
/** The engine's legend name of `rule`. */
const short = (rule) => RULES.find((c) => c.name === rule).short;
const shipped = readFileSync(new URL('../www/data/mnist-10k.bin.gz', import.meta.url));

const openPageAt = pageOpener();

/** A page at `query` with every panel open, at `width`×`height`. */
async function open(query, width = 1280, height = 800) {
  const opened = await openPageAt(`${query}&all=1`);
  await opened.page.setViewportSize({ width, height });
  return opened;
}

/** The runs the page trains for `preset` with `settings` and `compare`, each trained `steps` minibatches in node. */
function engineRuns(preset, settings, compare, steps) {
  const base = configWithSettings(presetConfig(preset), Object.keys(settings), Object.values(settings).map(String));
  return runConfigs(base, compare).map((config) => {
    const lab = new Lab(config, shipped);
    lab.train(steps);
    return lab;
  });
}

/** Clicks "step" `n` times, each time waiting for the counter. */
async function stepTimes(page, n) {
  for (let k = 1; k <= n; k++) {
    await page.getByTestId('step').click();
    await until(async () => (await metric(page, 'step')) === k, 60_000, `step ${k}`);
  }
}

const close = (a, b, tol = 1e-4) => Math.abs(a - b) <= tol * (1 + Math.abs(b));

/** The diverging colour map of plots.js, by hand: blue (−1) – white (0) – red (+1). */
function diverging(v) {
  const end = v < 0 ? [33, 102, 172] : [178, 24, 43];
  return end.map((c) => Math.round(255 + Math.min(1, Math.abs(v)) * (c - 255)));
}

test('compare shows both runs in the metric bar, the replay and the receptive fields, with the engine\'s values', async () => {
  const { page, problems } = await open('?preset=classification&compare=bp');
  const names = [short('pc'), short('bp')];
  // Train until both runs have been evaluated (when evaluating is due is the worker's
  // business), then pause: the last visuals show the weights at the final step.
  const runs = page.locator('[data-testid=metric-accuracy] .metric-run');
  await page.getByTestId('play').click();
  await until(async () => (await runs.count()) === 2 && !(await runs.allTextContents()).some((t) => t.includes('–')), 60_000, 'both accuracies');
  await page.getByTestId('pause').click();
  await page.getByTestId('status').filter({ hasText: 'paused' }).waitFor();
  await page.waitForTimeout(1500); // the visuals sent on pause
  const steps = await metric(page, 'step');
  // In each half-width column a layer's name heads its pictures, even where they wrap
  // (the label layer's three bar charts stack there).
  const below = await page.locator('[data-testid=replay-layer]').evaluateAll((rows) => rows
    .filter((r) => r.querySelector('.layer-name').getBoundingClientRect().top > r.querySelector('.layer-cells').getBoundingClientRect().top + 2)
    .map((r) => r.dataset.layer));
  assert.deepEqual(below, [], 'no layer name below its first picture');

  // The metric bar: each run's accuracy, labelled by its rule, as the engine reports it
  // at the step of the page's latest evaluation.
  const shown = await runs.evaluateAll((spans) => spans.map((s) => ({
    step: Number(s.dataset.evalStep), name: s.querySelector('.run-label').textContent, value: s.querySelector('.metric-value').textContent })));
  assert.equal(shown[0].step, shown[1].step, 'the runs are evaluated together');
  assert.ok(shown[0].step >= 1 && shown[0].step <= steps, `evaluated at step ${shown[0].step} of ${steps}`);
  const evaluated = engineRuns('classification', {}, 'bp', shown[0].step);
  for (const [i, lab] of evaluated.entries()) {
    assert.equal(shown[i].name, names[i]);
    assert.equal(shown[i].value, (100 * lab.evaluate().accuracy).toFixed(1), `run ${i}'s accuracy at step ${shown[0].step}`);
  }
  for (const lab of evaluated) lab.free();
  assert.deepEqual(await page.getByTestId('run-legend').locator('.run-label').allTextContents(), names, 'the runs named once');
  const labs = engineRuns('classification', {}, 'bp', steps);

  // The replay: a column per run, each showing its own engine's energy at every t.
  const columns = page.locator('[data-testid=replay-run]');
  await until(async () => (await columns.count()) === 2, 10_000, 'two replay columns');
  const T = Number(await page.getByTestId('replay-t').getAttribute('max'));
  const replays = labs.map((lab) => lab.replay(0));
  for (const t of [0, T]) {
    await setT(page, t);
    for (const [i, replay] of replays.entries()) {
      const column = columns.nth(i);
      assert.match(await column.locator('.run-head').textContent(), new RegExp(`^${names[i]}`));
      await until(async () => close(Number(await column.getAttribute('data-energy')), replay.clamped.total[t]), 10_000,
        `run ${i} at t = ${t}: the engine's F = ${replay.clamped.total[t]}`);
      const label = column.locator('[data-testid=replay-layer][data-role=label]');
      assert.ok(close(Number(await label.getAttribute('data-energy')), replay.clamped.energy[t][4]));
    }
  }
  assert.notEqual(replays[0].clamped.total[T], replays[1].clamped.total[T], 'two different networks');

  // The receptive fields: each run's tiles in the diverging map, pixel for pixel.
  const fields = labs.map((lab) => lab.receptiveFields(40));
  for (const [i, f] of fields.entries()) {
    const canvas = page.locator(`[data-testid=receptive-fields][data-run="${i}"]`);
    await until(() => canvas.count(), 10_000, `run ${i}'s receptive fields`);
    for (const [row, col] of [[14, 14], [10, 20], [20, 7]]) {
      // Tile 0, image pixel (row, col): its centre on the canvas at scale 1.5.
      const rgb = await canvas.evaluate((c, [x, y]) => [...c.getContext('2d').getImageData(x, y, 1, 1).data].slice(0, 3),
        [Math.floor(1.5 * col + 0.75), Math.floor(1.5 * row + 0.75)]);
      const expected = diverging(f[row * 28 + col]);
      assert.ok(rgb.every((c, k) => Math.abs(c - expected[k]) <= 2), `run ${i} (${row}, ${col}): ${rgb} vs ${expected}`);
    }
  }
  assert.match(await page.locator('#panel-weights').textContent(), /PC.*BP/);
  await page.locator('#panel-inference').screenshot({ path: `${SCREENSHOTS}compare-inference.png` });
  await page.locator('#panel-weights').screenshot({ path: `${SCREENSHOTS}compare-weights.png` });
  await page.locator('.bar').screenshot({ path: `${SCREENSHOTS}compare-metrics.png` });
  for (const lab of labs) lab.free();
  assertClean(assert, problems);
  await page.close();
});

// BP through inference over the compression preset's batch of 250 would be over the
// page's budget per step; a batch of 100 fits.
const PAGE_SETTINGS = { compression: { batch: 100 }, tradeoff: {} };

for (const preset of ['compression', 'tradeoff']) {
  test(`${preset}: the dynamics of the same digit in the PC-trained and the BP-trained network, side by side`, async () => {
    for (const [width, height] of [[1280, 800], [960, 540]]) {
      const settings = PAGE_SETTINGS[preset];
      const query = Object.entries(settings).map(([k, v]) => `&${k}=${v}`).join('');
      const { page, problems } = await open(`?preset=${preset}&compare=bp${query}`, width, height);
      await stepTimes(page, 1);
      const rows = page.locator('[data-testid=dynamics-run]');
      await until(async () => (await rows.count()) === 2, 30_000, 'a dynamics row per run');
      if (width === 1280) {
        const labs = engineRuns(preset, settings, 'bp', 1);
        const dynamics = labs.map((lab) => lab.replay(0).dynamics);
        const T = dynamics[0].latent_distance.length - 1;
        assert.equal(Number(await page.getByTestId('replay-t').getAttribute('max')), T);
        for (const t of [0, Math.floor(T / 2), T]) {
          await setT(page, t);
          for (const [i, d] of dynamics.entries()) {
            const at = rows.nth(i).getByTestId('dynamics-at-t');
            await until(async () => (await at.getAttribute('data-t')) === String(t), 5000, `run ${i} at t = ${t}`);
            assert.ok(close(Number(await at.getAttribute('data-distance')), d.latent_distance[t]),
              `run ${i}, t = ${t}: ‖v_t − v_T‖ ${await at.getAttribute('data-distance')} vs ${d.latent_distance[t]}`);
            assert.ok(close(Number(await at.getAttribute('data-mse')), d.mse[t]));
          }
        }
        for (const [i, d] of dynamics.entries()) {
          const row = rows.nth(i);
          assert.equal(await row.locator('.run-label').textContent(), short(['pc', 'bp-through-inference'][i]));
          assert.equal(Number(await row.getByTestId('dynamics-at-t').getAttribute('data-distance')), 0, 'settled at T');
          const ts = await row.locator('figure').evaluateAll((fs) => fs.map((f) => Number(f.dataset.t)));
          assert.deepEqual(ts, d.snapshots.map((s) => s.t));
          assert.deepEqual(ts, [0, Math.floor(T / 4), Math.floor(T / 2), T]);
          if (preset === 'tradeoff') {
            const last = row.locator(`figure[data-t="${T}"]`);
            assert.equal(Number(await last.getAttribute('data-class')), d.readout[T].class);
            assert.ok(close(Number(await last.getAttribute('data-probability')), d.readout[T].probability));
          } else {
            assert.equal(d.readout.length, 0);
          }
        }
        assert.equal(await page.getByTestId('plot-dynamics-readout').isVisible(), preset === 'tradeoff');
        assert.notDeepEqual(dynamics[0].latent_distance, dynamics[1].latent_distance, 'two different networks');
        for (const lab of labs) lab.free();
      }
      await page.locator('#panel-inference').evaluate((s) => s.scrollIntoView());
      await page.screenshot({ path: `${SCREENSHOTS}compare-${preset}-${width}x${height}.png` });
      await page.getByTestId('dynamics').screenshot({ path: `${SCREENSHOTS}compare-${preset}-dynamics-${width}.png` });
      // Both runs' replays, dynamics strips and receptive fields fit a phone too.
      if (width === 960) await assertDigitsFitPhone(assert, page, `${preset}, compared`);
      assertClean(assert, problems);
      await page.close();
    }
  });
}

test('every select shows the engine\'s labels of its values and keeps their names as values', async () => {
  const { page, problems } = await open('?preset=dynamics');
  const choices = [...schema.fields, { name: 'compare', choices: schema.compare }].filter((f) => f.choices);
  assert.ok(choices.length >= 9);
  for (const f of choices) {
    const options = await page.locator(`#setting-${f.name} option`).evaluateAll((os) => os.map((o) => [o.value, o.textContent]));
    assert.deepEqual(options, f.choices.map((c) => [c.name, c.label]), f.name);
  }
  // The rules by hand, as the engine writes them (tests/schema.rs holds the same words).
  assert.deepEqual(await page.locator('#setting-rule option').allTextContents(), ['predictive coding (PC)', 'backpropagation (BP)', 'BP through inference']);
  // The URL keeps the stable name: choosing by label writes the name.
  await page.locator('#setting-rule').selectOption({ label: 'BP through inference' });
  await until(() => page.evaluate(() => new URLSearchParams(location.search).get('rule') === 'bp-through-inference'), 5000, 'rule=bp-through-inference in the URL');
  assertClean(assert, problems);
  await page.close();
});

/** The metric bar's box and overflow after one step of `query` at `width`×`height`. */
async function bar(query, width, height) {
  const { page, problems } = await open(query, width, height);
  await stepTimes(page, 1);
  await page.waitForTimeout(300); // the metric bar follows the record
  const box = await page.locator('.bar').evaluate((b) => {
    const r = b.getBoundingClientRect();
    const rects = (sel) => [...b.querySelectorAll(sel)].filter((e) => e.offsetParent).map((e) => e.getBoundingClientRect());
    return {
      height: r.height,
      overflow: b.scrollWidth - b.clientWidth,
      page: document.documentElement.scrollWidth - innerWidth,
      outside: rects('*').filter((e) => e.right > r.right + 0.5 || e.left < r.left - 0.5).length,
      line: rects('.metric-run')[0]?.height ?? 0,
      legend: rects('[data-testid=run-legend]')[0]?.height ?? 0,
      buttonsBottom: rects('.buttons')[0].bottom,
      toolsTop: rects('.view-tools')[0].top,
    };
  });
  return { page, problems, box };
}

test('comparing, the metric bar names the runs once and fits a slide and a phone', async () => {
  const runs = runConfigs(presetConfig('dynamics'), 'bp').map((c) => short(c.rule));
  assert.deepEqual(runs, ['PC', 'BP through inference']);
  // On a slide (embed) the bar is one row with one run; a second run adds its line of
  // values and nothing else: no second row (the view tools stay beside the metrics), no
  // overflow. With the controls at 960 the view tools already take a second row, and on
  // a phone everything stacks; there the legend may take a line of its own, too.
  for (const [query, width, height, row] of [
    ['?preset=dynamics&embed=1&controls=0', 960, 540, true],
    ['?preset=dynamics', 960, 540, false],
    ['?preset=dynamics', 390, 844, false],
  ]) {
    const one = await bar(`${query}&compare=off`, width, height);
    await one.page.close();
    const { page, problems, box } = await bar(query, width, height);
    const at = `${query} at ${width}×${height}`;
    assert.equal(box.overflow, 0, `${at}: the bar does not scroll sideways`);
    assert.ok(box.page <= 0, `${at}: the page does not scroll sideways`);
    assert.equal(box.outside, 0, `${at}: nothing sticks out of the bar`);
    assert.ok(box.line > 10 && box.line < 40, `${at}: a line of values ${box.line}px`);
    const legendLine = width < 800 ? box.legend + 4 : 0; // its own line, and the .25rem gap
    assert.ok(box.height <= one.box.height + box.line + legendLine + 1,
      `${at}: ${box.height}px with two runs, ${one.box.height}px with one, a line ${box.line}px`);
    if (row) assert.ok(box.toolsTop < box.buttonsBottom, `${at}: the view tools stay on the buttons' row`);
    assert.deepEqual(await page.getByTestId('run-legend').locator('.run-label').allTextContents(), runs, `${at}: the legend`);
    for (const m of ['mse', 'energy', 'samples-per-s']) {
      const named = await page.locator(`[data-testid=metric-${m}] .metric-run`).evaluateAll((spans) => spans.map((s) => [s.title, s.querySelector('.run-label').textContent]));
      assert.deepEqual(named, runs.map((r) => [r, r]), `${at}: ${m} by run`);
    }
    await page.locator('.bar').screenshot({ path: `${SCREENSHOTS}compare-bar-${width}x${height}${row ? '-slide' : ''}.png` });
    assertClean(assert, problems);
    await page.close();
  }
});

test('the drawn digit and the least-well-explained test digit can be replayed up close', async () => {
  const { page, problems } = await open('?preset=classification&hidden=64');
  await stepTimes(page, 3);
  await page.getByTestId('pause').click();
  const digit = page.getByTestId('replay-digit');
  assert.equal(await digit.locator('option[value=drawn]').isDisabled(), true, 'nothing drawn yet');

  // The least-well-explained test digit: the engine's own choice.
  const save = page.waitForEvent('download');
  await page.getByTestId('save-model').click();
  const lab = Lab.load(readFileSync(await (await save).path(), 'utf8'), shipped);
  const worst = lab.leastExplained();
  await digit.selectOption('least');
  await until(async () => (await page.getByTestId('replay-title').textContent()).includes(`Test digit #${worst} (the least well explained`),
    20_000, `test digit #${worst}`);
  const T = Number(await page.getByTestId('replay-t').getAttribute('max'));
  await setT(page, T);
  const column = page.getByTestId('replay-run');
  await until(async () => close(Number(await column.getAttribute('data-energy')), lab.replay(worst).clamped.total[T]), 10_000, 'its settled energy');
  lab.free();

  // The drawn digit: a "1", replayed as the class the pad's answer names.
  await drawOne(page);
  const answer = await page.getByTestId('draw-prediction').filter({ hasText: /^\d \(/ }).textContent({ timeout: 10_000 });
  await until(async () => !(await digit.locator('option[value=drawn]').isDisabled()), 5000, 'the drawn digit offered');
  await digit.selectOption('drawn');
  await until(async () => (await page.getByTestId('replay-title').textContent()).startsWith(`The drawn digit, read as a ${answer[0]}`),
    10_000, `the drawn digit read as ${answer[0]}`);
  await setT(page, 0);
  const start = Number(await column.getAttribute('data-energy'));
  await setT(page, T);
  const end = Number(await column.getAttribute('data-energy'));
  assert.ok(end < start, `clamped to its class, the drawn digit's energy falls: ${start} → ${end}`);
  await page.locator('#panel-inference').screenshot({ path: `${SCREENSHOTS}replay-drawn.png` });
  assertClean(assert, problems);
  await page.close();
});
