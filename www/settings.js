// URL state: every setting, the seed included, lives in the query string, so a URL
// restores an exact experiment (as in the TensorFlow Playground). The settings, their
// values and bounds, the presets and the experiments come from the engine's schema
// (configSchema()), and the engine parses every value (configWithSettings): only the
// settings' labels and one-line hints are written here (each value's label, and each
// rule's legend name, come from the engine). No DOM here.

/** What each control says, and its hint, by setting name. */
export const LABELS = {
  experiment: ['experiment', 'What the network learns: classify digits, compress them to a code, generate them from a class, or trade reconstruction against classification.'],
  rule: ['learning rule', 'How the weights learn: PC (local updates from prediction errors), BP (backpropagation), or BP through the unrolled inference.'],
  compare: ['compare with', 'Train a second network beside the first on the same batches: the other learning rule, or the tutorial\'s T+1 accumulated gradient.'],
  inference: ['inference', 'How the beliefs settle: standard gradient descent on the energy, or Torch2PC\'s strict, fixed-prediction and exact variants.'],
  form: ['prediction form', 'post: μ = f(W v + b); pre: μ = W f(v) + b.'],
  hidden: ['hidden sizes', 'Units of each hidden layer, comma-separated, e.g. 128,128.'],
  activation: ['activation', 'The nonlinearity f of every hidden block.'],
  output_activation: ['output activation', 'The last block\'s nonlinearity; auto picks what fits the output energy.'],
  output_energy: ['output energy', 'How the top layer is scored: Gaussian (squared error), categorical (softmax cross-entropy) or Bernoulli.'],
  hidden_energy: ['hidden energy', 'How each hidden layer is scored: Gaussian, or a distribution over its units (categorical/softmax, Bernoulli/sigmoid) whose belief stays a distribution (classify only). Pair a distribution with the identity activation: a block then predicts its natural parameters, which tanh or sigmoid would squash into a narrow range (a softmax over them could hardly pick one unit).'],
  steps: ['T (inference steps)', 'How many steps the beliefs take to settle for each minibatch.'],
  inference_lr: ['inference rate', 'Step size of the beliefs during inference.'],
  inference_momentum: ['inference momentum', 'Momentum of the belief updates (0: none).'],
  accumulate: ['accumulate (T+1)', 'Sum the weight gradient over every inference state, as the PC tutorial\'s code does.'],
  optimizer: ['optimizer', 'How the weights follow their gradient: Adam, plain SGD, or SGD with momentum 0.9.'],
  lr: ['learning rate', 'Step size of the weights.'],
  lr_decay: ['rate decay / epoch', 'The learning rate is multiplied by this after every epoch (1: constant).'],
  weight_decay: ['weight decay', 'L2 penalty on the weights.'],
  batch: ['batch', 'Images per minibatch.'],
  seed: ['seed', 'Fixes the initial weights and the order of the data: the same seed, the same run.'],
  augment: ['shift images (px)', 'Shift each training image randomly by up to this many pixels.'],
  latent: ['latent size', 'Numbers in the inferred code of each image.'],
  lambda: ['λ (trade-off)', 'Weight of classification against reconstruction: 0 only reconstructs, 1 only classifies.'],
};

/** URL parameters that are not settings: how the page shows them (the view). */
const PAGE_KEYS = new Set(['preset', 'embed', 'hide', 'bench', 'present', 'panels', 'controls', 'all', 'lead', 'workers']);

/** Every view (panel name) some experiment of the schema has. */
export const viewNames = (schema) => [...new Set(schema.experiments.flatMap((e) => e.views))];

const ON = ['1', 'true'];
const OFF = ['0', 'false'];

/** Whether URL key `key` is on (1 or true); another value is reported and read as off. */
function flag(params, key, errors) {
  const text = params.get(key);
  if (text === null || ON.includes(text)) return text !== null;
  if (!OFF.includes(text)) errors.push(`Ignored ${key}=${text}: 1 or 0 (true or false).`);
  return false;
}

/** A comma-separated URL list, trimmed, without empty items. */
const list = (text) => (text ?? '').split(',').map((item) => item.trim()).filter(Boolean);

/**
 * How the page shows the state, from the URL: { embed, hide, preset, bench, present,
 * panels, controls, all, lead, workers }. `workers` (null: the page's default) is how many
 * workers training is split over, 1 to the engine's `maxReplicas`. `hide` names controls; `panels` (null: the experiment's
 * own) names panels; `lead` is the panel that leads (a preset's, kept in the URL).
 * Unknown panel names are reported in `errors`.
 */
function readView(params, schema, settings, preset, errors, maxWorkers) {
  const views = viewNames(schema);
  const known = (names, key) => names.filter((name) => {
    if (views.includes(name)) return true;
    errors.push(`Ignored ${key}=${name}: known panels: ${views.join(', ')}.`);
    return false;
  });
  const panels = params.has('panels') ? known(list(params.get('panels')), 'panels') : null;
  const [lead] = params.has('lead') ? known(list(params.get('lead')), 'lead') : [preset?.lead];
  const hide = list(params.get('hide')).filter((h) => {
    if (settings.has(h)) return true;
    errors.push(`Ignored hide=${h}: not a setting's name or URL key.`);
    return false;
  });
  const controls = params.get('controls');
  if (controls !== null && !ON.includes(controls) && !OFF.includes(controls)) errors.push(`Ignored controls=${controls}: 1 or 0 (true or false).`);
  return {
    embed: flag(params, 'embed', errors),
    hide: hide.map((h) => settings.get(h).name),
    preset: preset?.name ?? null,
    bench: flag(params, 'bench', errors),
    present: flag(params, 'present', errors),
    panels,
    controls: !OFF.includes(controls ?? ''),
    all: flag(params, 'all', errors),
    lead: lead ?? null,
    workers: readWorkers(params.get('workers'), maxWorkers, errors),
  };
}

/** `?workers=N`: a whole number from 1 to `max`; anything else is reported and ignored. */
function readWorkers(text, max, errors) {
  if (text === null) return null;
  const n = Number(text);
  if (/^\d+$/.test(text.trim()) && n >= 1 && n <= max) return n;
  errors.push(`Ignored workers=${text}: a whole number from 1 to ${max}.`);
  return null;
}

/** The URL parameters of a view (defaults left out), in a stable order. */
export function viewParams(view) {
  const params = new URLSearchParams();
  const flags = { embed: view.embed, present: view.present, all: view.all, bench: view.bench };
  for (const [key, on] of Object.entries(flags)) if (on) params.set(key, '1');
  if (view.controls === false) params.set('controls', '0');
  if (view.panels) params.set('panels', view.panels.join(','));
  if (view.hide.length) params.set('hide', view.hide.join(','));
  if (view.lead) params.set('lead', view.lead);
  if (view.workers) params.set('workers', String(view.workers));
  return params;
}

/**
 * The settings the controls show, in order: the engine's fields, then the page's
 * comparison. Each: { name, key, kind, choices?, min?, max?, above?, max_len?, page?, label, hint },
 * `choices` as the engine writes them: [{ name (the URL's), label (the control's), short (a legend's) }].
 */
export function settingsOf(schema) {
  const compare = { name: 'compare', key: 'compare', kind: 'choice', choices: schema.compare, page: true };
  return [...schema.fields, compare].map((s) => {
    const [label, hint] = LABELS[s.name] ?? [s.name, ''];
    return { ...s, label, hint };
  });
}

/** The experiment table's row for `config`. */
export const experimentOf = (schema, config) => schema.experiments.find((e) => e.name === config.experiment);

/** Whether setting `s` changes what `config`'s experiment does. */
export const applies = (schema, s, config) => Boolean(s.page) || experimentOf(schema, config).settings.includes(s.name);

/** A setting's value as URL text. */
export function formatValue(s, value) {
  if (s.kind === 'sizes') return value.join(',');
  if (s.kind === 'bool') return value ? '1' : '0';
  return String(value);
}

/** A lookup by URL key and by name that knows nothing of Object.prototype. */
function byKey(settings) {
  return new Map(settings.flatMap((s) => [[s.key, s], [s.name, s]]));
}

/**
 * Reads the page state from a query string.
 * `engine` is { schema, withSettings(config, keys, values), runConfigs(config, compare) }.
 * Returns { state: { config, page }, view (readView), errors: [..] }.
 * Every config it returns is one the engine accepts: a value it refuses is reported and
 * left out, so the page starts in a usable state whatever the URL says.
 */
export function readState(search, engine) {
  const { schema } = engine;
  const params = new URLSearchParams(search);
  const errors = [];
  let config = structuredClone(schema.defaults);
  let page = { compare: 'off' };
  const keys = [...new Set(params.keys())];
  for (const key of keys) {
    const n = params.getAll(key).length;
    if (n > 1) errors.push(`'${key}' is given ${n} times; the first (${params.get(key)}) is used.`);
  }
  const presetName = params.get('preset');
  const preset = presetName === null ? undefined : schema.presets.find((p) => p.name === presetName);
  if (presetName !== null && !preset) {
    errors.push(`Unknown preset '${presetName}'; known presets: ${schema.presets.map((p) => p.name).join(', ')}.`);
  } else if (preset) {
    config = structuredClone(preset.config);
    page = { ...page, compare: preset.compare };
  }
  const settings = byKey(settingsOf(schema));
  // The experiment first: choosing one starts from its own settings, then the rest apply.
  const ordered = [...keys.filter((k) => settings.get(k)?.name === 'experiment'), ...keys.filter((k) => settings.get(k)?.name !== 'experiment')];
  for (const key of ordered) {
    if (PAGE_KEYS.has(key)) continue;
    const raw = params.get(key);
    const s = settings.get(key);
    if (!s) {
      errors.push(`Unknown URL parameter '${key}'.`);
    } else if (s.page) {
      if (s.choices.some((c) => c.name === raw)) page[s.name] = raw;
      else errors.push(`Ignored ${key}=${raw}: expected one of ${s.choices.map((c) => c.name).join(', ')}.`);
    } else {
      try {
        config = engine.withSettings(config, [s.name], [raw]);
      } catch (err) {
        errors.push(`Ignored ${key}=${raw}: ${err.message}.`);
      }
    }
  }
  try {
    engine.runConfigs(config, page.compare);
  } catch (err) {
    errors.push(`Ignored compare=${page.compare}: ${err.message}.`);
    page.compare = 'off';
  }
  const view = readView(params, schema, settings, preset, errors, engine.maxReplicas);
  return { state: { config, page }, view, errors };
}

/** The query string for a state and view (every setting written out). */
export function writeState({ config, page }, view, schema) {
  const params = new URLSearchParams();
  for (const s of settingsOf(schema)) {
    const value = s.page ? page[s.name] : config[s.name];
    if (value !== undefined) params.set(s.key, formatValue(s, value));
  }
  for (const [key, value] of viewParams(view)) params.set(key, value);
  return `?${params}`;
}

/** The engine's legend name of each learning rule, by its stable name. */
export function ruleNames(schema) {
  const rule = schema.fields.find((f) => f.name === 'rule');
  return new Map(rule.choices.map((c) => [c.name, c.short]));
}

/**
 * A name for each run, for legends: its rule's legend name (the engine's); comparing the
 * T+1 accumulated gradient, also which gradient the run takes.
 */
export function runNames(schema, configs, page) {
  const rules = ruleNames(schema);
  return configs.map((c) => {
    const rule = rules.get(c.rule);
    return page.compare === 'accumulate' ? `${rule} ${c.accumulate ? 'T+1 accumulated' : 'clean'}` : rule;
  });
}
