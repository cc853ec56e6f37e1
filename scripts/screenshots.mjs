// Screenshots for the README and for checking the layout by eye: each preset trained for
// a while in headless Chromium, on a slide (960×540, embed, no controls), a laptop
// (1280×800), a projector (1920×1080) and a phone (390×844); presentation mode, the dark
// theme, and every panel on its own.
// Run after `make build`:  node scripts/screenshots.mjs   (a few minutes; writes docs/screenshots/)
// `node scripts/screenshots.mjs compression generation` retakes only those presets' views
// (`readme` the README's figures, `vae` the VAE panel's).
import { mkdirSync } from 'node:fs';
import { launch, openPage, ready, metric, until, sweep } from '../e2e/browser.mjs';

const OUT = new URL('../docs/screenshots/', import.meta.url).pathname;
mkdirSync(OUT, { recursive: true });
const env = await launch();

const SLIDE = { width: 960, height: 540 };
const SIZES = { 1280: { width: 1280, height: 800 }, 1920: { width: 1920, height: 1080 }, phone: { width: 390, height: 844 } };

/** Plays until `steps` training steps are done, pauses, waits for the last visuals. */
async function train(page, steps) {
  await page.getByTestId('play').click();
  await until(async () => (await metric(page, 'step')) >= steps, 600_000, `${steps} steps`);
  await page.getByTestId('pause').click();
  await page.getByTestId('status').filter({ hasText: 'paused' }).waitFor();
  await page.waitForTimeout(1500); // the last evaluation and visuals
}

/** What each preset's key figure needs before it shows anything. */
const PREPARE = {
  generation: async (page) => {
    await train(page, 600);
    await page.getByTestId('sample-note').filter({ hasText: 'seed' }).waitFor();
  },
  gradients: async (page) => {
    await page.getByTestId('gradient-cosine').waitFor({ timeout: 60_000 });
    await train(page, 60);
    // The beyond-Gaussian toy below the cosines, run once.
    await page.getByTestId('toy-run').click();
    await page.getByTestId('toy-table').waitFor({ timeout: 120_000 });
    await page.waitForTimeout(500);
  },
  tradeoff: async (page) => {
    await sweep(page, { lambdas: [0, 0.5, 0.9], steps: 40, seeds: 3 }, 600_000);
    await page.waitForTimeout(500);
  },
  compression: (page) => train(page, 120),
  // Two decoders, one trained by BP through 35 inference steps: a few dozen steps show
  // the dynamics apart.
  dynamics: async (page) => {
    await train(page, 40);
    await page.getByTestId('dynamics').first().waitFor({ timeout: 60_000 });
  },
};

/** Opens `query` at `viewport` (options: colorScheme), ready and prepared for `preset`. */
async function prepared(preset, query, options) {
  const { page } = await openPage(env.browser, `${env.url}${query}`, options);
  await ready(page);
  await (PREPARE[preset] ?? ((p) => train(p, 300)))(page);
  return page;
}

/** Screenshots of the viewport at each size in SIZES, resizing one trained page. */
async function atEverySize(page, name) {
  for (const [size, viewport] of Object.entries(SIZES)) {
    await page.setViewportSize(viewport);
    await page.waitForTimeout(400); // charts follow their width (ResizeObserver)
    await page.screenshot({ path: `${OUT}${name}-${size}.png` });
  }
}

const shot = (page, panel, name) => page.locator(`#panel-${panel}`).screenshot({ path: `${OUT}${name}.png` });

/** The README's figures: the whole page, each panel, presentation mode, an embed, dark. */
async function readmeFigures() {
  let page = await prepared('classification', '?preset=classification&all=1', { viewport: SIZES[1280] });
  await page.screenshot({ path: `${OUT}page-classification.png`, fullPage: true });
  for (const p of ['training', 'inference', 'classification', 'weights', 'cost']) await shot(page, p, `panel-${p}`);
  await page.close();
  for (const preset of ['compression', 'generation', 'gradients', 'tradeoff']) {
    const panel = { compression: 'reconstructions' }[preset] ?? preset;
    page = await prepared(preset, `?preset=${preset}`, { viewport: SIZES[1280] });
    await shot(page, panel, `panel-${panel}`);
    await page.close();
  }

  page = await prepared('classification', '?preset=classification&present=1', { viewport: SIZES[1920] });
  await page.screenshot({ path: `${OUT}present.png` });
  await page.close();
  page = await prepared('classification', '?preset=classification&embed=1&controls=0&panels=training', { viewport: SLIDE });
  await page.screenshot({ path: `${OUT}embed.png` });
  await page.close();
  page = await prepared('compression', '?preset=compression', { viewport: SIZES[1280], colorScheme: 'dark' });
  await page.screenshot({ path: `${OUT}dark.png` });
  await page.close();
}

/** The VAE panel (generation experiment) after both VAEs trained two epochs. */
async function vaeFigure() {
  const { page } = await openPage(env.browser, `${env.url}?preset=generation&all=1`, { viewport: SIZES[1280] });
  await ready(page);
  await page.getByTestId('vae-steps').fill('250');
  await page.getByTestId('vae-train').click();
  await page.getByTestId('vae-table').waitFor({ timeout: 600_000 });
  await page.waitForTimeout(500);
  await shot(page, 'vae', 'panel-vae');
  await page.close();
}

try {
  const presets = await (async () => {
    const { page } = await openPage(env.browser, env.url);
    await ready(page);
    const names = await page.evaluate(async () => (await import('/www/pkg/pclab.js')).configSchema().presets.map((p) => p.name));
    await page.close();
    return names;
  })();

  const only = process.argv.slice(2);
  for (const preset of presets.filter((p) => !only.length || only.includes(p))) {
    let page = await prepared(preset, `?preset=${preset}`, { viewport: SIZES[1280] });
    await atEverySize(page, `preset-${preset}`);
    await page.close();
    page = await prepared(preset, `?preset=${preset}&embed=1&controls=0`, { viewport: SLIDE });
    await page.screenshot({ path: `${OUT}preset-${preset}-slide.png` });
    await page.close();
  }

  if (!only.length || only.includes('readme')) await readmeFigures();
  if (!only.length || only.includes('vae')) await vaeFigure();
  console.log(`screenshots written to ${OUT}`);
} finally {
  await env.close();
}
