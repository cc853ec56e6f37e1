// Shared e2e helpers: the page server and headless Debian Chromium via playwright-core.
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { startServer } from '../scripts/serve.mjs';

export const SCREENSHOTS = new URL('./screenshots/', import.meta.url).pathname;
mkdirSync(SCREENSHOTS, { recursive: true });

const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  '--disable-quic', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run',
];

/**
 * Starts the server and a browser; returns { url, browser, close }.
 * Every request the browser makes outside 127.0.0.1 is recorded in `foreign`.
 */
export async function launch() {
  const { server, url } = await startServer(0);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
  return {
    url,
    browser,
    async close() {
      await browser.close();
      await new Promise((ok) => server.close(ok));
    },
  };
}

/**
 * Opens a page and records its console errors, uncaught exceptions and any request
 * that leaves 127.0.0.1. `options` are playwright's newPage options (viewport, ...), and
 * `init`, a script run in the page (and its workers' page) before its own.
 */
export async function openPage(browser, url, { init, ...options } = {}) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, ...options });
  if (init) await page.addInitScript(init);
  const problems = { consoleErrors: [], pageErrors: [], foreignRequests: [] };
  page.on('console', (msg) => { if (msg.type() === 'error') problems.consoleErrors.push(msg.text()); });
  page.on('pageerror', (err) => problems.pageErrors.push(err.message));
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (!['127.0.0.1', ''].includes(u.hostname) && !['data:', 'blob:'].includes(u.protocol)) {
      problems.foreignRequests.push(req.url());
    }
  });
  await page.goto(url);
  return { page, problems };
}

/** Waits until the engine is loaded and the network built (status "ready"). */
export async function ready(page, timeout = 60_000) {
  await page.getByTestId('status').filter({ hasText: 'ready' }).waitFor({ timeout });
}

/** The number shown by a `metric-*` element (NaN when it shows "–"). */
export async function metric(page, name) {
  return Number(await page.getByTestId(`metric-${name}`).textContent());
}

/**
 * Runs the trade-off panel's λ sweep (`lambdas`, `steps` each, over `seeds`) and waits for
 * its table.
 */
export async function sweep(page, { lambdas, steps, seeds }, timeout = 120_000) {
  await page.getByTestId('sweep-lambdas').fill(lambdas.join(','));
  await page.getByTestId('sweep-steps').fill(String(steps));
  await page.getByTestId('sweep-seeds').fill(String(seeds));
  await page.getByTestId('sweep').click();
  await page.getByTestId('tradeoff-table').waitFor({ timeout });
}

/** Polls `fn` (async → truthy) every 200 ms until it holds or `timeout` ms pass. */
export async function until(fn, timeout = 30_000, what = 'condition') {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 200));
  }
}

/** Asserts a page made no console error, threw nothing and asked no other host. */
export function assertClean(assert, problems) {
  assert.deepEqual(problems.consoleErrors, [], 'console errors');
  assert.deepEqual(problems.pageErrors, [], 'uncaught errors');
  assert.deepEqual(problems.foreignRequests, [], 'requests beyond 127.0.0.1');
}

/**
 * Starts a server and a browser for the test file (closed after it) and returns
 * `open(query)`: a page at that query string once the engine is ready, with its problems.
 */
export function pageOpener() {
  let env;
  before(async () => { env = await launch(); });
  after(async () => { await env?.close(); });
  return async (query = '') => {
    const opened = await openPage(env.browser, `${env.url}${query}`);
    await ready(opened.page);
    return opened;
  };
}

/** Moves the inference replay's t slider to `t` as a user would (an input event). */
export async function setReplayT(page, t) {
  await page.getByTestId('replay-t').evaluate((input, value) => {
    input.value = String(value);
    input.dispatchEvent(new Event('input'));
  }, t);
  await until(async () => (await page.getByTestId('replay').getAttribute('data-t')) === String(t), 5000, `t = ${t}`);
}

/** Draws a "1" (one vertical stroke) on the classification panel's drawing pad. */
export async function drawOne(page) {
  const pad = page.getByTestId('draw-canvas');
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
  await page.mouse.down();
  for (let k = 1; k <= 10; k++) await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * (0.15 + 0.07 * k));
  await page.mouse.up();
}

/** A page on another origin (another port) that frames `src` at 960×540: { url, close() }. */
export async function hostPage(src) {
  const html = `<!doctype html><title>slide</title><body style="margin:0">
    <iframe src="${src}" width="960" height="540" style="border:0" title="pclab"></iframe>`;
  const server = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((ok) => server.close(ok)),
  };
}

/**
 * Every digit grid on show, measured in the page: drawDigits' grids (canvas.digits, with
 * `pixel`, CSS px per digit pixel, from --image-width) and the figures of the rows of
 * single digits (.digit-row), each with the content box of its panel's body and the
 * page's largest digit pixel (--pixel-max).
 */
export function digitGrids(page) {
  return page.evaluate(() => {
    const shown = (e) => e.getClientRects().length > 0;
    const boxOf = (e) => {
      const b = e.getBoundingClientRect();
      return { left: b.left, right: b.right, width: b.width, height: b.height };
    };
    const measure = (e, kind, imageWidth) => {
      const body = e.closest('.panel > .body');
      const b = body.getBoundingClientRect();
      const box = boxOf(e);
      return {
        kind, id: e.dataset.testid ?? e.closest('[data-testid]')?.dataset.testid, ...box,
        pixel: imageWidth ? box.width / imageWidth : null,
        pixelMax: parseFloat(getComputedStyle(e).getPropertyValue('--pixel-max')),
        panel: { left: b.left + body.clientLeft, right: b.left + body.clientLeft + body.clientWidth, width: body.clientWidth },
      };
    };
    const grids = [...document.querySelectorAll('canvas.digits')].filter(shown)
      .map((c) => measure(c, 'grid', Number(c.style.getPropertyValue('--image-width'))));
    const figures = [...document.querySelectorAll('.digit-row > figure')].filter(shown).map((f) => measure(f, 'figure', 0));
    return [...grids, ...figures];
  });
}

/**
 * At 390×844 (a phone) the page does not scroll sideways and every digit grid and row of
 * digits on show stays inside its panel.
 */
export async function assertDigitsFitPhone(assert, page, what) {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  const [scrollWidth, innerWidth] = await page.evaluate(() => [document.scrollingElement.scrollWidth, innerWidth]);
  assert.ok(scrollWidth <= innerWidth, `${what} on a phone: the page is ${scrollWidth} px wide in ${innerWidth}`);
  for (const g of await digitGrids(page)) {
    assert.ok(g.left >= g.panel.left - 0.5 && g.right <= g.panel.right + 0.5,
      `${what} on a phone: ${g.kind} ${g.id} (${g.left.toFixed(1)}–${g.right.toFixed(1)}) inside its panel (${g.panel.left.toFixed(1)}–${g.panel.right.toFixed(1)})`);
  }
}
