// Panel 1, Controls: one control per setting (each kept in the URL), lecture presets,
// save/load of a trained model, and bringing your own IDX data.
import { SETTINGS, PRESETS, parseValue, formatValue, isActive } from '../settings.js';
import { el, button } from '../dom.js';
import { download } from '../plots.js';
import { readIdxPair } from '../idx.js';

/** The input element for one setting. */
function control(s, value) {
  const attrs = { 'data-testid': s.name, name: s.name, id: `setting-${s.name}` };
  if (s.kind === 'choice') {
    return el('select', attrs, s.choices.map((c) => el('option', { value: c, selected: c === value }, c)));
  }
  if (s.kind === 'bool') return el('input', { ...attrs, type: 'checkbox', checked: value });
  return el('input', { ...attrs, type: 'text', inputmode: s.kind === 'sizes' ? 'text' : 'decimal', value: formatValue(s, value), size: 8 });
}

const readControl = (input) => (input.type === 'checkbox' ? (input.checked ? '1' : '0') : input.value);

export function mount(ctx) {
  const root = document.getElementById('controls');
  const form = el('form', { class: 'settings', onsubmit: (e) => e.preventDefault() });
  for (const s of SETTINGS.filter((x) => isActive(x, ctx.state.config))) {
    const value = s.page ? ctx.state.page[s.name] : ctx.state.config[s.name];
    const input = control(s, value);
    input.addEventListener('change', () => {
      const { value: parsed, error } = parseValue(s, readControl(input));
      if (error) {
        ctx.showError(`Not applied: ${error}.`);
        const current = s.page ? ctx.state.page[s.name] : ctx.state.config[s.name];
        if (input.type === 'checkbox') input.checked = current;
        else input.value = formatValue(s, current);
        return;
      }
      const { config, page } = ctx.state;
      ctx.setState(s.page ? { config, page: { ...page, [s.name]: parsed } } : { config: { ...config, [s.name]: parsed }, page });
    });
    form.append(el('label', { class: `setting ${s.kind}`, 'data-name': s.name, for: input.id }, el('span', {}, s.label), input));
  }

  const preset = el('select', { 'data-testid': 'preset', 'aria-label': 'lecture preset' },
    el('option', { value: '' }, 'lecture preset…'),
    Object.keys(PRESETS).map((p) => el('option', { value: p, selected: p === ctx.view.preset }, p)));
  preset.addEventListener('change', () => {
    if (!preset.value) return;
    const params = new URLSearchParams({ preset: preset.value });
    if (ctx.view.embed) params.set('embed', '1');
    if (ctx.view.hide.length) params.set('hide', ctx.view.hide.join(','));
    location.search = `?${params}`;
  });

  root.append(
    el('h2', {}, 'Controls'),
    el('div', { class: 'presets', 'data-name': 'preset' }, preset),
    form,
    files(ctx),
  );
}

/** Save/load a model and bring your own data (pick or drop IDX files). */
function files(ctx) {
  const modelInput = el('input', { type: 'file', accept: '.json,application/json', 'data-testid': 'load-model', hidden: true });
  modelInput.addEventListener('change', async () => {
    const file = modelInput.files[0];
    if (file) ctx.send({ type: 'load', json: await file.text() });
    modelInput.value = '';
  });
  ctx.on('saved', ({ json }) => download(new Blob([json], { type: 'application/json' }), 'pclab-model.json'));

  const dataInput = el('input', { type: 'file', multiple: true, 'data-testid': 'data-files', 'aria-label': 'IDX files' });
  const sendData = async (fileList) => {
    try {
      const { images, labels } = await readIdxPair([...fileList]);
      ctx.send({ type: 'setData', images, labels }, [images.buffer, labels.buffer]);
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
  ctx.on('data-set', () => { dataStatus.textContent = 'data: your IDX files'; });
  ctx.on('model-loaded', () => { dataStatus.textContent = 'model loaded from file'; });

  return el('div', { class: 'files', 'data-name': 'files' },
    el('div', { class: 'row' },
      button('save model', () => ctx.send({ type: 'save' }), { 'data-testid': 'save-model' }),
      button('load model…', () => modelInput.click()),
      modelInput),
    drop,
    dataStatus);
}
