// A soak: trains the classification preset in headless Chromium for a while and samples,
// at a fixed interval, the step counter and the memory of the page, of its training
// Worker and of Chromium's renderer processes. With --assert-plateau it is a check: it
// exits 1 when memory keeps growing, training stalls or the page shows an error.
//
//   node scripts/soak.mjs [--minutes 10] [--interval 30] [--assert-plateau] [--leak-test]
//   make soak SOAK_MINUTES=3
//
// stdout: one JSON object per sample ({"t", "step", "rss", ...}, bytes), then one
// {"verdict": ...} line; stderr: the same samples as a table, and the verdict.
//
// What is sampled (bytes; null when it could not be read):
//   rss         VmRSS summed over Chromium's renderer processes (/proc/<pid>/status; the
//               pids come from CDP SystemInfo.getProcessInfo). The page and its Worker
//               live in one renderer, so this includes the wasm linear memory.
//   rssPage     VmRSS of the renderer that has used the most CPU (cumulative): the one
//               that trains, from the first seconds on.
//   pageHeap    the page's used JS heap (CDP Runtime.getHeapUsage on the page).
//   workerHeap  the Worker's used JS heap (the same, on the Worker's CDP target).
//   wasm        the Worker's wasm linear memory (memory.buffer.byteLength), from the
//               engine's exports: in the Worker, importing www/pkg/pclab.js again yields
//               the same module instance, whose init() returns the live exports. (CDP
//               Runtime.queryObjects would find the memory without the module, but it
//               crashes Chromium 156's renderer when the worker has just started.)
//
// Plateau (--assert-plateau): the samples are split in thirds by index; the first third
// is warm-up and ignored. For each of rssPage, pageHeap, workerHeap and wasm, memory keeps
// growing when max(last third) > 1.10 × max(middle third) AND exceeds it by more than
// 30 MB; both must hold, so neither a small heap's GC noise nor a few percent of a big
// process fails it. Maxima, not means or last values, because GC makes heaps saw-toothed:
// a leak lifts the peaks, a collection does not hide it. The check also fails when the
// step counter did not increase between any two consecutive samples (training stalled),
// when [data-testid=error] is visible, when the page throws or its renderer crashes.
// Without --interval the check takes at least 12 samples (interval ≤ minutes × 5 s).
//
// --leak-test (a self-test of the check): every 2 s the page keeps another 4 MB JS array
// (window.__soakLeak), so memory grows by ~2 MB/s; --assert-plateau must then fail.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launch, openPage, ready, metric } from '../e2e/browser.mjs';

const MB = 1 << 20;
export const PLATEAU = { ratio: 0.10, bytes: 30 * MB };
// What the plateau check judges: rssPage rather than the sum, whose other renderers'
// constant few hundred MB would dilute the 10%.
export const MEMORY_KEYS = ['rssPage', 'pageHeap', 'workerHeap', 'wasm'];
const LEAK_EVERY_MS = 2000;
const LEAK_DOUBLES = 512 * 1024; // 4 MB of packed doubles per injection

/** VmRSS of a process in bytes, or null when it is gone or unreadable. */
function vmRss(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * A CDP connection to the page's dedicated Worker, through the page's own CDP session
 * (non-flattened auto-attach: messages to the worker travel in Target.sendMessageToTarget).
 */
async function workerChannel(cdp) {
  let sessionId = null;
  let nextId = 1;
  const pending = new Map();
  cdp.on('Target.attachedToTarget', (e) => { if (e.targetInfo.type === 'worker') sessionId = e.sessionId; });
  cdp.on('Target.detachedFromTarget', (e) => { if (e.sessionId === sessionId) sessionId = null; });
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const msg = JSON.parse(e.message);
    const wait = pending.get(msg.id);
    if (!wait) return;
    pending.delete(msg.id);
    if (msg.error) wait.fail(new Error(msg.error.message));
    else wait.ok(msg.result);
  });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  const send = (method, params = {}) => new Promise((ok, fail) => {
    if (!sessionId) return fail(new Error('no worker attached'));
    const id = nextId++;
    const timer = setTimeout(() => { pending.delete(id); fail(new Error(`${method}: no answer`)); }, 10_000);
    pending.set(id, { ok: (r) => { clearTimeout(timer); ok(r); }, fail: (e) => { clearTimeout(timer); fail(e); } });
    cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(fail);
  });
  return {
    async heap() {
      return (await send('Runtime.getHeapUsage')).usedSize;
    },
  };
}

/** The Worker's wasm memory in bytes (see the header). */
const wasmBytes = (worker) => worker.evaluate(async () => {
  const engine = await import(new URL('pkg/pclab.js', self.location.href).href);
  return (await engine.default()).memory.buffer.byteLength;
});

/**
 * Reads one value, null on failure or after 15 s: a sample never throws or hangs for
 * one missing value.
 */
async function within(fn) {
  let timer;
  try {
    const late = new Promise((ok) => { timer = setTimeout(() => ok(null), 15_000); });
    return await Promise.race([fn(), late]);
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/** Reads one number, null when it is missing (see within). */
const maybe = async (fn) => {
  const v = await within(fn);
  return Number.isFinite(v) ? v : null;
};

/**
 * Judges samples: { ok, failures: [..], memory: { key: { middleMax, lastMax, growth, ok } } }.
 * See the header for the definition of a plateau.
 */
export function judge(samples, { ratio = PLATEAU.ratio, bytes = PLATEAU.bytes } = {}) {
  const failures = [];
  const n = samples.length;
  const memory = {};
  if (n < 6) failures.push(`${n} samples: at least 6 are needed to judge a plateau`);
  else {
    const a = Math.floor(n / 3);
    const b = Math.floor((2 * n) / 3);
    for (const key of MEMORY_KEYS) {
      const max = (xs) => Math.max(...xs.map((s) => s[key]).filter((v) => v !== null));
      const middleMax = max(samples.slice(a, b));
      const lastMax = max(samples.slice(b));
      if (!Number.isFinite(middleMax) || !Number.isFinite(lastMax)) {
        memory[key] = null;
        if (key === 'rssPage') failures.push('the renderer RSS could not be read');
        continue;
      }
      const growth = lastMax - middleMax;
      const ok = !(lastMax > (1 + ratio) * middleMax && growth > bytes);
      memory[key] = { middleMax, lastMax, growth, ok };
      if (!ok) {
        failures.push(`${key} keeps growing: max of the last third ${mb(lastMax)} MB > max of the middle third ` +
          `${mb(middleMax)} MB by ${mb(growth)} MB (${(100 * growth / middleMax).toFixed(1)}%)`);
      }
    }
  }
  for (let i = 1; i < n; i++) {
    if (!(samples[i].step > samples[i - 1].step)) {
      failures.push(`training stalled: step ${samples[i - 1].step} at ${samples[i - 1].t} s, ${samples[i].step} at ${samples[i].t} s`);
    }
  }
  for (const s of samples) if (s.error) { failures.push(`the page shows an error at ${s.t} s: ${s.error}`); break; }
  return { ok: failures.length === 0, failures, memory };
}

const mb = (v) => (v === null || v === undefined ? '–' : (v / MB).toFixed(1));
const COLUMNS = [
  ['t/s', 6, (s) => s.t.toFixed(0)],
  ['step', 8, (s) => String(s.step)],
  ['steps/s', 8, (s) => (s.rate === null ? '–' : s.rate.toFixed(1))],
  ['rss MB', 9, (s) => mb(s.rss)],
  ['page-rss MB', 12, (s) => mb(s.rssPage)],
  ['page-heap MB', 13, (s) => mb(s.pageHeap)],
  ['worker-heap MB', 15, (s) => mb(s.workerHeap)],
  ['wasm MB', 9, (s) => mb(s.wasm)],
];
export const tableHeader = () => COLUMNS.map(([h, w]) => h.padStart(w)).join('');
export const tableRow = (s) => COLUMNS.map(([, w, f]) => f(s).padStart(w)).join('') + (s.error ? `  error: ${s.error}` : '');

/** The verdict in words, one line per memory series and failure. */
export function describe(verdict) {
  const lines = [];
  for (const [key, m] of Object.entries(verdict.memory)) {
    if (!m) { lines.push(`  ${key}: not measured`); continue; }
    lines.push(`  ${key}: max middle third ${mb(m.middleMax)} MB, max last third ${mb(m.lastMax)} MB, ` +
      `growth ${mb(m.growth)} MB (${(100 * m.growth / m.middleMax).toFixed(1)}%) ${m.ok ? 'plateau' : 'GROWING'}`);
  }
  for (const f of verdict.failures) lines.push(`  FAIL ${f}`);
  lines.push(verdict.ok ? 'soak: plateau, training kept going, no error' : 'soak: FAILED');
  return lines.join('\n');
}

/**
 * Runs a soak and resolves to { samples, verdict }. Options: minutes, interval (s),
 * leakTest, onSample(sample) (called per sample), hardTimeoutMs (the browser and server
 * are closed and the promise rejects when it passes). The browser and the server are
 * always closed.
 */
export async function soak({ minutes = 10, interval = 30, leakTest = false, onSample = () => {}, hardTimeoutMs = Infinity } = {}) {
  const env = await launch();
  let hardTimer;
  let leakTimer;
  let stopped = false; // set by the hard timeout: the loop below ends at its next turn
  const run = async () => {
    const { page, problems } = await openPage(env.browser, `${env.url}?preset=classification`);
    let crashed = false;
    page.on('crash', () => { crashed = true; });
    await ready(page);
    const cdp = await page.context().newCDPSession(page);
    const worker = await workerChannel(cdp);
    const browserCdp = await env.browser.newBrowserCDPSession();
    const renderers = async () => (await browserCdp.send('SystemInfo.getProcessInfo')).processInfo.filter((p) => p.type === 'renderer');
    await page.getByTestId('play').click();
    if (leakTest) {
      leakTimer = setInterval(() => {
        page.evaluate((n) => { (window.__soakLeak ??= []).push(Array.from({ length: n }, Math.random)); }, LEAK_DOUBLES).catch(() => {});
      }, LEAK_EVERY_MS);
    }
    const samples = [];
    const t0 = Date.now();
    const count = Math.floor((minutes * 60) / interval);
    for (let i = 0; i <= count && !stopped; i++) {
      const wait = t0 + i * interval * 1000 - Date.now();
      if (wait > 0) await new Promise((ok) => setTimeout(ok, wait));
      const t = (Date.now() - t0) / 1000;
      const step = crashed ? null : await maybe(() => metric(page, 'step'));
      const list = (await within(renderers)) ?? [];
      const rssEach = list.map((p) => vmRss(p.id));
      const busiest = list.reduce((best, p, j) => (best === null || p.cpuTime > list[best].cpuTime ? j : best), null);
      const errorBox = page.getByTestId('error');
      let error = null;
      if (crashed) error = 'the renderer crashed';
      else if (await within(() => errorBox.isVisible())) {
        error = (await errorBox.textContent({ timeout: 5000 }).catch(() => '')).trim() || 'an error is shown';
      }
      else if (problems.pageErrors.length) error = `uncaught: ${problems.pageErrors[0]}`;
      const prev = samples.at(-1);
      const sample = {
        t: Math.round(t * 10) / 10,
        step: step ?? null,
        rate: prev && step !== null && prev.step !== null ? (step - prev.step) / (t - prev.t) : null,
        rss: rssEach.length && rssEach.every((v) => v !== null) ? rssEach.reduce((s, v) => s + v, 0) : null,
        rssPage: busiest === null ? null : rssEach[busiest],
        renderers: list.length,
        pageHeap: await maybe(async () => (await cdp.send('Runtime.getHeapUsage')).usedSize),
        workerHeap: await maybe(() => worker.heap()),
        wasm: await maybe(() => wasmBytes(page.workers()[0])),
        error,
      };
      samples.push(sample);
      onSample(sample);
      if (crashed) break;
    }
    clearInterval(leakTimer);
    return { samples, verdict: judge(samples) };
  };
  const hard = new Promise((_, fail) => {
    if (Number.isFinite(hardTimeoutMs)) {
      hardTimer = setTimeout(() => { stopped = true; fail(new Error(`soak: hard timeout of ${hardTimeoutMs / 1000} s`)); }, hardTimeoutMs);
    }
  });
  try {
    return await Promise.race([run(), hard]);
  } finally {
    clearTimeout(hardTimer);
    clearInterval(leakTimer);
    await env.close().catch(() => {});
  }
}

function parseArgs(argv) {
  const opts = { minutes: Number(process.env.SOAK_MINUTES ?? 10), interval: null, assertPlateau: false, leakTest: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => Number(inline ?? argv[++i]);
    if (flag === '--minutes') opts.minutes = value();
    else if (flag === '--interval') opts.interval = value();
    else if (flag === '--assert-plateau') opts.assertPlateau = true;
    else if (flag === '--leak-test') opts.leakTest = true;
    else if (flag === '--help' || flag === '-h') {
      console.log('usage: node scripts/soak.mjs [--minutes M] [--interval S] [--assert-plateau] [--leak-test]');
      process.exit(0);
    } else {
      console.error(`soak: unknown argument ${argv[i]}`);
      process.exit(2);
    }
  }
  if (!(opts.minutes > 0 && opts.minutes <= 24 * 60)) { console.error('soak: --minutes must be in (0, 1440]'); process.exit(2); }
  if (opts.interval === null) opts.interval = opts.assertPlateau ? Math.min(30, (opts.minutes * 60) / 12) : 30;
  if (!(opts.interval >= 1)) { console.error('soak: --interval must be at least 1 (s)'); process.exit(2); }
  return opts;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const opts = parseArgs(process.argv.slice(2));
  console.error(`soak: classification preset, ${opts.minutes} min, a sample every ${opts.interval} s` +
    `${opts.leakTest ? ', LEAK TEST (the page leaks ~2 MB/s on purpose)' : ''}`);
  console.error(tableHeader());
  const { verdict } = await soak({
    minutes: opts.minutes,
    interval: opts.interval,
    leakTest: opts.leakTest,
    hardTimeoutMs: (opts.minutes * 60 + 180) * 1000,
    onSample: (s) => {
      console.log(JSON.stringify(s));
      console.error(tableRow(s));
    },
  }).catch((err) => {
    console.error(`soak: ${err.message}`);
    process.exit(1);
  });
  console.log(JSON.stringify({ verdict }));
  console.error(describe(verdict));
  process.exitCode = opts.assertPlateau && !verdict.ok ? 1 : 0;
}
