// Serves the pclab page on 127.0.0.1 (PORT, default 8080) with correct MIME types
// (.wasm as application/wasm) and a Content-Security-Policy that allows only the page's
// own scripts and wasm. Only index.html and www/ are served.
//
//   node scripts/serve.mjs            # prints the URL, serves until stopped
//   import { startServer } from './serve.mjs'   # tests: an ephemeral port
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.gz': 'application/octet-stream',
  '.ico': 'image/x-icon',
};

export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Maps a URL path to a file under ROOT, or null when it is not servable. */
function fileFor(urlPath) {
  let path = decodeURIComponent(urlPath.split('?')[0]);
  if (path === '/' || path === '') path = '/index.html';
  const file = normalize(join(ROOT, path));
  const allowed = file === join(ROOT, 'index.html') || file.startsWith(join(ROOT, 'www') + '/');
  return allowed ? file : null;
}

async function handle(req, res) {
  let file;
  try {
    file = fileFor(req.url);
  } catch {
    file = null;
  }
  try {
    if (!file || !(await stat(file)).isFile()) throw new Error('not found');
    const body = await readFile(file);
    res.writeHead(200, {
      'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
      'Content-Security-Policy': CSP,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(body);
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found');
  }
}

/** Starts the server; resolves to { server, url } once it listens. */
export function startServer(port = 0, host = '127.0.0.1') {
  return new Promise((ok, fail) => {
    const server = createServer(handle);
    server.on('error', fail);
    server.listen(port, host, () => ok({ server, url: `http://${host}:${server.address().port}/` }));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT ?? 8080);
  const { url } = await startServer(port);
  console.log(`pclab is served at ${url}  (Ctrl-C stops it)`);
}
