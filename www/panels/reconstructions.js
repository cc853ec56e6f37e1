// Panel 4, Reconstructions: test digits (top row) beside each run's reconstructions.
import { panel, el, stylesheet } from '../dom.js';
import { drawDigits, pngButton } from '../plots.js';
import { REPLY } from '../protocol.js';
import * as equations from '../equations.js';
import { seeingLine } from './seeing.js';

export function mount(ctx) {
  stylesheet(new URL('./inference.css', import.meta.url)); // the equations' styles
  const { section, tools, body } = panel({ name: 'reconstructions', title: 'Reconstructions', help: 'Top row: test digits. Below: what each network predicts back from its latent beliefs.' });
  seeingLine(ctx, section, (config, experiment) => {
    const r = equations.reconstruction(config, experiment);
    return `each reconstruction ${equations.html(r)} (${r.words}).`;
  });
  const canvas = el('canvas', { 'data-testid': 'recon-grid', class: 'digits' });
  const note = el('p', { class: 'note' }, 'Train a step to see reconstructions.');
  body.append(canvas, note);
  tools.append(pngButton(() => canvas, 'pclab-reconstructions.png'));

  ctx.on(REPLY.VISUALS, ({ runs }) => {
    const withRecon = runs.map((r, i) => [r.recon, ctx.names()[i]]).filter(([r]) => r);
    if (!withRecon.length) return;
    const n = withRecon[0][0].length / 784 / 2;
    const rows = new Float32Array((withRecon.length + 1) * n * 784);
    rows.set(withRecon[0][0].subarray(0, n * 784));
    withRecon.forEach(([r], i) => rows.set(r.subarray(n * 784), (i + 1) * n * 784));
    drawDigits(canvas, rows, { cols: n });
    note.textContent = `rows: test digits, then ${withRecon.map(([, name]) => name).join(', ')}`;
  });
}
