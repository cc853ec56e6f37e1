// A panel's "what am I seeing" line: the equation the panel shows, as MathML, following
// the current settings (rebuilt whenever the network is configured or a model loaded).
import { el } from '../dom.js';
import { REPLY } from '../protocol.js';

/**
 * Adds the line under `section`'s help; `build(config, experiment)` returns its HTML
 * (MathML from equations.js, no user text).
 */
export function seeingLine(ctx, section, build) {
  const line = el('p', { class: 'help seeing', 'data-testid': `seeing-${section.dataset.name}` });
  const help = section.querySelector('.help');
  if (help) help.after(line);
  else section.querySelector('header').after(line);
  const show = () => {
    line.innerHTML = `<strong>What am I seeing:</strong> ${build(ctx.state.config, ctx.experiment())}`;
  };
  show();
  for (const type of [REPLY.CONFIGURED, REPLY.MODEL_LOADED]) ctx.on(type, show);
  return line;
}
