// Small DOM helpers shared by the panels.

/** Creates an element: el('button', { class: 'x', 'data-testid': 'play' }, 'Play'). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}

/**
 * A panel: a titled section in #panels with a tool bar and a body.
 * Returns { section, tools, body }.
 */
export function panel({ name, title, help }) {
  const tools = el('div', { class: 'tools' });
  const body = el('div', { class: 'body' });
  const section = el('section', { class: 'panel', id: `panel-${name}`, 'data-name': name },
    el('header', {}, el('h2', {}, title), tools),
    help ? el('p', { class: 'help' }, help) : null,
    body);
  document.getElementById('panels').append(section);
  return { section, tools, body };
}

/** A small button in a tool bar. */
export const button = (label, onclick, attrs = {}) => el('button', { type: 'button', onclick, ...attrs }, label);

/** A labelled number/text input. */
export function field(label, attrs) {
  const input = el('input', attrs);
  return { input, node: el('label', { class: 'field' }, el('span', {}, label), input) };
}

/** Formats a number compactly (3 significant digits; k/M/G suffixes for large). */
export function fmt(x, digits = 3) {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  const a = Math.abs(x);
  if (a >= 1e15) return x.toExponential(digits - 1); // past T: 5.66e+17, never 5.66e+5T
  for (const [unit, scale] of [['T', 1e12], ['G', 1e9], ['M', 1e6], ['k', 1e3]]) {
    if (a >= scale) return `${(x / scale).toPrecision(digits)}${unit}`;
  }
  return a !== 0 && a < 1e-3 ? x.toExponential(digits - 1) : String(Number(x.toPrecision(digits)));
}

/** The whole number in `input` if it lies in [min, max], else null (the caller says what is allowed). */
export function whole(input, min, max) {
  const n = Number(input.value);
  return input.value.trim() !== '' && Number.isInteger(n) && n >= min && n <= max ? n : null;
}

/** `x` with `digits` decimals; '–' for a value the engine could not give (NaN crosses as null). */
export const fixed = (x, digits) => (Number.isFinite(x) ? x.toFixed(digits) : '–');

/**
 * Links the stylesheet at `url` (a panel's own CSS, next to its module) once per page.
 * CSP allows styles from 'self'.
 */
export function stylesheet(url) {
  const href = String(url);
  if (document.querySelector(`link[rel=stylesheet][href="${CSS.escape(href)}"]`)) return;
  document.head.append(el('link', { rel: 'stylesheet', href }));
}

/**
 * A run's label: a colour swatch and its name (the colour set through the CSSOM, which
 * the Content-Security-Policy allows, unlike a style attribute).
 */
export function runLabel(name, color) {
  const mark = el('span', { class: 'swatch', 'aria-hidden': 'true' });
  mark.style.setProperty('--run', color);
  return el('span', { class: 'run-label' }, mark, el('strong', {}, name));
}
