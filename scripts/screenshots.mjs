// Screenshots for the README: each preset trained for a while in headless Chromium.
// Run after `make build`:  node scripts/screenshots.mjs   (a few minutes; writes docs/screenshots/)
import { mkdirSync } from 'node:fs';
import { launch, openPage, ready, metric, until } from '../e2e/browser.mjs';

const OUT = new URL('../docs/screenshots/', import.meta.url).pathname;
mkdirSync(OUT, { recursive: true });
const env = await launch();

/** Opens `query`, plays until `steps` training steps are done, pauses; returns the page. */
async function trained(query, steps) {
  const { page } = await openPage(env.browser, `${env.url}${query}`);
  await ready(page);
  await page.getByTestId('play').click();
  await until(async () => (await metric(page, 'step')) >= steps, 600_000, `${steps} steps`);
  await page.getByTestId('pause').click();
  await page.getByTestId('status').filter({ hasText: 'paused' }).waitFor();
  await page.waitForTimeout(1500); // the last evaluation and visuals
  return page;
}

const shot = (page, panel, name) => page.locator(`#panel-${panel}`).screenshot({ path: `${OUT}${name}.png` });

try {
  let page = await trained('?preset=classification', 400);
  await page.screenshot({ path: `${OUT}page-classification.png`, fullPage: true });
  for (const p of ['training', 'inference', 'classification', 'weights', 'cost']) await shot(page, p, `panel-${p}`);
  await page.close();

  page = await trained('?preset=compression', 120);
  await shot(page, 'reconstructions', 'panel-reconstructions');
  await page.close();

  page = await trained('?preset=generation', 600);
  await page.getByTestId('generate-class').selectOption('3');
  await page.getByTestId('generate').click();
  await page.waitForTimeout(1000);
  await shot(page, 'generation', 'panel-generation');
  await page.close();

  ({ page } = await openPage(env.browser, `${env.url}?preset=gradients`));
  await ready(page);
  await page.getByTestId('gradient-cosine').waitFor({ timeout: 60_000 });
  await page.waitForTimeout(500);
  await shot(page, 'gradients', 'panel-gradients');
  await page.close();

  ({ page } = await openPage(env.browser, `${env.url}?preset=tradeoff`));
  await ready(page);
  await page.getByTestId('sweep-lambdas').fill('0,0.25,0.5,0.75,1');
  await page.getByTestId('sweep-steps').fill('120');
  await page.getByTestId('sweep').click();
  await page.getByTestId('tradeoff-table').waitFor({ timeout: 600_000 });
  await page.waitForTimeout(500);
  await shot(page, 'tradeoff', 'panel-tradeoff');
  await page.close();

  page = await trained('?preset=classification&embed=1&hide=seed,batch', 60);
  await page.screenshot({ path: `${OUT}embed.png` });
  await page.close();
  console.log(`screenshots written to ${OUT}`);
} finally {
  await env.close();
}
