// www/engine-loader.js picks the relaxed-SIMD build in Chromium, and both builds (it and
// the simd128 fallback) instantiate and train.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch } from './browser.mjs';

let env;
before(async () => { env = await launch(); });
after(async () => { await env?.close(); });

/** In the page: trains 30 PC classification steps with `glue`, returns the test accuracy. */
async function trainWith(page, glueUrl, initArg) {
  return page.evaluate(async ([url, arg]) => {
    const engine = await import(url);
    await engine.default(arg);
    const res = await fetch('/www/data/mnist-10k.bin.gz');
    const lab = new engine.Lab(engine.presetConfig('classification'), new Uint8Array(await res.arrayBuffer()));
    const step = lab.train(30);
    return { accuracy: lab.evaluate(1000).accuracy, flops: step.flops_total, relaxed: engine.relaxedSimd };
  }, [glueUrl, initArg]);
}

test('the loader picks the relaxed-SIMD build; both builds train', async () => {
  const page = await env.browser.newPage();
  const errors = [];
  const wasm = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    // A bare stylesheet has no <link rel="icon">, so Chromium asks for /favicon.ico.
    if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) errors.push(m.text());
  });
  page.on('request', (r) => { if (r.url().endsWith('.wasm')) wasm.push(new URL(r.url()).pathname); });
  // A document of the page's origin and CSP that runs no engine of its own.
  await page.goto(`${env.url}www/style.css`);

  const relaxed = await trainWith(page, '/www/engine-loader.js');
  assert.equal(relaxed.relaxed, true, 'Chromium has relaxed SIMD');
  assert.deepEqual(wasm, ['/www/pkg/pclab_relaxed_bg.wasm']);
  // The fallback, as a browser without relaxed SIMD gets it: a fresh instance of the glue.
  const plain = await trainWith(page, '/www/pkg/pclab.js?fallback', undefined);
  assert.deepEqual(wasm, ['/www/pkg/pclab_relaxed_bg.wasm', '/www/pkg/pclab_bg.wasm']);
  console.log(`after 30 steps: relaxed-simd ${relaxed.accuracy}, simd128 ${plain.accuracy}`);
  for (const r of [relaxed, plain]) {
    assert.ok(r.flops > 0);
    assert.ok(r.accuracy > 0.6, `accuracy ${r.accuracy} after 30 steps`);
  }
  assert.ok(Math.abs(relaxed.accuracy - plain.accuracy) < 0.05, 'the builds train alike');
  assert.deepEqual(errors, []);
  await page.close();
});
