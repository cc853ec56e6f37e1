// Panel 0, Introduction: what predictive coding is in a few plain sentences, the
// equations of the current settings, and a diagram of the current network (its layers
// with their sizes, what each end holds, predictions one way and errors the other),
// redrawn whenever the network is configured or a model loaded.
import { panel, el, stylesheet } from '../dom.js';
import { REPLY } from '../protocol.js';
import * as equations from '../equations.js';

const SVG = 'http://www.w3.org/2000/svg';
const BOX = 104; // box width
const GAP = 84; // space for the arrows between boxes
const HEIGHT = 270;
const MARGIN = 70; // room for the ends' notes
const MID = 120; // the boxes' vertical centre
const ROLE_WORDS = { image: 'image', label: 'label', latent: 'latent', hidden: 'hidden' };
const ROLE_FILL = { image: '#e8f1fb', label: '#fdf0e1', latent: '#eaf6ef', hidden: '#f3f4f7' };

/** An SVG element with attributes and children. */
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  node.append(...children);
  return node;
}

/** What an end holds, and when it is clamped. */
function endNote(role) {
  if (role === 'image') return 'clamped to the data';
  if (role === 'label') return 'clamped while learning';
  if (role === 'latent') return 'free: inferred';
  return '';
}

/** The box height for a layer of `size` units: grows with log size. */
const boxHeight = (size) => Math.min(190, 50 + 14 * Math.log2(Math.max(2, size)));

/**
 * The diagram of `layers` ([{ size, role }], layer 0 first) as an SVG element: predictions
 * flow from layer l−1 to layer l (above), errors back (below).
 */
export function diagram(layers) {
  const width = layers.length * BOX + (layers.length - 1) * GAP + 2 * MARGIN;
  const x = (l) => MARGIN + l * (BOX + GAP);
  const root = svg('svg', { viewBox: `0 0 ${width} ${HEIGHT}`, role: 'img', class: 'intro-diagram', 'data-testid': 'intro-diagram',
    'aria-label': `network: ${layers.map((d, l) => `layer ${l}, ${d.role}, ${d.size} units`).join('; ')}` });
  root.append(svg('defs', {},
    svg('marker', { id: 'arrow-prediction', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
      svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#0072B2' })),
    svg('marker', { id: 'arrow-error', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
      svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#D55E00' }))));
  layers.forEach((d, l) => {
    const h = boxHeight(d.size);
    const top = MID - h / 2;
    const end = l === 0 || l === layers.length - 1;
    const g = svg('g', { 'data-layer': l, 'data-size': d.size, 'data-role': d.role },
      svg('rect', { x: x(l), y: top, width: BOX, height: h, rx: 6, fill: ROLE_FILL[d.role], stroke: '#5b6475', 'stroke-width': 1.5 }),
      text(x(l) + BOX / 2, MID - 12, `layer ${l}`, { 'font-weight': 700 }),
      text(x(l) + BOX / 2, MID + 8, `${d.size} units`),
      text(x(l) + BOX / 2, MID + 27, ROLE_WORDS[d.role], { fill: '#5b6475' }));
    if (end) g.append(text(x(l) + BOX / 2, MID + 114, endNote(d.role), { 'font-size': 13, fill: '#5b6475' }));
    root.append(g);
    if (l > 0) {
      const a = x(l - 1) + BOX + 4;
      const b = x(l) - 4;
      root.append(
        svg('line', { x1: a, y1: MID - 28, x2: b, y2: MID - 28, stroke: '#0072B2', 'stroke-width': 3, 'marker-end': 'url(#arrow-prediction)' }),
        text((a + b) / 2, MID - 36, `μ${sub(l)}`, { fill: '#0072B2', 'font-weight': 700 }),
        svg('line', { x1: b, y1: MID + 28, x2: a, y2: MID + 28, stroke: '#D55E00', 'stroke-width': 3, 'stroke-dasharray': '7 4', 'marker-end': 'url(#arrow-error)' }),
        text((a + b) / 2, MID + 48, `ε${sub(l)}`, { fill: '#D55E00', 'font-weight': 700 }));
    }
  });
  root.append(
    text(width / 2, 22, 'predictions μ flow this way →  (block l predicts layer l from layer l−1)', { fill: '#0072B2', 'font-size': 15 }),
    text(width / 2, HEIGHT - 8, '←  prediction errors ε flow back this way (they move the beliefs below)', { fill: '#D55E00', 'font-size': 15 }));
  return root;
}

/** A centred SVG text. */
function text(x, y, content, attrs = {}) {
  return svg('text', { x, y, 'text-anchor': 'middle', 'font-size': 16, fill: '#1d2330', ...attrs }, content);
}

/** A layer index as a subscript. */
const sub = (l) => String(l).replace(/\d/g, (d) => '₀₁₂₃₄₅₆₇₈₉'[d]);

/** The few plain sentences of the introduction. */
function sentences() {
  return [
    el('p', {}, el('strong', {}, 'Predictive coding'), ' is a way for a network to learn from local signals only. '
      + 'Every layer l holds a ', el('strong', {}, 'belief'), ' v', el('sub', {}, 'l'), ': its current guess, a vector of numbers. '
      + 'Each layer is ', el('strong', {}, 'predicted'), ' from the layer below it: μ', el('sub', {}, 'l'), ' comes from v', el('sub', {}, 'l−1'),
    ' through the weights W', el('sub', {}, 'l'), '.'),
    el('p', {}, 'The ', el('strong', {}, 'prediction error'), ' ε', el('sub', {}, 'l'), ' = v', el('sub', {}, 'l'), ' − μ', el('sub', {}, 'l'),
      ' says how far a belief is from its prediction. The ', el('strong', {}, 'energy'), ' F adds up every layer\'s error: '
      + 'low energy means every layer is well predicted.'),
    el('p', {}, el('strong', {}, 'Inference'), ': with the data clamped (an image, and in training its label), the free beliefs move downhill on F for T steps, '
      + 'until predictions and beliefs agree as well as they can. ', el('strong', {}, 'Learning'), ': then each W',
    el('sub', {}, 'l'), ' changes using only its own layer\'s error and its input: no backward pass through the network.'),
  ];
}

export function mount(ctx) {
  stylesheet(new URL('./intro.css', import.meta.url));
  const { section, body } = panel({ name: 'intro', title: 'What is predictive coding?', help: null });
  section.classList.add('intro');
  const summary = el('p', { class: 'intro-summary', 'data-testid': 'intro-summary' });
  const figure = el('figure', { class: 'intro-figure' });
  const eqs = el('dl', { class: 'intro-equations', 'data-testid': 'intro-equations' });
  body.append(el('div', { class: 'intro-text' }, sentences()), summary, figure, eqs);

  let sizes = null; // the engine's own sizes (custom data may differ from MNIST's)
  const show = () => {
    const config = ctx.state.config;
    const experiment = ctx.experiment();
    const layers = equations.layers(config, experiment);
    if (sizes?.length === layers.length) sizes.forEach((n, l) => { layers[l].size = n; });
    figure.replaceChildren(diagram(layers), el('figcaption', {},
      `The current network (${layers.map((d) => d.size).join('–')}): layer 0 is the bottom, layer ${layers.length - 1} the top.`));
    summary.textContent = `This experiment (${experiment.name}): ${experiment.summary}.`;
    const energy = equations.energy(config);
    const inference = equations.inference(config);
    const learning = equations.learning(config);
    eqs.replaceChildren(
      ...entry('energy', energy, 'data-testid', 'intro-energy'),
      ...entry('inference', inference, 'data-testid', 'intro-inference'),
      ...entry('learning', learning, 'data-testid', 'intro-learning'));
  };
  const configured = () => {
    sizes = null;
    show();
  };
  show();
  ctx.on(REPLY.CONFIGURED, configured);
  ctx.on(REPLY.MODEL_LOADED, configured);
  ctx.on(REPLY.VISUALS, ({ runs }) => {
    const next = runs[0]?.replay?.sizes;
    if (next && next.join() !== sizes?.join()) {
      sizes = next;
      show();
    }
  });
}

/** A term and its equations (MathML) with what they say in words. */
function entry(term, eq, key, testid) {
  const dd = el('dd', { [key]: testid });
  dd.innerHTML = `${equations.html(eq)} <span class="intro-words">${eq.words.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</span>`;
  return [el('dt', {}, term), dd];
}
