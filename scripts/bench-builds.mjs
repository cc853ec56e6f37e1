// Compares wasm builds of pclab in one headless Chromium run: each build's benchmark
// (the workloads of `?bench=1`, src/bench.rs, through the wasm `Benchmark` class) runs in turn, for several rounds, so a busy
// machine disturbs every build alike. Prints each workload's best GFLOP/s per build.
// `--hosts` also runs each build where else the module runs: `worker` in a dedicated
// worker of the same page (where the app trains), `node` in this Node process (V8 too).
//
//   node scripts/bench-builds.mjs pkg pkg-relaxed [--rounds 3] [--seconds 1] [--hosts page,worker,node]
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
const hostsAt = args.indexOf('--hosts');
const hosts = hostsAt < 0 ? ['page'] : args.splice(hostsAt, 2)[1].split(',');
const HOSTS = ['page', 'worker', 'node'];
for (const h of hosts) if (!HOSTS.includes(h)) throw new Error(`--hosts: ${h} is not one of ${HOSTS.join(', ')}`);
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
  const best = new Map(); // workload -> column (build, host) -> best GFLOP/s
  const columns = builds.flatMap((b) => hosts.map((h) => ({ b, h, name: hosts.length > 1 ? `${b} ${h}` : b })));
  for (let r = 0; r < rounds; r++) {
    for (const column of columns) {
      const rows = await run(column);
      for (const row of rows) {
        const byColumn = best.get(row.name) ?? new Map();
        byColumn.set(column.name, Math.max(byColumn.get(column.name) ?? 0, row.gflops_per_s));
        best.set(row.name, byColumn);
      }
      process.stderr.write(`round ${r + 1}: ${column.name} done\n`);
    }
  }
  console.log(`| workload | ${columns.map((c) => `${c.name} GFLOP/s`).join(' | ')} |`);
  console.log(`|---|${columns.map(() => '---').join('|')}|`);
  for (const [name, byColumn] of best) {
    console.log(`| ${name} | ${columns.map((c) => byColumn.get(c.name).toFixed(1)).join(' | ')} |`);
  }
} finally {
  await browser.close();
  server.close();
}

/** Build `b`'s benchmark rows on host `h`. */
async function run({ b, h }) {
  if (h === 'node') {
    const m = await import(`../www/${b}/pclab.js`);
    m.initSync({ module: readFileSync(new URL(`../www/${b}/pclab_bg.wasm`, import.meta.url)) });
    const bench = new m.Benchmark(seconds);
    while (!bench.advance());
    return bench.results();
  }
  // A fresh page each time (no other instance's memory around), a plain same-origin
  // document with no engine of its own running.
  const page = await browser.newPage();
  try {
    await page.goto(`${url}www/blank.html`);
    if (!(await page.evaluate(() => crossOriginIsolated))) throw new Error('not cross-origin isolated');
    return await page.evaluate(async ([dir, s, inWorker]) => {
      const body = `const m = await import('${location.origin}/www/${dir}/pclab.js'); await m.default();
        const bench = new m.Benchmark(${s}); while (!bench.advance()); return bench.results();`;
      if (!inWorker) return new Function(`return (async () => { ${body} })()`)();
      const src = `(async () => { ${body} })().then((r) => postMessage(r), (e) => postMessage({ error: String(e) }));`;
      const worker = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })), { type: 'module' });
      const reply = await new Promise((ok) => { worker.onmessage = (e) => ok(e.data); });
      worker.terminate();
      if (reply.error) throw new Error(reply.error);
      return reply;
    }, [b, seconds, h === 'worker']);
  } finally {
    await page.close();
  }
}
