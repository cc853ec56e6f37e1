// Turns a hand-drawn digit into an MNIST-like input, the way MNIST itself was made:
// the ink's bounding box is scaled to fit 20×20 keeping its aspect ratio (anti-aliased),
// then placed in 28×28 so that its centre of mass is the image centre. Pure functions
// (no DOM), so node can test them.

const SIDE = 28;
const BOX = 20;
const INK = 0.05; // a pixel brighter than this counts as ink for the bounding box
const SUPERSAMPLE = 4; // samples per target pixel side, for anti-aliasing

/** The bounding box {x0, y0, x1, y1} (exclusive ends) of the ink, or null if none. */
export function inkBox(gray, width, height) {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (gray[y * width + x] > INK) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x);
        y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
  }
  return x1 < 0 ? null : { x0, y0, x1: x1 + 1, y1: y1 + 1 };
}

/** Bilinear sample of `gray` at (x, y) in pixel-centre coordinates, 0 outside. */
function bilinear(gray, width, height, x, y) {
  const fx = Math.floor(x), fy = Math.floor(y);
  const ax = x - fx, ay = y - fy;
  const at = (i, j) => (i < 0 || j < 0 || i >= width || j >= height ? 0 : gray[j * width + i]);
  return (1 - ay) * ((1 - ax) * at(fx, fy) + ax * at(fx + 1, fy)) + ay * ((1 - ax) * at(fx, fy + 1) + ax * at(fx + 1, fy + 1));
}

/**
 * Resamples box `b` of `gray` to w×h by averaging SUPERSAMPLE² bilinear samples per
 * target pixel (an area filter: anti-aliased whether shrinking or growing).
 */
function resample(gray, width, height, b, w, h) {
  const out = new Float32Array(w * h);
  const sx = (b.x1 - b.x0) / w, sy = (b.y1 - b.y0) / h;
  for (let ty = 0; ty < h; ty++) {
    for (let tx = 0; tx < w; tx++) {
      let sum = 0;
      for (let j = 0; j < SUPERSAMPLE; j++) {
        for (let i = 0; i < SUPERSAMPLE; i++) {
          const x = b.x0 + (tx + (i + 0.5) / SUPERSAMPLE) * sx - 0.5;
          const y = b.y0 + (ty + (j + 0.5) / SUPERSAMPLE) * sy - 0.5;
          sum += bilinear(gray, width, height, x, y);
        }
      }
      out[ty * w + tx] = sum / (SUPERSAMPLE * SUPERSAMPLE);
    }
  }
  return out;
}

/** Centre of mass (x, y) of a w×h image, in pixel-centre coordinates. */
export function centreOfMass(img, w, h) {
  let m = 0, cx = 0, cy = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = img[y * w + x];
      m += v; cx += v * x; cy += v * y;
    }
  }
  return m > 0 ? { x: cx / m, y: cy / m } : { x: (w - 1) / 2, y: (h - 1) / 2 };
}

/**
 * MNIST preprocessing of a width×height grey image (values in [0,1], ink bright).
 * Returns Float32Array(784) in [0,1], or null when nothing is drawn.
 */
export function toMnist(gray, width, height) {
  const b = inkBox(gray, width, height);
  if (!b) return null;
  const bw = b.x1 - b.x0, bh = b.y1 - b.y0;
  const s = BOX / Math.max(bw, bh);
  const w = Math.max(1, Math.round(bw * s)), h = Math.max(1, Math.round(bh * s));
  const digit = resample(gray, width, height, b, w, h);
  const com = centreOfMass(digit, w, h);
  const dx = Math.round((SIDE - 1) / 2 - com.x), dy = Math.round((SIDE - 1) / 2 - com.y);
  const out = new Float32Array(SIDE * SIDE);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const X = x + dx, Y = y + dy;
      if (X >= 0 && Y >= 0 && X < SIDE && Y < SIDE) out[Y * SIDE + X] = Math.min(1, Math.max(0, digit[y * w + x]));
    }
  }
  return out;
}
