// The page in a room, on a slide and on a phone: one story per experiment (its key
// figure above the fold), keyboard shortcuts, presentation mode, copy link, a 960×540
// iframe on another origin, and a phone layout that does not overflow.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, ready, metric, until, assertClean, hostPage, sweep, SCREENSHOTS } from './browser.mjs';

const DESK = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let env;
let schema;
before(async () => {
  env = await launch();
  const { page } = await openPage(env.browser, env.url);
  schema = await page.evaluate(async () => {
    const pkg = await import('/www/pkg/pclab.js');
    await pkg.default();
    const s = pkg.configSchema();
    return { presets: s.presets.map((p) => ({ name: p.name, lead: p.lead, experiment: p.config.experiment })), experiments: s.experiments };
  });
  await page.close();
});
after(async () => { await env?.close(); });

async function open(query, options) {
  const opened = await openPage(env.browser, `${env.url}${query}`, options);
  await ready(opened.page);
  return opened;
}

/** The view panels on show, in reading order: { name, key, folded, top, bottom }. */
function shownPanels(page) {
  return page.evaluate(() => [...document.querySelectorAll('#panels > .panel')]
    .filter((s) => !s.hidden)
    .map((s) => ({ s, r: s.getBoundingClientRect() }))
    .sort((a, b) => a.r.top - b.r.top || a.r.left - b.r.left)
    .map(({ s, r }) => ({ name: s.dataset.name, key: s.classList.contains('key'), folded: s.classList.contains('folded'), top: r.top, bottom: r.bottom })));
}

const viewsOf = (preset) => schema.experiments.find((e) => e.name === preset.experiment).views;

test('every preset shows exactly its experiment’s panels, its key figure first and above 900 px', async () => {
  for (const preset of schema.presets) {
    const { page, problems } = await open(`?preset=${preset.name}`, { viewport: DESK });
    const views = viewsOf(preset);
    const shown = (await shownPanels(page)).filter((p) => views.includes(p.name) || p.key);
    assert.deepEqual(shown.map((p) => p.name).sort(), [...views].sort(), `${preset.name}: the experiment's views`);
    const [first] = shown;
    assert.equal(first.name, preset.lead, `${preset.name}: the preset's lead comes first`);
    assert.ok(first.key && !first.folded, `${preset.name}: the key figure is open`);
    assert.ok(first.top < 900, `${preset.name}: key figure top ${first.top}`);
    assert.ok(shown.slice(1).every((p) => p.folded), `${preset.name}: the other panels are folded`);
    const key = await page.locator('#panels > .panel.key').boundingBox();
    assert.ok(key.width > 950, `${preset.name}: the controls leave the key figure ${key.width} px`);
    assertClean(assert, problems);
    await page.close();
  }
});

test('at 1920×1080 the page uses the full width', async () => {
  const { page, problems } = await open('?preset=tradeoff', { viewport: { width: 1920, height: 1080 } });
  const layout = await page.locator('.layout').boundingBox();
  assert.ok(layout.width > 1850, `the layout is ${layout.width} px wide`);
  assertClean(assert, problems);
  await page.close();
});

test('a chart across a projector is not a strip, and none is taller than half the screen', async () => {
  // lineChart (www/plots.js): a chart's height is its own (220 px unless it says) or, when it
  // is wide, up to 0.4 of its width and 0.45 of the window's height.
  for (const viewport of [{ width: 1920, height: 1080 }, DESK, { width: 960, height: 540 }]) {
    const { page, problems } = await open('?preset=tradeoff&all=1', { viewport });
    await sweep(page, { lambdas: [0, 1], steps: 2, seeds: 2 });
    await page.waitForTimeout(300);
    const charts = await page.evaluate(() => [...document.querySelectorAll('.uplot .u-wrap')]
      .map((w) => w.getBoundingClientRect()).filter((r) => r.width > 0).map((r) => ({ width: r.width, height: r.height })));
    assert.ok(charts.length >= 3, `${viewport.width}: ${charts.length} charts on show`);
    for (const c of charts) {
      const what = `${viewport.width}×${viewport.height}: a chart ${c.width.toFixed(0)}×${c.height.toFixed(0)}`;
      assert.ok(c.height >= Math.min(0.4 * c.width, 0.45 * viewport.height) - 1, `${what} is a strip`);
      assert.ok(c.height <= Math.max(220, 0.45 * viewport.height) + 1, `${what} is too tall`);
    }
    const trade = await page.getByTestId('plot-tradeoff').locator('.u-wrap').boundingBox();
    if (viewport.width === 1920) assert.ok(trade.height > 400, `the trade-off chart across the projector: ${JSON.stringify(trade)}`);
    assertClean(assert, problems);
    await page.close();
  }
});

test('"all panels" opens every panel; a folded panel opens by its title', async () => {
  const { page, problems } = await open('?preset=classification', { viewport: DESK });
  await page.getByRole('button', { name: 'Inference' }).click();
  assert.equal(await page.locator('#panel-inference').evaluate((s) => s.classList.contains('folded')), false);
  assert.equal(await page.getByRole('button', { name: 'Inference' }).getAttribute('aria-expanded'), 'true');
  await page.getByTestId('all-panels').check();
  await until(() => page.url().includes('all=1'), 5000, 'all=1 in the URL');
  assert.ok((await shownPanels(page)).every((p) => !p.folded), 'every panel open');
  assertClean(assert, problems);
  await page.close();
});

test('panels= chooses the panels, hide= only hides controls, controls=0 the column', async () => {
  const { page, problems } = await open('?preset=classification&panels=classification,inference&hide=inference,seed&controls=0', { viewport: DESK });
  const shown = await shownPanels(page);
  assert.deepEqual(shown.map((p) => p.name), ['classification', 'inference']);
  assert.ok(shown.every((p) => !p.folded), 'chosen panels are open');
  assert.equal(await page.locator('#controls').isVisible(), false);
  const url = new URL(page.url()).searchParams;
  assert.equal(url.get('panels'), 'classification,inference');
  assert.equal(url.get('hide'), 'inference,seed');
  assert.equal(url.get('controls'), '0');
  await page.close();
  const again = await open('?hide=inference,seed', { viewport: DESK });
  assert.equal(await again.page.getByTestId('inference').isVisible(), false, 'the inference control is hidden');
  assert.equal(await again.page.locator('#panel-inference').isVisible(), true, 'the inference panel is not');
  assertClean(assert, problems);
  assertClean(assert, again.problems);
  await again.page.close();
});

test('keyboard: space plays and pauses, → steps one, r resets, ? lists the shortcuts', async () => {
  const { page, problems } = await open('', { viewport: DESK });
  await page.keyboard.press('Space');
  await until(async () => (await metric(page, 'step')) > 2, 30_000, 'training after space');
  await page.keyboard.press('Space');
  await page.getByTestId('status').filter({ hasText: 'paused' }).waitFor();
  const paused = await metric(page, 'step');
  for (const n of [1, 2]) {
    await page.keyboard.press('ArrowRight');
    await until(async () => (await metric(page, 'step')) === paused + n, 10_000, `step ${paused + n} after →`);
  }
  await page.keyboard.press('r');
  await until(async () => (await metric(page, 'step')) === 0, 10_000, 'step 0 after r');
  // Typing in a field is typing, not a shortcut.
  await page.getByTestId('seed').focus();
  await page.keyboard.press('r');
  assert.equal(await page.getByTestId('seed').inputValue(), '1r', 'r went into the field');
  await page.getByTestId('seed').fill('1');
  await page.locator('h1').click();
  await page.keyboard.press('?');
  const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /space.*play \/ pause/s);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assertClean(assert, problems);
  await page.close();
});

test('presentation mode: large type, dark, full width; the normal page has readable help and legends', async () => {
  const sizes = (page) => page.evaluate(() => {
    const px = (sel) => parseFloat(getComputedStyle(document.querySelector(sel)).fontSize);
    return { body: px('body'), help: px('#panel-training .help'), legend: px('#panel-training .u-legend'), dark: document.documentElement.classList.contains('dark') };
  });
  const normal = await open('?preset=classification', { viewport: DESK });
  await normal.page.locator('#panel-training .u-legend').first().waitFor();
  const n = await sizes(normal.page);
  assert.ok(n.help >= 14 && n.legend >= 13, JSON.stringify(n));
  await normal.page.getByTestId('present').click();
  await until(() => normal.page.url().includes('present=1'), 5000, 'present=1 in the URL');
  assert.equal(await normal.page.getByTestId('present').getAttribute('aria-pressed'), 'true');
  // and looks pressed: the accent fill, as the play button's.
  const [pressed, play] = await normal.page.evaluate(() => ['present', 'play'].map((id) =>
    getComputedStyle(document.querySelector(`[data-testid=${id}]`)).backgroundColor));
  assert.equal(pressed, play, 'the presentation toggle shows it is on');
  assertClean(assert, normal.problems);
  await normal.page.close();

  const { page, problems } = await open('?preset=classification&present=1', { viewport: { width: 1920, height: 1080 } });
  const p = await sizes(page);
  assert.ok(p.body >= 20 && p.help >= 16 && p.legend >= 16 && p.dark, JSON.stringify(p));
  const key = await page.locator('#panel-training').boundingBox();
  assert.ok(key.width > 1800, `the key figure spans the width: ${key.width}`);
  await page.screenshot({ path: `${SCREENSHOTS}present.png` });
  assertClean(assert, problems);
  await page.close();

  // The energy total is drawn in the theme's ink, light on the dark background (it was
  // black on near-black): its legend swatch has the text colour.
  const dark = await open('?preset=classification&present=1&all=1', { viewport: { width: 1920, height: 1080 } });
  await dark.page.getByTestId('play').click();
  await until(async () => Number(await dark.page.getByTestId('metric-step').textContent()) >= 3, 30_000, '3 steps');
  await dark.page.getByTestId('pause').click();
  const total = dark.page.locator('#panel-inference .u-legend .u-series', { hasText: 'F (total)' }).first();
  await total.waitFor({ timeout: 30_000 });
  const [swatch, ink] = await total.evaluate((row) => [
    getComputedStyle(row.querySelector('.u-marker')).borderColor, getComputedStyle(document.body).color]);
  assert.equal(swatch, ink, 'F (total) in the theme\'s ink');
  assert.notEqual(ink, 'rgb(29, 35, 48)', 'light ink in presentation mode');
  assertClean(assert, dark.problems);
  await dark.page.close();
});

test('copy link copies a URL that restores the same settings and view', async () => {
  const context = await env.browser.newContext({ viewport: DESK });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.url });
  const page = await context.newPage();
  await page.goto(`${env.url}?preset=generation&present=1&panels=generation,training&seed=7`);
  await ready(page);
  await page.getByTestId('steps').fill('12');
  await page.getByTestId('steps').dispatchEvent('change');
  await until(() => page.url().includes('T=12'), 5000, 'T=12 in the URL');
  await page.getByTestId('copy-link').click();
  await page.getByTestId('copy-status').filter({ hasText: 'link copied' }).waitFor();
  const link = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(link, page.url());
  const read = (p) => p.evaluate(async () => {
    const pkg = await import('/www/pkg/pclab.js');
    const { readState } = await import('/www/settings.js');
    const engine = { schema: pkg.configSchema(), withSettings: pkg.configWithSettings, runConfigs: pkg.runConfigs };
    const { state, view, errors } = readState(location.search, engine);
    const controls = [...document.querySelectorAll('#controls [id^="setting-"]')].map((i) => [i.id, i.type === 'checkbox' ? i.checked : i.value]);
    return { state, view, errors, controls };
  });
  const before = await read(page);
  const copy = await context.newPage();
  await copy.goto(link);
  await ready(copy);
  const after = await read(copy);
  assert.deepEqual(after, before);
  assert.equal(after.state.config.steps, 12);
  assert.equal(after.state.config.seed, 7);
  assert.deepEqual(after.view.panels, ['generation', 'training']);
  await context.close();
});

test('the drawing pad has a keyboard way in: use a test digit', async () => {
  const { page, problems } = await open('?preset=classification&panels=classification', { viewport: DESK });
  await page.getByTestId('play').click();
  const testDigit = page.getByTestId('draw-test-digit');
  await until(() => testDigit.isEnabled(), 30_000, 'test digits on show');
  await page.getByTestId('pause').click();
  assert.ok(await page.getByRole('img', { name: /drawing pad/ }).isVisible());
  await testDigit.focus();
  await page.keyboard.press('Enter');
  await page.getByTestId('draw-prediction').filter({ hasText: /^\d \(/ }).waitFor({ timeout: 10_000 });
  assertClean(assert, problems);
  await page.close();
});

test('a 960×540 iframe on another origin shows the chosen panel above the fold and trains', async () => {
  const src = `${env.url}?preset=classification&embed=1&controls=0&panels=training`;
  const host = await hostPage(src);
  try {
    const { page, problems } = await openPage(env.browser, host.url, { viewport: DESK });
    assert.notEqual(new URL(host.url).origin, new URL(env.url).origin);
    const frame = page.frameLocator('iframe');
    await frame.getByTestId('status').filter({ hasText: 'ready' }).waitFor({ timeout: 60_000 });
    await frame.getByTestId('play').click();
    await until(async () => Number(await frame.getByTestId('metric-step').textContent()) > 20, 30_000, 'training in the iframe');
    await frame.getByTestId('pause').click();
    await frame.getByTestId('status').filter({ hasText: 'paused' }).waitFor();
    const box = await page.locator('iframe').boundingBox();
    const panel = await frame.locator('#panel-training').boundingBox();
    for (const chart of ['plot-training', 'plot-evaluation']) {
      const c = await frame.getByTestId(chart).boundingBox();
      assert.ok(c.y + c.height <= box.y + box.height, `${chart} inside the frame: ${JSON.stringify(c)}`);
    }
    assert.ok(panel.x >= box.x && panel.y >= box.y, JSON.stringify(panel));
    assert.ok(panel.x + panel.width <= box.x + box.width && panel.y + panel.height <= box.y + box.height,
      `the training panel ${JSON.stringify(panel)} is inside the iframe ${JSON.stringify(box)}`);
    assert.equal(await frame.locator('#controls').isVisible(), false);
    // No clipboard for a frame the host did not allow it: the link shows, selected.
    await frame.getByTestId('copy-link').click();
    const field = frame.getByTestId('link-field');
    await field.waitFor();
    const shown = await field.evaluate((input) => ({ value: input.value, url: location.href, selected: input.selectionEnd - input.selectionStart }));
    assert.equal(shown.value, shown.url);
    assert.equal(shown.selected, shown.url.length, 'the link is selected for Ctrl+C');
    assert.equal(new URL(shown.value).searchParams.get('panels'), 'training');
    await page.screenshot({ path: `${SCREENSHOTS}iframe.png` });
    assertClean(assert, problems);
    await page.close();
  } finally {
    await host.close();
  }
});

test('on a phone the figure comes before the settings and nothing overflows', async () => {
  for (const preset of schema.presets) {
    const { page, problems } = await open(`?preset=${preset.name}&all=1`, { viewport: PHONE, isMobile: true, hasTouch: true });
    const order = await page.evaluate(() => document.querySelector('#panels').compareDocumentPosition(document.querySelector('#controls')));
    assert.ok(order & 4, 'the panels precede the controls'); // DOCUMENT_POSITION_FOLLOWING
    const panels = await page.locator('#panels').boundingBox();
    const controls = await page.locator('#controls').boundingBox();
    assert.ok(panels.y < controls.y, `${preset.name}: panels above the controls`);
    const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
    assert.ok(width <= PHONE.width, `${preset.name}: the page is ${width} px wide`);
    // Nor does a panel scroll sideways under its clipped equations (the intro's did).
    const wide = await page.evaluate(() => [...document.querySelectorAll('#panels > .panel:not([hidden])')]
      .filter((p) => p.scrollWidth > p.clientWidth + 1).map((p) => `${p.dataset.name} ${p.scrollWidth} > ${p.clientWidth}`));
    const cut = await page.evaluate(() => [...document.querySelectorAll('#panel-intro .intro-equations .eq')]
      .filter((e) => e.getBoundingClientRect().right > document.querySelector('#panel-intro').getBoundingClientRect().right + 1).length);
    assert.deepEqual(wide, [], `${preset.name}: panels wider than the phone`);
    assert.equal(cut, 0, `${preset.name}: intro equations past the panel's edge`);
    assertClean(assert, problems);
    await page.close();
  }
});
