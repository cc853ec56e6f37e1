// URL state: every setting, the seed included, lives in the query string, so a URL
// restores an exact experiment (as in TensorFlow Playground). Pure functions of the URL
// and the engine's default/preset configs; no DOM here.

const int = (min, max) => ({ kind: 'int', min, max });
const num = (min, max, { above = false } = {}) => ({ kind: 'number', min, max, above });
const choice = (...choices) => ({ kind: 'choice', choices });

/**
 * The settings, in the order the controls show them. `name` is the engine config field
 * (or a page setting), `key` the URL parameter, `label` what the control says.
 */
export const SETTINGS = [
  { name: 'experiment', label: 'experiment', ...choice('classify', 'compress', 'generate', 'tradeoff') },
  { name: 'rule', label: 'learning rule', ...choice('pc', 'bp', 'bp-through-inference') },
  { name: 'compare', label: 'compare with', page: true, ...choice('off', 'bp', 'accumulate') },
  { name: 'inference', label: 'inference', ...choice('standard', 'strict', 'fixed-prediction', 'exact') },
  { name: 'form', label: 'prediction form', ...choice('post', 'pre') },
  { name: 'hidden', label: 'hidden sizes', kind: 'sizes' },
  { name: 'activation', label: 'activation', ...choice('tanh', 'relu', 'leaky-relu', 'sigmoid', 'gelu', 'identity') },
  { name: 'output_activation', label: 'output activation', ...choice('auto', 'identity', 'sigmoid', 'tanh', 'relu', 'leaky-relu', 'gelu') },
  { name: 'output_energy', label: 'output energy', ...choice('gaussian', 'categorical', 'bernoulli') },
  { name: 'steps', key: 'T', label: 'T (inference steps)', ...int(1, 500) },
  { name: 'inference_lr', label: 'inference rate', ...num(0, 10, { above: true }) },
  { name: 'inference_momentum', label: 'momentum', ...num(0, 0.999) },
  { name: 'accumulate', label: 'accumulate (T+1)', kind: 'bool' },
  { name: 'optimizer', label: 'optimizer', ...choice('adam', 'sgd', 'momentum') },
  { name: 'lr', label: 'learning rate', ...num(0, 10, { above: true }) },
  { name: 'lr_decay', label: 'rate decay / epoch', ...num(0, 1) },
  { name: 'weight_decay', label: 'weight decay', ...num(0, 1) },
  { name: 'batch', label: 'batch', ...int(1, 2048) },
  { name: 'seed', label: 'seed', ...int(0, 2 ** 32 - 1) },
  { name: 'augment', label: 'shift images (px)', ...int(0, 4) },
  { name: 'lambda', label: 'λ (trade-off)', ...num(0, 1) },
  { name: 'latent', label: 'latent size', ...int(1, 784) },
].map((s) => ({ key: s.name, ...s }));

const BY_KEY = new Map(SETTINGS.flatMap((s) => [[s.key, s], [s.name, s]]));

/** Lecture presets: the engine's preset config plus page settings. */
export const PRESETS = {
  classification: { engine: 'classification' },
  compression: { engine: 'compression' },
  generation: { engine: 'generation' },
  tradeoff: { engine: 'tradeoff' },
  gradients: { engine: 'gradients' },
  tplus1: { engine: 'tplus1', page: { compare: 'accumulate' } },
};

/** Whether this engine has setting `s` (page settings always exist). */
export const isActive = (s, config) => Boolean(s.page) || s.name in config;

/** URL parameters that are not settings. */
const PAGE_KEYS = new Set(['preset', 'embed', 'hide', 'bench']);

/** Parses one URL value for setting `s`; returns { value } or { error }. */
export function parseValue(s, raw) {
  const bad = (why) => ({ error: `${s.key}=${raw}: ${why}` });
  const text = String(raw).trim();
  switch (s.kind) {
    case 'choice':
      return s.choices.includes(text) ? { value: text } : bad(`expected one of ${s.choices.join(', ')}`);
    case 'bool':
      if (['1', 'true', 'on'].includes(text)) return { value: true };
      if (['0', 'false', 'off'].includes(text)) return { value: false };
      return bad('expected true or false');
    case 'sizes': {
      if (text === '') return { value: [] };
      const sizes = text.split(',').map((t) => Number(t.trim()));
      const ok = sizes.every((n) => Number.isInteger(n) && n >= 1 && n <= 4096) && sizes.length <= 8;
      return ok ? { value: sizes } : bad('expected up to 8 comma-separated layer sizes, each 1…4096');
    }
    default: {
      const n = text === '' ? NaN : Number(text);
      if (!Number.isFinite(n)) return bad('not a number');
      if (s.kind === 'int' && !Number.isInteger(n)) return bad('expected a whole number');
      if (n < s.min || n > s.max || (s.above && n === s.min)) {
        return bad(`must be ${s.above ? 'above' : 'at least'} ${s.min} and at most ${s.max}`);
      }
      return { value: n };
    }
  }
}

/** A setting's value as URL text. */
export function formatValue(s, value) {
  if (s.kind === 'sizes') return value.join(',');
  if (s.kind === 'bool') return value ? '1' : '0';
  return String(value);
}

/**
 * Reads the page state from a query string.
 * `engine` is { defaultConfig, presetConfig } from the wasm module.
 * Returns { state: { config, page }, view: { embed, hide, preset, bench }, errors: [..] }.
 */
export function readState(search, engine) {
  const params = new URLSearchParams(search);
  const errors = [];
  let config = engine.defaultConfig();
  let page = { compare: 'off' };
  const presetName = params.get('preset');
  let preset = null;
  if (presetName !== null) {
    preset = PRESETS[presetName] ? presetName : null;
    if (!preset) {
      errors.push(`Unknown preset '${presetName}'; known presets: ${Object.keys(PRESETS).join(', ')}.`);
    } else {
      config = presetEngineConfig(PRESETS[preset], engine, config);
      page = { ...page, ...PRESETS[preset].page };
    }
  }
  for (const [key, raw] of params) {
    if (PAGE_KEYS.has(key)) continue;
    const s = BY_KEY.get(key);
    if (!s || !isActive(s, config)) {
      errors.push(`Unknown URL parameter '${key}'.`);
      continue;
    }
    const { value, error } = parseValue(s, raw);
    if (error) errors.push(`Ignored ${error}.`);
    else if (s.page) page[s.name] = value;
    else config[s.name] = value;
  }
  const hide = (params.get('hide') ?? '').split(',').map((h) => BY_KEY.get(h.trim())?.name ?? h.trim()).filter(Boolean);
  const embed = ['1', 'true'].includes(params.get('embed') ?? '');
  const bench = ['1', 'true'].includes(params.get('bench') ?? '');
  return { state: { config, page }, view: { embed, hide, preset, bench }, errors };
}

/** The engine config of a preset; a preset the engine lacks falls back to `fallback`. */
function presetEngineConfig(preset, engine, fallback) {
  try {
    return engine.presetConfig(preset.engine);
  } catch {
    return fallback;
  }
}

/** The query string for a state and view (every setting written out). */
export function writeState({ config, page }, view) {
  const params = new URLSearchParams();
  for (const s of SETTINGS) {
    const value = s.page ? page[s.name] : config[s.name];
    if (value !== undefined) params.set(s.key, formatValue(s, value));
  }
  if (view.embed) params.set('embed', '1');
  if (view.hide.length) params.set('hide', view.hide.join(','));
  if (view.bench) params.set('bench', '1');
  return `?${params}`;
}

/** The engine configs of the runs: one, or two side by side when comparing. */
export function runConfigs({ config, page }) {
  switch (page.compare) {
    case 'bp':
      return [config, { ...config, rule: config.rule === 'bp' ? 'pc' : 'bp' }];
    case 'accumulate':
      return [{ ...config, accumulate: false }, { ...config, accumulate: true }];
    default:
      return [config];
  }
}

/** A short name for each run, for legends. */
export function runNames({ config, page }) {
  return runConfigs({ config, page }).map((c) => {
    const rule = c.rule === 'pc' ? 'PC' : c.rule === 'bp' ? 'BP' : 'BP-thru-inf';
    return page.compare === 'accumulate' ? `${rule} ${c.accumulate ? 'T+1 accumulated' : 'clean'}` : rule;
  });
}
