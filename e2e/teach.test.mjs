// The teaching views end to end: one digit's inference up close (the slider redraws,
// the label's error shrinks, the numbers on the page are the engine's), the introduction's
// diagram follows the layer sizes, the equations follow the output energy, and the
// receptive fields are signed. Screenshots at 1280×800 land in e2e/screenshots/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pageOpener, metric, until, assertClean, setReplayT as setT, SCREENSHOTS } from './browser.mjs';
import { initSync, Lab, configSchema, presetConfig } from '../www/pkg/pclab.js';

initSync({ module: readFileSync(new URL('../www/pkg/pclab_bg.wasm', import.meta.url)) });
const shipped = readFileSync(new URL('../www/data/mnist-10k.bin.gz', import.meta.url));

const openPageAt = pageOpener();

/** A page at `query`, 1280×800 (a lecture-hall laptop), every panel open (all=1). */
async function open(query = '') {
  const opened = await openPageAt(`${query}${query.includes('?') ? '&' : '?'}all=1`);
  await opened.page.setViewportSize({ width: 1280, height: 800 });
  return opened;
}

/** Plays until the step counter passes `n`, then pauses (steps, never time). */
async function trainPast(page, n) {
  await page.getByTestId('play').click();
  await until(async () => (await metric(page, 'step')) > n, 60_000, `step > ${n}`);
  await page.getByTestId('pause').click();
  await page.getByTestId('status').filter({ hasText: 'paused' }).waitFor();
}

/** Every canvas of the replay's layers as PNG data URLs. */
const replayPixels = (page) => page.getByTestId('belief-replay').locator('canvas')
  .evaluateAll((canvases) => canvases.map((c) => c.toDataURL()));

/** The label layer's ‖ε‖ as the page shows it (data-error-norm). */
const labelErrorNorm = async (page) => Number(await page.locator('[data-testid=replay-layer][data-role=label]').getAttribute('data-error-norm'));

const norm = (x) => Math.sqrt(x.reduce((s, e) => s + e * e, 0));

test('inference up close: the slider redraws, the clamped label\'s error shrinks, and the page shows the engine\'s numbers', async () => {
  const { page, problems } = await open('?preset=classification');
  await trainPast(page, 30);
  const replay = page.getByTestId('replay');
  await until(async () => (await page.locator('[data-testid=replay-layer]').count()) === 5, 10_000, 'a row per layer of 784-256-256-256-10');
  assert.equal(await replay.getAttribute('data-mode'), 'clamped');
  assert.match(await page.getByTestId('replay-ends').textContent(), /Layer 0 \(the bottom\) holds the image \(clamped to the data\); layer 4 holds the label/);
  const T = Number(await page.getByTestId('replay-t').getAttribute('max'));
  assert.equal(T, 8, 'the preset infers for T = 8 steps');

  // The same numbers, independently: the trained weights saved (paused, so they no
  // longer change) and replayed in node; the page shows them once its last visuals land.
  const save = page.waitForEvent('download');
  await page.getByTestId('save-model').click();
  const json = readFileSync(await (await save).path(), 'utf8');
  const lab = Lab.load(json, shipped);
  const engine = lab.replay(0);
  lab.free();
  const close = (a, b) => Math.abs(a - b) <= 1e-4 * (1 + Math.abs(b));
  const shows = async (t) => {
    await setT(page, t);
    const expected = norm(engine.clamped.errors[t][4]);
    return until(async () => {
      const shown = await labelErrorNorm(page);
      return close(shown, expected) ? shown : null;
    }, 30_000, `t = ${t}: the page shows the engine's ‖ε₄‖ = ${expected}`);
  };

  const first = await shows(0);
  const before = await replayPixels(page);
  const last = await shows(T);
  const afterT = await replayPixels(page);
  assert.equal(before.length, afterT.length);
  const changed = before.filter((p, i) => p !== afterT[i]).length;
  assert.ok(changed >= 3, `moving t redraws the layers (${changed} of ${before.length} canvases changed)`);
  assert.ok(last < first, `with the label clamped its error shrinks: ‖ε₄‖ ${first} → ${last}`);
  // The caption's percentage is the engine's F over the steps, falling or rising.
  const total = engine.clamped.total;
  const change = 100 * (1 - total.at(-1) / total[0]);
  const direction = change >= 0 ? 'falls' : 'rises';
  assert.match(await page.getByTestId('replay-energy-note').textContent(),
    new RegExp(`F ${direction} by ${Math.abs(change).toFixed(0)}%.*label's error shrinks`));
  // The minibatch's energy per layer leaves out layer 0, which nothing predicts (always 0).
  const traced = await page.locator('[data-testid=plot-inference-energy] .u-legend .u-series th')
    .evaluateAll((ths) => ths.map((th) => th.textContent.trim()));
  assert.deepEqual(traced.filter((t) => t.startsWith('layer')), ['layer 1', 'layer 2', 'layer 3', 'layer 4'], traced.join(', '));
  await page.getByTestId('replay-back').click();
  assert.equal(await replay.getAttribute('data-t'), String(T - 1), 'the step button moves t');

  // Label free, as at test time: flat, and the caption says why.
  await page.getByTestId('replay-free').click();
  assert.equal(await replay.getAttribute('data-mode'), 'free');
  assert.match(await page.getByTestId('replay-energy-note').textContent(), /Flat: .*entropy of the free label/);
  // Every error is 0 here, and the colour scale says so instead of ±1.00e-12.
  const legends = await page.locator('#panel-inference [data-testid=replay-layer] [data-testid=diverging-legend]').allTextContents();
  assert.ok(legends.length >= 4 && legends.every((t) => /error: 0 at every unit and step/.test(t)), legends.join(' | '));
  await page.getByTestId('replay-clamped').click();
  await setT(page, 3);
  await page.waitForTimeout(300); // let the chart's marker draw
  await page.locator('#panel-inference').screenshot({ path: `${SCREENSHOTS}teach-inference.png` });
  await page.locator('#panel-inference').evaluate((s) => s.scrollIntoView());
  await page.screenshot({ path: `${SCREENSHOTS}teach-inference-1280x800.png` });

  // Another test digit, chosen on the page, is replayed by the worker.
  await page.getByTestId('replay-digit').selectOption('3');
  await until(async () => /Test digit #3/.test(await page.getByTestId('replay-title').textContent()), 10_000, 'digit #3');
  const other = Lab.load(json, shipped);
  assert.match(await page.getByTestId('replay-title').textContent(), new RegExp(`a ${other.replay(3).label}:`));
  other.free();
  assertClean(assert, problems);
  await page.close();
});

test('the introduction draws the current network and the equations follow the settings', async () => {
  const { page, problems } = await open('?preset=classification');
  const diagram = page.getByTestId('intro-diagram');
  assert.match(await diagram.textContent(), /layer 0784 unitsimage.*layer 4/);
  assert.equal(await diagram.locator('g[data-layer]').count(), 5);
  await page.screenshot({ path: `${SCREENSHOTS}teach-intro-1280x800.png` });

  await page.getByTestId('hidden').fill('64,32');
  await page.getByTestId('hidden').dispatchEvent('change');
  await until(async () => (await diagram.locator('g[data-layer]').count()) === 4, 10_000, 'a diagram of 784-64-32-10');
  const sizes = await diagram.locator('g[data-layer]').evaluateAll((gs) => gs.map((g) => g.dataset.size));
  assert.deepEqual(sizes, ['784', '64', '32', '10']);
  assert.match(await diagram.textContent(), /64 units.*32 units.*10 units/);

  const energy = page.getByTestId('intro-energy');
  assert.match(await energy.textContent(), /softmax/);
  assert.match(await page.getByTestId('seeing-inference').textContent(), /What am I seeing/);
  assert.equal(await energy.locator('math').first().evaluate((m) => m.namespaceURI), 'http://www.w3.org/1998/Math/MathML', 'native MathML');
  await page.getByTestId('output_energy').selectOption('gaussian');
  await until(async () => !/softmax/.test(await energy.textContent()), 10_000, 'the Gaussian output energy');
  assert.match(await energy.textContent(), /Gaussian/);
  await page.getByTestId('inference').selectOption('fixed-prediction');
  await until(async () => /frozen/.test(await page.getByTestId('intro-inference').textContent()), 10_000, 'the fixed-prediction update');
  assert.match(await page.getByTestId('seeing-inference').textContent(), /fixed-prediction/);
  await page.locator('#panel-intro').screenshot({ path: `${SCREENSHOTS}teach-intro.png` });
  assertClean(assert, problems);
  await page.close();
});

test('receptive fields are signed: both colours of the diverging map', async () => {
  const { page, problems } = await open('?preset=classification');
  await trainPast(page, 20);
  const fields = page.getByTestId('receptive-fields');
  const counts = await until(() => fields.evaluate((canvas) => {
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let red = 0;
    let blue = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i] > data[i + 2] + 60) red++;
      if (data[i + 2] > data[i] + 60) blue++;
    }
    return red > 0 && blue > 0 ? { red, blue } : null;
  }), 10_000, 'red and blue pixels');
  assert.ok(counts.red > 100 && counts.blue > 100, JSON.stringify(counts));
  assert.match(await page.locator('#panel-weights [data-testid=diverging-legend]').textContent(), /−1.*\+1/);
  await page.locator('#panel-weights').screenshot({ path: `${SCREENSHOTS}teach-weights.png` });
  assertClean(assert, problems);
  await page.close();
});

/** The panels of the page's sections that are on show (not hidden by the view). */
const shownPanels = (page) => page.evaluate(() => [...document.querySelectorAll('#panels > .panel')]
  .filter((s) => !s.hidden).map((s) => s.dataset.name));

test('every panel of every preset says what it shows, with its equation in MathML', async () => {
  const withLine = ['training', 'inference', 'reconstructions', 'classification', 'generation', 'vae', 'gradients', 'tradeoff', 'cost', 'weights'];
  for (const { name } of configSchema().presets) {
    const { page, problems } = await openPageAt(`?preset=${name}`);
    const shown = (await shownPanels(page)).filter((p) => withLine.includes(p));
    assert.ok(shown.length >= 2, `${name}: ${shown}`);
    for (const panel of shown) {
      const line = page.getByTestId(`seeing-${panel}`);
      assert.match(await line.textContent(), /^What am I seeing: \S/, `${name}: ${panel}`);
      const maths = await line.locator('math').evaluateAll((ms) => ms.map((m) => m.namespaceURI));
      assert.ok(maths.length >= 1 && maths.every((ns) => ns === 'http://www.w3.org/1998/Math/MathML'), `${name}: ${panel} has native MathML`);
      assert.equal(await line.evaluate((p, section) => p.closest('.panel').dataset.name, panel), panel);
    }
    assertClean(assert, problems);
    await page.close();
  }
});

/** A "what am I seeing" line as text: its words, then each equation's plain text (title). */
const seen = (page, panel) => page.getByTestId(`seeing-${panel}`).evaluate((line) =>
  `${line.textContent} || ${[...line.querySelectorAll('.eq')].map((e) => e.title).join(' | ')}`);

/** Waits until panel's line matches `re`. */
const becomes = (page, panel, re) => until(async () => re.test(await seen(page, panel)), 10_000, `${panel}: ${re}`);

test('comparing two PC runs does not explain PC against a feedforward loss', async () => {
  const pcPc = await openPageAt('?preset=tplus1');
  const line = await seen(pcPc.page, 'training');
  assert.match(line, /Comparing: /);
  assert.doesNotMatch(line, /feedforward loss/);
  assert.match(line, /same test digits/);
  assertClean(assert, pcPc.problems);
  await pcPc.page.close();
  const pcBp = await openPageAt('?preset=classification&compare=bp');
  assert.match(await seen(pcBp.page, 'training'), /a PC loss reads lower than the same network's feedforward loss/);
  assertClean(assert, pcBp.problems);
  await pcBp.page.close();
});

test('the new lines follow the settings: output energy, rule, prediction form', async () => {
  const { page, problems } = await open('?preset=classification');
  assert.match(await seen(page, 'classification'), /p\(k \| x\) = softmax \(μ_L\)_k/);
  assert.match(await seen(page, 'cost'), /FLOPs ≈ B\(4S′T \+ 2n_0n_1 \+ 4S\)/);
  await page.getByTestId('output_energy').selectOption('gaussian');
  // A Gaussian label layer gives scores: clipped at 0 and normalised, as the panel shows them.
  await becomes(page, 'classification', /prediction itself, for the Gaussian.*clipped at 0.*p\(k \| x\) = max \(0 , m_k\)\/Σ_j max \(0 , m_j\) \| m_k = μ_L_k/);
  assert.doesNotMatch(await seen(page, 'classification'), /softmax/);
  await page.getByTestId('rule').selectOption('bp');
  await becomes(page, 'cost', /FLOPs ≈ 6BS/);
  assertClean(assert, problems);
  await page.close();

  const recon = await open('?preset=compression');
  assert.match(await seen(recon.page, 'reconstructions'), /T = 35 steps.*x̂ = (σ\()?μ_L\(v_0\^\*\)/);
  await recon.page.getByTestId('rule').selectOption('bp');
  await becomes(recon.page, 'reconstructions', /x̂ = decoder\(encoder\(x\)\)/);
  await recon.page.close();

  const trade = await open('?preset=tradeoff');
  assert.match(await seen(trade.page, 'tradeoff'), /Gaussian.*F_λ = \(1 − λ\)F \+ λE_c/);
  await trade.page.getByTestId('output_energy').selectOption('bernoulli');
  await becomes(trade.page, 'tradeoff', /Bernoulli/);
  await trade.page.locator('#panel-tradeoff').screenshot({ path: `${SCREENSHOTS}teach-seeing-tradeoff.png` });
  await trade.page.close();

  const gen = await open('?preset=generation');
  assert.match(await seen(gen.page, 'generation'), /μ_0 = onehot \(k\) \| μ_l = f\(W_lμ_\{l − 1\} \+ b_l\)/);
  await gen.page.getByTestId('form').selectOption('pre');
  await becomes(gen.page, 'generation', /μ_l = W_lf\(μ_\{l − 1\}\) \+ b_l/);
  await gen.page.close();
});

test('a confident network shows over 90% for a clean test digit, the engine\'s own probability', async () => {
  // A classification network trained in node (the same engine, wasm), loaded by the page.
  const lab = new Lab(presetConfig('classification'), shipped);
  lab.train(150);
  const json = lab.save();
  const engine = lab.predictions(12);
  lab.free();
  const file = join(mkdtempSync(join(tmpdir(), 'pclab-')), 'model.json');
  writeFileSync(file, json);
  const confident = engine.labels.map((label, i) => ({ i, label, p: engine.probabilities[i][label], guess: engine.predicted[i] }))
    .filter((d) => d.guess === d.label && d.p > 0.9);
  assert.ok(confident.length >= 3, `the trained network is confident on clean digits: ${JSON.stringify(engine.probabilities.map((p, i) => p[engine.labels[i]]))}`);

  const { page, problems } = await open('?preset=classification');
  await page.getByTestId('load-model').setInputFiles(file);
  const figures = page.getByTestId('predictions').locator('figure');
  // The untrained network's predictions are on show until the loaded model's arrive.
  const first = confident[0];
  await until(async () => (await figures.count()) === 12
    && Math.abs(Number(await figures.nth(first.i).getAttribute('data-probability')) - first.p) < 1e-4, 30_000, 'the loaded model\'s predictions');
  for (const d of confident) {
    const figure = figures.nth(d.i);
    assert.equal(Number(await figure.getAttribute('data-label')), d.label);
    assert.equal(Number(await figure.getAttribute('data-guess')), d.label);
    const shown = Number(await figure.getAttribute('data-probability'));
    assert.ok(Math.abs(shown - d.p) < 1e-4, `digit ${d.i}: the page shows ${shown}, the engine ${d.p}`);
    assert.ok(shown > 0.9, `digit ${d.i}: ${shown}`);
    // What a student reads: the caption and the guess's bar.
    assert.equal(await figure.locator('figcaption').textContent(), `${d.label} → ${d.label} (${Math.round(100 * d.p)}%)`);
    assert.equal(await figure.locator('.prob.hit').getAttribute('title'), `${d.label}: ${(100 * d.p).toFixed(1)}%`);
  }
  await page.locator('#panel-classification').screenshot({ path: `${SCREENSHOTS}teach-confident.png` });
  assertClean(assert, problems);
  await page.close();
});
