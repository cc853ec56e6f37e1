// Keyboard shortcuts for a lecture: space plays or pauses, → takes one step, r resets,
// f toggles full screen, p presentation mode, ? lists them in a dialog. They act through
// the page's own buttons (a disabled button does nothing) and never while typing.

/** Where a key belongs to what is being typed or chosen, not to the page. */
const TYPING = 'input, select, textarea, [contenteditable]:not([contenteditable="false"])';

/** Full screen on or off (not offered in an iframe without allowfullscreen: then nothing). */
function toggleFullscreen() {
  if (!document.fullscreenEnabled) return;
  const done = document.fullscreenElement ? document.exitFullscreen() : document.documentElement.requestFullscreen?.();
  done?.catch(() => {});
}

/**
 * Listens for the shortcuts. `ctx` gives `running`, `view` and `setView(patch)`;
 * `$` finds an element by its data-testid.
 */
export function mount(ctx, $) {
  const dialog = $('shortcuts-dialog');
  const press = (id) => $(id).click();
  const actions = {
    ' ': () => press(ctx.running ? 'pause' : 'play'),
    ArrowRight: () => press('step'),
    r: () => press('reset'),
    f: toggleFullscreen,
    p: () => ctx.setView({ present: !ctx.view.present }),
    '?': () => dialog.showModal(),
  };
  $('shortcuts').addEventListener('click', () => dialog.showModal());
  $('shortcuts-close').addEventListener('click', () => dialog.close());
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented || dialog.open) return;
    if (e.target instanceof Element && e.target.closest(TYPING)) return;
    const action = actions[e.key.length === 1 ? e.key.toLowerCase() : e.key];
    if (!action) return;
    e.preventDefault(); // space would also press a focused button, or scroll
    action();
  });
}
