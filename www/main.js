// Page wiring: loads the wasm engine and shows its version.
import init, { version } from './pkg/pclab.js';

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);

function showError(message) {
  const el = $('error');
  el.textContent = message;
  el.hidden = false;
}

try {
  await init();
  $('version').textContent = version();
  $('status').textContent = 'ready';
} catch (err) {
  showError(`The engine could not be loaded: ${err.message ?? err}`);
}
