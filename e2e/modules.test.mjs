// The page's pure modules, in node: MNIST preprocessing of a drawn digit and URL state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toMnist, inkBox, centreOfMass } from '../www/draw.js';
import { readState, writeState, runConfigs, parseValue, SETTINGS } from '../www/settings.js';
import { idxKind } from '../www/idx.js';

/** A width×height image with a filled rectangle of ink. */
function rect(width, height, x0, y0, x1, y1) {
  const g = new Float32Array(width * height);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) g[y * width + x] = 1;
  return g;
}

test('a drawn stroke is scaled to fit 20×20 keeping its aspect ratio, centred by mass', () => {
  // A tall bar 40 wide and 160 high in the corner of a 224 pad.
  const out = toMnist(rect(224, 224, 10, 20, 50, 180), 224, 224);
  assert.equal(out.length, 784);
  const box = inkBox(out, 28, 28);
  assert.equal(box.y1 - box.y0, 20, 'the long side becomes 20 pixels');
  assert.ok(Math.abs((box.x1 - box.x0) - 5) <= 1, `the short side keeps the 1:4 aspect (got ${box.x1 - box.x0})`);
  const com = centreOfMass(out, 28, 28);
  assert.ok(Math.abs(com.x - 13.5) <= 0.5 && Math.abs(com.y - 13.5) <= 0.5, `centre of mass ${com.x}, ${com.y}`);
  assert.ok(out.every((v) => v >= 0 && v <= 1), 'values in [0,1]');
});

test('resampling anti-aliases: a round stroke gets grey edges', () => {
  const disc = new Float32Array(224 * 224).map((_, i) => (Math.hypot((i % 224) - 100, Math.floor(i / 224) - 110) < 60 ? 1 : 0));
  const out = toMnist(disc, 224, 224);
  assert.ok(out.some((v) => v > 0.05 && v < 0.95), 'some grey pixels at the edges');
});

test('an empty pad gives no digit', () => {
  assert.equal(toMnist(new Float32Array(100), 10, 10), null);
});

const engine = {
  defaultConfig: () => ({ experiment: 'classify', rule: 'pc', hidden: [128, 128, 128], steps: 8, lr: 0.001, seed: 1, accumulate: false, inference_lr: 0.1 }),
  presetConfig: (name) => {
    if (name !== 'compression') throw new Error(`unknown preset ${name}`);
    return { ...engine.defaultConfig(), experiment: 'compress', steps: 35 };
  },
};

test('URL state round-trips every setting', () => {
  const { state, errors } = readState('?T=5&hidden=64,32&seed=7&compare=bp', engine);
  assert.deepEqual(errors, []);
  assert.equal(state.config.steps, 5);
  assert.deepEqual(state.config.hidden, [64, 32]);
  const again = readState(writeState(state, { embed: false, hide: [] }), engine);
  assert.deepEqual(again.state, state);
  assert.deepEqual(runConfigs(state).map((c) => c.rule), ['pc', 'bp']);
});

test('presets load; bad parameters are reported and ignored', () => {
  assert.equal(readState('?preset=compression', engine).state.config.experiment, 'compress');
  const { state, errors } = readState('?preset=nope&T=-3&lr=abc&bogus=1', engine);
  assert.equal(errors.length, 4, errors.join('\n'));
  assert.match(errors.join(' '), /nope/);
  assert.equal(state.config.steps, 8);
  assert.equal(state.config.lr, 0.001);
});

test('settings parse strictly', () => {
  const T = SETTINGS.find((s) => s.key === 'T');
  assert.deepEqual(parseValue(T, '12'), { value: 12 });
  assert.ok(parseValue(T, '1.5').error);
  assert.ok(parseValue(T, '').error);
  assert.ok(parseValue(SETTINGS.find((s) => s.name === 'hidden'), '12,x').error);
});

test('IDX magic numbers tell images from labels', () => {
  assert.equal(idxKind(new Uint8Array([0, 0, 8, 3])), 'images');
  assert.equal(idxKind(new Uint8Array([0, 0, 8, 1])), 'labels');
  assert.equal(idxKind(new Uint8Array([1, 2, 3, 4])), null);
});
