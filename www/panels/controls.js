// Panel 1, Controls: one control per setting of the engine's schema (each kept in the
// URL), lecture presets, save/load of a trained model, and bringing your own IDX data.
// Values are parsed by the engine: a value it refuses is named and the control reverts.
import { settingsOf, formatValue, applies, viewParams } from '../settings.js';
import { REQUEST, REPLY } from '../protocol.js';
import { el, button } from '../dom.js';
import { download } from '../plots.js';
import { readIdxPair } from '../idx.js';

/** The input element for one setting. */
function control(s) {
  const attrs = { 'data-testid': s.name, name: s.name, id: `setting-${s.name}`, title: s.hint };
  if (s.kind === 'choice') return el('select', attrs, s.choices.map((c) => el('option', { value: c.name }, c.label)));
  if (s.kind === 'bool') return el('input', { ...attrs, type: 'checkbox' });
  const bounds = s.kind === 'int' || s.kind === 'number' ? { 'data-min': s.min, 'data-max': s.max } : {};
  return el('input', { ...attrs, ...bounds, type: 'text', inputmode: s.kind === 'sizes' ? 'text' : 'decimal', size: 8 });
}

const readControl = (input) => (input.type === 'checkbox' ? (input.checked ? '1' : '0') : input.value);

/** The value of setting `s` in the state. */
const valueOf = (ctx, s) => (s.page ? ctx.state.page[s.name] : ctx.state.config[s.name]);

/** Whether the engine can train `compare`'s second run beside the current config. */
function comparable(ctx, compare) {
  try {
    ctx.engine.runConfigs(ctx.state.config, compare);
    return true;
  } catch {
    return false;
  }
}

/** Every control shows the state; those that do not apply to the experiment are hidden. */
export function refresh(ctx) {
  for (const s of settingsOf(ctx.schema)) {
    const input = document.getElementById(`setting-${s.name}`);
    if (!input) continue;
    const value = valueOf(ctx, s);
    if (input.type === 'checkbox') input.checked = value;
    else input.value = formatValue(s, value);
    input.closest('label').hidden = !applies(ctx.schema, s, ctx.state.config) || ctx.view.hide.includes(s.name);
  }
  // The comparisons the engine can run for this configuration, and no others.
  for (const option of document.querySelectorAll('#setting-compare option')) {
    option.disabled = !comparable(ctx, option.value);
  }
}

export function mount(ctx) {
  const root = document.getElementById('controls');
  const form = el('form', { class: 'settings', onsubmit: (e) => e.preventDefault() });
  for (const s of settingsOf(ctx.schema)) {
    const input = control(s);
    input.addEventListener('change', () => {
      const refused = ctx.applySetting(s.name, readControl(input));
      if (refused) {
        ctx.showError(`Not applied: ${s.key}=${readControl(input)}: ${refused}.`, { settings: true });
        refresh(ctx);
      }
    });
    form.append(el('label', { class: `setting ${s.kind}`, 'data-name': s.name, for: input.id, title: s.hint }, el('span', {}, s.label), input));
  }

  const preset = el('select', { 'data-testid': 'preset', 'aria-label': 'lecture preset' },
    el('option', { value: '' }, 'lecture preset…'),
    ctx.schema.presets.map((p) => el('option', { value: p.name, selected: p.name === ctx.view.preset, title: p.summary }, p.name)));
  preset.addEventListener('change', () => {
    if (!preset.value) return;
    // The view (presentation, embed, panels, ...) stays; the preset brings its own lead.
    const params = viewParams({ ...ctx.view, lead: null });
    params.set('preset', preset.value);
    location.search = `?${params}`;
  });

  root.append(
    el('h2', {}, 'Controls'),
    el('div', { class: 'presets', 'data-name': 'preset' }, preset),
    form,
    files(ctx),
  );
  refresh(ctx);
}

/** Save/load a model and bring your own data (pick or drop IDX files). */
function files(ctx) {
  const modelInput = el('input', { type: 'file', accept: '.json,application/json', 'data-testid': 'load-model', hidden: true });
  modelInput.addEventListener('change', async () => {
    const file = modelInput.files[0];
    if (file) ctx.send({ type: REQUEST.LOAD, json: await file.text() });
    modelInput.value = '';
  });
  ctx.on(REPLY.SAVED, ({ json }) => download(new Blob([json], { type: 'application/json' }), 'pclab-model.json'));

  const dataInput = el('input', { type: 'file', multiple: true, 'data-testid': 'data-files', 'aria-label': 'IDX files' });
  const sendData = async (fileList) => {
    try {
      const { images, labels } = await readIdxPair([...fileList]);
      ctx.send({ type: REQUEST.SET_DATA, images, labels }, [images.buffer, labels.buffer]);
    } catch (err) {
      ctx.showError(err.message);
    }
  };
  dataInput.addEventListener('change', () => {
    sendData(dataInput.files);
    dataInput.value = '';
  });
  const drop = el('div', { class: 'drop', 'data-testid': 'data-drop' },
    el('p', {}, 'Your own data: drop or pick an IDX image file and its label file (plain or .gz).'),
    dataInput);
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    sendData(e.dataTransfer.files);
  });
  const dataStatus = el('p', { class: 'note', 'data-testid': 'data-status' }, 'data: shipped MNIST (10,000 digits)');
  ctx.on(REPLY.DATA_SET, () => { dataStatus.textContent = 'data: your IDX files'; });
  ctx.on(REPLY.MODEL_LOADED, () => { dataStatus.textContent = 'model loaded from file'; });

  return el('div', { class: 'files', 'data-name': 'files' },
    el('div', { class: 'row' },
      button('save model', () => ctx.send({ type: REQUEST.SAVE }), { 'data-testid': 'save-model' }),
      button('load model…', () => modelInput.click()),
      modelInput),
    drop,
    dataStatus);
}
