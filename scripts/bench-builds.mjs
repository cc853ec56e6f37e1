// Compares wasm builds of pclab in one headless Chromium run: each build's benchmark
// (the workloads of `?bench=1`, src/bench.rs, through the wasm `Benchmark` class) runs in turn, for several rounds, so a busy
// machine disturbs every build alike. Prints each workload's best GFLOP/s per build.
//
//   node scripts/bench-builds.mjs pkg pkg-relaxed [--rounds 3] [--seconds 1]
//
// The arguments are wasm-pack output directories under www/ (built by
// scripts/build-web.sh, or copies of one).
import { chromium } from 'playwright-core';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname } from 'node:path';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const [, value] = args.splice(i, 2);
  return Number(value);
};
const rounds = option('rounds', 3);
const seconds = option('seconds', 1);
const builds = args;
if (builds.length === 0) throw new Error('usage: node scripts/bench-builds.mjs DIR... (under www/)');
for (const b of builds) {
  if (!existsSync(new URL(`../www/${b}/pclab.js`, import.meta.url))) throw new Error(`no www/${b}/pclab.js`);
}

// Serves www/ cross-origin isolated, so performance.now() ticks in 5 µs, not 100 µs: a
// gemm takes about 2 ms, which the coarse clock would quantise to 5%.
const MIME = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
const server = createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  if (path === '/www/blank.html') {
    res.writeHead(200, {
      'Content-Type': 'text/html',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    }).end('<!doctype html><title>bench</title>');
    return;
  }
  const file = new URL(`..${path}`, import.meta.url);
  if (!path.startsWith('/www/') || path.includes('..') || !existsSync(file)) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, {
    'Content-Type': MIME[extname(path)] ?? 'application/octet-stream',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
  }).end(readFileSync(file));
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const url = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  console.log(`Chromium ${browser.version()}, ${rounds} rounds of ${seconds} s per workload`);
  const best = new Map(); // workload -> build -> best GFLOP/s
  for (let r = 0; r < rounds; r++) {
    for (const b of builds) {
      // A fresh page each time (no other instance's memory around), a plain
      // same-origin document with no engine of its own running.
      const page = await browser.newPage();
      await page.goto(`${url}www/blank.html`);
      if (!(await page.evaluate(() => crossOriginIsolated))) throw new Error('not cross-origin isolated');
      const rows = await page.evaluate(async ([dir, s]) => {
        const m = await import(`/www/${dir}/pclab.js`);
        await m.default();
        const bench = new m.Benchmark(s);
        while (!bench.advance());
        return bench.results();
      }, [b, seconds]);
      await page.close();
      for (const row of rows) {
        const byBuild = best.get(row.name) ?? new Map();
        byBuild.set(b, Math.max(byBuild.get(b) ?? 0, row.gflops_per_s));
        best.set(row.name, byBuild);
      }
      process.stderr.write(`round ${r + 1}: ${b} done\n`);
    }
  }
  console.log(`| workload | ${builds.map((b) => `${b} GFLOP/s`).join(' | ')} |`);
  console.log(`|---|${builds.map(() => '---').join('|')}|`);
  for (const [name, byBuild] of best) {
    console.log(`| ${name} | ${builds.map((b) => byBuild.get(b).toFixed(1)).join(' | ')} |`);
  }
} finally {
  await browser.close();
  server.close();
}
