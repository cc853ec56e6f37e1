// How the page is shown, for a desk, a room, a slide or a phone: which panels and in
// which order (the key figure first, the rest folded unless "all panels"), presentation
// mode, embed mode, the controls column, and copying the page's link. The URL keys are
// settings.js's (readState/writeState); this module only applies them to the DOM.
import { viewNames } from './settings.js';

/** Folds the user opened or closed by hand, by panel name (cleared by "all panels"). */
const folds = new Map();

/**
 * The panels to show for the experiment row `experiment` under `view`, the key figure
 * first: the view that leads (a preset's) or the experiment's first, then the engine's order.
 */
export function panelOrder(experiment, view) {
  const { views } = experiment;
  const lead = views.includes(view.lead) ? view.lead : views[0];
  const ordered = [lead, ...views.filter((v) => v !== lead)];
  return view.panels ? ordered.filter((v) => view.panels.includes(v)) : ordered;
}

/** Opens or folds a panel: only its header stays when folded. */
function fold(section, folded) {
  section.classList.toggle('folded', folded);
  section.querySelector('.fold')?.setAttribute('aria-expanded', String(!folded));
}

/** Makes each panel's title a disclosure button (the ARIA accordion pattern). */
export function mountFolds(ctx) {
  for (const section of document.querySelectorAll('#panels > .panel')) {
    const title = section.querySelector(':scope > header > h2');
    if (!title || title.querySelector('.fold')) continue;
    const toggle = document.createElement('button');
    toggle.type = 'button';
    toggle.className = 'fold';
    toggle.setAttribute('aria-expanded', 'true');
    toggle.append(...title.childNodes);
    toggle.addEventListener('click', () => {
      folds.set(section.dataset.name, !section.classList.contains('folded'));
      showPanels(ctx);
    });
    title.append(toggle);
  }
}

/** The introduction's panel: every experiment has it, after the key figure. */
const INTRO = 'intro';

/**
 * Shows only the current experiment's panels (or those `panels=` chose), the key figure
 * first and across the width, then the introduction; the others follow folded unless
 * "all panels" is on or the URL chose them.
 */
export function showPanels(ctx) {
  const shown = panelOrder(ctx.experiment(), ctx.view);
  const views = viewNames(ctx.schema);
  const open = ctx.view.all || Boolean(ctx.view.panels);
  for (const section of document.querySelectorAll('#panels > .panel')) {
    const { name } = section.dataset;
    if (name === INTRO) {
      // The introduction follows the key figure, open: what the figure shows, explained.
      section.hidden = Boolean(ctx.view.panels) && !ctx.view.panels.includes(INTRO);
      section.style.order = '1';
      fold(section, folds.get(name) ?? false);
      continue;
    }
    if (!views.includes(name)) continue;
    const at = shown.indexOf(name);
    section.hidden = at < 0;
    section.style.order = String(at === 0 ? 0 : at + 1);
    section.classList.toggle('key', at === 0);
    fold(section, folds.get(name) ?? (at > 0 && !open));
  }
}

/** Whether the page is in presentation mode or follows a dark colour scheme. */
const isDark = (view) => view.present || matchMedia('(prefers-color-scheme: dark)').matches;

/**
 * Applies the view's modes: classes on <body> (embed, no-controls) and on <html>
 * (present, dark: they set the type size and colours of the whole page), the
 * controls `hide=` names, and the state of the view tools. Charts are told when the
 * theme changes (a `pclab:theme` event) so they redraw in its colours and sizes.
 */
export function applyView(view) {
  const { body, documentElement: root } = document;
  const wasDark = root.classList.contains('dark');
  const wasPresent = root.classList.contains('present');
  body.classList.toggle('embed', view.embed);
  body.classList.toggle('no-controls', !view.controls);
  root.classList.toggle('present', view.present);
  root.classList.toggle('dark', isDark(view));
  for (const name of view.hide) {
    for (const node of document.querySelectorAll(`#controls [data-name="${CSS.escape(name)}"]`)) node.hidden = true;
  }
  const present = document.querySelector('[data-testid="present"]');
  present.setAttribute('aria-pressed', String(view.present));
  document.querySelector('[data-testid="all-panels"]').checked = view.all;
  if (wasDark !== isDark(view) || wasPresent !== view.present) window.dispatchEvent(new Event('pclab:theme'));
}

/** Says `text` in the view tools' live status line. */
function say(text) {
  document.querySelector('[data-testid="copy-status"]').textContent = text;
}

/**
 * Copies the page's link (the URL holds the whole state): through the clipboard, or,
 * where that is refused (an iframe without clipboard rights), in a selected read-only field.
 */
export async function copyLink() {
  const url = location.href;
  const policy = document.permissionsPolicy ?? document.featurePolicy;
  try {
    // Not even asked where the host page withholds it (the browser would log a violation).
    if (!navigator.clipboard || policy?.allowsFeature('clipboard-write') === false) throw new Error('no clipboard');
    await navigator.clipboard.writeText(url);
    say('link copied');
  } catch {
    const input = document.querySelector('[data-testid="link-field"]');
    input.value = url;
    input.closest('label').hidden = false;
    input.focus();
    input.select();
    say('copy the selected link (Ctrl+C or ⌘C)');
  }
}

/**
 * Wires the view tools: presentation mode, "all panels", copy link. `ctx.setView(patch)`
 * changes the view (URL and DOM follow).
 */
export function mountTools(ctx) {
  const setView = (patch) => ctx.setView(patch);
  const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
  $('present').addEventListener('click', () => setView({ present: !ctx.view.present }));
  $('all-panels').addEventListener('change', (e) => {
    folds.clear();
    setView({ all: e.target.checked });
  });
  $('copy-link').addEventListener('click', copyLink);
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => applyView(ctx.view));
}
