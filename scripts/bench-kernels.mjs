// Times candidate f32 GEMM kernels (bench/kernels: matrixmultiply, the `gemm` crate,
// rten-gemm plain and with the weight packed once) on the engine's product shapes, in a
// dedicated worker of headless Chromium (where the app trains), each in a simd128 and a
// relaxed-simd build. Prints GFLOP/s, best of the rounds, per shape, and the time of each
// network's whole set of products. Run scripts/bench-kernels.sh (it builds, then runs this).
//
//   node scripts/bench-kernels.mjs [--rounds 3]
import { chromium } from 'playwright-core';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname } from 'node:path';

const args = process.argv.slice(2);
const at = args.indexOf('--rounds');
const rounds = at < 0 ? 3 : Number(args[at + 1]);
const BUILDS = ['simd128', 'relaxed'];

// [network, what, m, k, n, A read transposed, B read transposed]. Batches are B × n
// column-major; a weight W_l is n_l × n_{l−1}. Predictions U·Wᵀ, input gradients Δ·W,
// weight gradients Δᵀ·U, for the benchmarked PC networks (src/bench.rs).
const SHAPES = [];
const products = (network, batch, sizes) => {
  for (let l = 1; l < sizes.length; l++) {
    const [nIn, nOut] = [sizes[l - 1], sizes[l]];
    SHAPES.push([network, `U·Wᵀ ${nIn}→${nOut}`, batch, nIn, nOut, false, true]);
    if (l > 1 || network === 'compression') SHAPES.push([network, `Δ·W ${nOut}→${nIn}`, batch, nOut, nIn, false, false]);
    SHAPES.push([network, `Δᵀ·U ${nOut}×${nIn}`, nOut, batch, nIn, true, false]);
  }
};
products('classification', 128, [784, 128, 128, 128, 10]);
products('compression', 250, [64, 384, 784]);
SHAPES.push(['reference', '128×784×256', 128, 784, 256, false, false]);

const MIME = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
const ISOLATED = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
const server = createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  if (path === '/blank.html') {
    res.writeHead(200, { 'Content-Type': 'text/html', ...ISOLATED }).end('<!doctype html><title>kernels</title>');
    return;
  }
  const file = new URL(`../bench/kernels${path}`, import.meta.url);
  if (!path.startsWith('/pkg-') || path.includes('..') || !existsSync(file)) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'Content-Type': MIME[extname(path)] ?? 'application/octet-stream', ...ISOLATED }).end(readFileSync(file));
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const url = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});

/** In a worker: every kernel on every shape, GFLOP/s each, and C's entries compared. */
const WORKER = (shapes) => `
const m = await import('${url}pkg-BUILD/pclab_kernels.js'); await m.default();
const out = [];
for (const [network, what, M, K, N, ta, tb] of ${JSON.stringify(shapes)}) {
  const row = { network, what, gflops: {}, disagree: 0 };
  let first;
  for (const kernel of m.kernels()) {
    const p = new m.Product(kernel, M, K, N, ta, tb);
    p.run(3);
    let reps = 1, ms = 0;
    for (;;) { const t0 = performance.now(); p.run(reps); ms = performance.now() - t0; if (ms > 150) break; reps *= 2; }
    row.gflops[kernel] = (2 * M * K * N * reps) / ms / 1e6;
    const probe = [p.entry(0, 0), p.entry(M - 1, N - 1), p.entry(M >> 1, N >> 1)];
    if (!first) first = probe;
    row.disagree = Math.max(row.disagree, ...probe.map((x, i) => Math.abs(x - first[i]) / (1e-6 + Math.abs(first[i]))));
    p.free();
  }
  out.push(row);
}
postMessage(out);`;

try {
  console.log(`Chromium ${browser.version()}, ${rounds} rounds, a dedicated worker per build and round`);
  const best = new Map(); // `${build}|${network}|${what}` -> kernel -> GFLOP/s
  let kernels = [];
  let worst = 0;
  for (let r = 0; r < rounds; r++) {
    for (const build of BUILDS) {
      const page = await browser.newPage();
      await page.goto(`${url}blank.html`);
      const rows = await page.evaluate(async (src) => {
        const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })), { type: 'module' });
        const reply = await new Promise((ok, fail) => { w.onmessage = (e) => ok(e.data); w.onerror = (e) => fail(new Error(e.message)); });
        w.terminate();
        return reply;
      }, WORKER(SHAPES).replace('BUILD', build));
      await page.close();
      for (const row of rows) {
        const key = `${build}|${row.network}|${row.what}`;
        const byKernel = best.get(key) ?? {};
        for (const [k, g] of Object.entries(row.gflops)) byKernel[k] = Math.max(byKernel[k] ?? 0, g);
        best.set(key, byKernel);
        kernels = Object.keys(row.gflops);
        worst = Math.max(worst, row.disagree);
      }
      process.stderr.write(`round ${r + 1}: ${build} done\n`);
    }
  }
  const columns = BUILDS.flatMap((b) => kernels.map((k) => [b, k]));
  console.log(`| product (m×k×n) | ${columns.map(([b, k]) => `${k} (${b})`).join(' | ')} |`);
  console.log(`|---|${columns.map(() => '---:').join('|')}|`);
  const totals = {};
  for (const [network, what, M, K, N] of SHAPES) {
    const cells = columns.map(([b, k]) => {
      const g = best.get(`${b}|${network}|${what}`)[k];
      const key = `${network}|${b}|${k}`;
      if (network !== 'reference') totals[key] = (totals[key] ?? 0) + (2 * M * K * N) / g / 1e6; // ms
      return g.toFixed(1);
    });
    console.log(`| ${network}: ${what} (${M}×${K}×${N}) | ${cells.join(' | ')} |`);
  }
  for (const network of ['classification', 'compression']) {
    const cells = columns.map(([b, k]) => `${totals[`${network}|${b}|${k}`].toFixed(2)} ms`);
    console.log(`| ${network}: one pass over every product above | ${cells.join(' | ')} |`);
  }
  console.log(`largest relative difference between kernels in the probed entries of C: ${worst.toExponential(1)}`);
} finally {
  await browser.close();
  server.close();
}
