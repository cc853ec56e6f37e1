// The page's pure modules, in node: MNIST preprocessing of a drawn digit and URL state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toMnist, inkBox, centreOfMass } from '../www/draw.js';
import { readFileSync } from 'node:fs';
import { readState, writeState, settingsOf, runNames } from '../www/settings.js';
import { initSync, configSchema, configWithSettings, runConfigs, presetConfig } from '../www/pkg/pclab.js';
import { idxKind } from '../www/idx.js';
import { fmt, fixed, whole } from '../www/dom.js';

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

// The real engine (the built wasm module), as the page uses it.
initSync({ module: readFileSync(new URL('../www/pkg/pclab_bg.wasm', import.meta.url)) });
const schema = configSchema();
const engine = { schema, withSettings: configWithSettings, runConfigs };
const view = { embed: false, hide: [] };

test('URL state round-trips every setting', () => {
  const { state, errors } = readState('?T=5&hidden=64,32&seed=7&compare=bp', engine);
  assert.deepEqual(errors, []);
  assert.equal(state.config.steps, 5);
  assert.deepEqual(state.config.hidden, [64, 32]);
  const again = readState(writeState(state, view, schema), engine);
  assert.deepEqual(again.errors, []);
  assert.deepEqual(again.state, state);
  assert.deepEqual(runConfigs(state.config, state.page.compare).map((c) => c.rule), ['pc', 'bp']);
});

test('every preset the page offers is exactly the engine preset', () => {
  assert.ok(schema.presets.length >= 7);
  for (const p of schema.presets) {
    const { state, errors } = readState(`?preset=${p.name}`, engine);
    assert.deepEqual(errors, [], p.name);
    assert.deepEqual(state.config, presetConfig(p.name), p.name);
    // And through the URL the page writes for it.
    assert.deepEqual(readState(writeState(state, view, schema), engine).state.config, presetConfig(p.name), p.name);
  }
  for (const name of ['gradients', 'tplus1', 'tutorial']) assert.ok(schema.presets.some((p) => p.name === name), name);
});

test('presets load; bad parameters, prototype names and repeated keys are reported and ignored', () => {
  assert.equal(readState('?preset=compression', engine).state.config.experiment, 'compress');
  const { state, errors } = readState('?preset=nope&T=-3&lr=abc&bogus=1', engine);
  assert.equal(errors.length, 4, errors.join('\n'));
  assert.match(errors.join(' '), /nope/);
  assert.equal(state.config.steps, schema.defaults.steps);
  assert.equal(state.config.lr, schema.defaults.lr);
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    const r = readState(`?preset=${name}&${name}=1`, engine);
    assert.equal(r.errors.length, 2, `${name}: ${r.errors.join(' ')}`);
    assert.deepEqual(r.state.config, schema.defaults, name);
  }
  const twice = readState('?T=5&T=9', engine);
  assert.equal(twice.state.config.steps, 5);
  assert.match(twice.errors.join(' '), /given 2 times/);
  assert.match(readState('?hidden=0x10', engine).errors.join(' '), /hidden/);
  // The page's own keys too: a flag other than 1/0/true/false, a hidden name that is no setting.
  const page = readState('?present=2&all=yes&embed=maybe&controls=no&hide=zzz,seed,T', engine);
  for (const bad of ['present=2', 'all=yes', 'embed=maybe', 'controls=no', 'hide=zzz']) assert.match(page.errors.join(' '), new RegExp(bad), bad);
  assert.equal(page.errors.length, 5, page.errors.join('\n'));
  assert.deepEqual([page.view.present, page.view.all, page.view.embed, page.view.controls], [false, false, false, true]);
  assert.deepEqual(page.view.hide, ['seed', 'steps'], 'names and URL keys, as names');
  const on = readState('?present=1&all=true&embed=0&controls=false', engine);
  assert.deepEqual(on.errors, []);
  assert.deepEqual([on.view.present, on.view.all, on.view.embed, on.view.controls], [true, true, false, false]);
});

test('an invalid combination is refused by name and leaves a usable config', () => {
  const { state, errors } = readState('?rule=bp-through-inference', engine);
  assert.match(errors.join(' '), /classify experiment trains by pc or bp/);
  assert.equal(state.config.rule, 'pc');
  const compress = readState('?experiment=compress', engine).state.config;
  assert.equal(compress.output_energy, 'gaussian', 'compress starts from its own preset');
  const r = readState('?preset=tradeoff&compare=accumulate&rule=bp-through-inference', engine);
  assert.equal(r.state.page.compare, 'off');
  assert.match(r.errors.join(' '), /compare/);
});

test('the page takes its limits from the engine', () => {
  const settings = settingsOf(schema);
  const T = settings.find((s) => s.key === 'T');
  assert.equal(T.name, 'steps');
  assert.equal(T.max, 1000);
  assert.equal(settings.find((s) => s.name === 'batch').max, 8192);
  assert.equal(settings.find((s) => s.name === 'hidden').max_len, 16);
  assert.deepEqual(settings.find((s) => s.name === 'activation').choices.map((c) => c.name), ['identity', 'tanh', 'sigmoid', 'relu', 'leaky-relu', 'gelu']);
  assert.throws(() => configWithSettings(schema.defaults, ['steps'], ['1001']), /steps/);
  assert.throws(() => configWithSettings(schema.defaults, ['steps'], ['1.5']), /steps/);
});


test('runs are named by the engine\'s legend names of their rules; the T+1 comparison also by gradient', () => {
  const rules = schema.fields.find((f) => f.name === 'rule').choices;
  const short = (rule) => rules.find((c) => c.name === rule).short;
  const named = (query) => {
    const { state, errors } = readState(query, engine);
    assert.deepEqual(errors, [], query);
    return runNames(schema, runConfigs(state.config, state.page.compare), state.page);
  };
  assert.deepEqual(named('?preset=classification&compare=bp'), [short('pc'), short('bp')]);
  assert.deepEqual(named('?preset=dynamics'), [short('pc'), short('bp-through-inference')]);
  assert.deepEqual(named('?preset=tradeoff&rule=bp-through-inference&compare=bp'), [short('bp-through-inference'), short('pc')]);
  assert.deepEqual(named('?preset=classification&compare=accumulate'), [`${short('pc')} clean`, `${short('pc')} T+1 accumulated`]);
  assert.deepEqual(named('?preset=classification'), [short('pc')]);
  assert.deepEqual(['pc', 'bp', 'bp-through-inference'].map(short), ['PC', 'BP', 'BP through inference']);
});

test('IDX magic numbers tell images from labels', () => {
  assert.equal(idxKind(new Uint8Array([0, 0, 8, 3])), 'images');
  assert.equal(idxKind(new Uint8Array([0, 0, 0x0d, 3])), 'images', 'the engine names unsupported element types');
  assert.equal(idxKind(new Uint8Array([0, 0, 8, 1])), 'labels');
  assert.equal(idxKind(new Uint8Array([1, 2, 3, 4])), null);
});

test('numbers print compactly, and huge ones in scientific notation', () => {
  assert.equal(fmt(5.66e17), '5.66e+17');
  assert.equal(fmt(5.66e14), '566T');
  assert.equal(fmt(1.21e12), '1.21T');
  assert.equal(fmt(5.66e11), '566G');
  assert.equal(fmt(1234), '1.23k');
  assert.equal(fmt(0.000123), '1.23e-4');
  assert.equal(fmt(NaN), '–');
  // A value the engine could not give crosses the wasm boundary as null (JSON has no NaN).
  assert.equal(fixed(0.98765, 4), '0.9877');
  assert.equal(fixed(null, 4), '–');
  assert.equal(fixed(NaN, 1), '–');
  // A whole number in range from an input, else null (the panel says what is allowed).
  const input = (value) => ({ value });
  assert.equal(whole(input('7'), 0, 10), 7);
  for (const bad of ['', ' ', '1.5', '-1', '11', 'x', '1e400']) assert.equal(whole(input(bad), 0, 10), null, bad);
});
