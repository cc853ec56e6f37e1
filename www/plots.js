// Plotting: streaming line charts (uPlot), digit grids and heat maps on canvases, and
// exports (PNG through canvas.toBlob, CSV) as download links.
import uPlot from './vendor/uPlot.esm.js';
import { fmt, el } from './dom.js';

/**
 * The Okabe–Ito palette (Okabe & Ito 2008): eight colours told apart with every common
 * colour-vision deficiency. Every series colour on the page comes from here.
 */
export const OKABE_ITO = Object.freeze({
  blue: '#0072B2',
  vermillion: '#D55E00',
  green: '#009E73',
  purple: '#CC79A7',
  orange: '#E69F00',
  sky: '#56B4E9',
  black: '#000000',
  yellow: '#F0E442',
});

/**
 * The theme's ink (its text colour: near-black on light, near-white on dark and in
 * presentation mode), for a series that is a total or a reference. A name, resolved when
 * a chart is drawn, since the theme can change.
 */
export const INK = 'ink';

/** Run colours: run 0 blue, run 1 vermillion; layer colours for per-layer series. */
export const RUN_COLORS = [OKABE_ITO.blue, OKABE_ITO.vermillion];
export const LAYER_COLORS = [OKABE_ITO.green, OKABE_ITO.orange, OKABE_ITO.sky, OKABE_ITO.purple,
  OKABE_ITO.vermillion, OKABE_ITO.blue, OKABE_ITO.yellow, '#777777'];

/** A theme value: a CSS variable on <body> (style.css), or `fallback`. */
const themed = (name, fallback) => getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;

/** Axis colours and type in the theme's colours and sizes (light, dark, presentation). */
function axisTheme() {
  const font = `${themed('--axis-size', '12px')} system-ui, sans-serif`;
  const grid = { stroke: themed('--grid', '#0000001a'), width: 1 };
  return { stroke: themed('--fg', '#1d2330'), font, labelFont: font, grid, ticks: grid };
}

/** uPlot options for lineChart, in the current theme. */
function chartOptions(el, series, { x, y, logY, height, scatter, markX, xRange, yRange, xIntegers, bars }) {
  const axis = axisTheme();
  const size = parseFloat(themed('--axis-size', '12px'));
  return {
    // markX() → an x value: a vertical line marks it (e.g. the current inference step).
    // bars() → error bars to draw over the points (drawErrorBars).
    hooks: { draw: [...(markX ? [(u) => markLine(u, markX())] : []), ...(bars ? [(u) => drawErrorBars(u, bars())] : [])] },
    width: Math.max(200, el.clientWidth || 400),
    height,
    // A dashed series shows a dashed swatch in the legend.
    legend: { live: false, markers: { width: 3, dash: (u, i) => (u.series[i].dash ? 'dashed' : 'solid') } },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false, ...(xRange ? { range: xRange } : {}) }, y: logY ? { distr: 3 } : yRange ? { range: yRange } : {} },
    // xIntegers: ticks only at whole x (steps t).
    axes: [
      // space: the least distance between x ticks, wide enough for a label like 0.0715.
      { ...axis, label: x, size: 3.4 * size, space: 6 * size, values: ticks, ...(xIntegers ? { incrs: [1, 2, 5, 10, 20, 50, 100] } : {}) },
      { ...axis, label: y, size: 5 * size, ...(logY ? logAxis(size, height) : { values: ticks }) },
    ],
    series: [{ label: x }, ...series.map((s) => ({ ...s, color: s.color === INK ? axis.stroke : s.color })).map((s) => ({
      label: s.label,
      stroke: s.color,
      width: 2,
      dash: s.dash,
      spanGaps: true,
      paths: scatter ? () => null : undefined,
      points: { show: scatter || s.points === true, size: scatter ? 8 : 5, fill: s.color },
    }))],
  };
}

/**
 * How tall a chart `width` wide is drawn: `height` (scaled by the theme), or taller when
 * the chart is wide, up to CHART_ASPECT of its width and CHART_SCREEN of the window's
 * height: a chart across a projector's width is not a strip.
 */
export function chartHeight(height, width, screen = window.innerHeight) {
  const base = height * Number(themed('--chart-scale', '1'));
  return Math.round(Math.max(base, Math.min(CHART_ASPECT * width, CHART_SCREEN * screen)));
}
export const CHART_ASPECT = 0.4;
export const CHART_SCREEN = 0.45;

/**
 * A uPlot line chart that fills `el`'s width; rebuilt in the new theme on `pclab:theme`.
 * series: [{ label, color, dash?, points? }]; opts: { x, y, logY, height, scatter, markX,
 * xRange, yRange: [lo, hi] fixed, xIntegers, bars: () => error bars (drawErrorBars) }.
 */
export function lineChart(el, series, { x = 'step', y = '', logY = false, height = 220, scatter = false, markX = null, xRange = null, yRange = null, xIntegers = false, bars = null } = {}) {
  const tall = () => chartHeight(height, el.clientWidth);
  const make = (data) => new uPlot(chartOptions(el, series, { x, y, logY, height: tall(), scatter, markX, xRange, yRange, xIntegers, bars }), data, el);
  let plot = make([[], ...series.map(() => [])]);
  const rebuild = () => {
    const { data } = plot;
    plot.destroy();
    plot = make(data);
  };
  window.addEventListener('pclab:theme', rebuild);
  const resize = new ResizeObserver(() => {
    const width = el.clientWidth;
    if (width > 0 && (Math.abs(width - plot.width) > 4 || tall() !== plot.height)) plot.setSize({ width, height: tall() });
  });
  resize.observe(el);
  return {
    get plot() { return plot; },
    get canvas() { return plot.ctx.canvas; },
    /** columns: [xs, ys1, ys2, ..] (uPlot's aligned data). */
    setData: (columns) => plot.setData(columns),
    destroy() {
      window.removeEventListener('pclab:theme', rebuild);
      resize.disconnect();
      plot.destroy();
    },
  };
}

/** Draws a vertical line at x = `at` over the plot area of uPlot `u`. */
function markLine(u, at) {
  if (at === null || at === undefined) return;
  const x = Math.round(u.valToPos(at, 'x', true));
  const { top, height } = u.bbox;
  const g = u.ctx;
  g.save();
  g.strokeStyle = themed('--fg', '#1d2330');
  g.lineWidth = 2 * devicePixelRatio;
  g.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
  g.beginPath();
  g.moveTo(x, top);
  g.lineTo(x, top + height);
  g.stroke();
  g.restore();
}

/**
 * Draws error bars over uPlot `u`: for each { x, xsd, y, ysd, color, label, below }, a
 * horizontal bar x ± xsd and a vertical bar y ± ysd with end caps (a NaN sd draws none),
 * and the label beside the point (above right, or below left when `below`, so that two
 * series' labels of nearby points do not overprint). What was drawn, in data units, is kept on the chart's root as
 * data-bars ([{ label, x: [lo, hi], y: [lo, hi] }]) for tests and screen readers.
 */
function drawErrorBars(u, bars) {
  const g = u.ctx;
  const r = devicePixelRatio;
  const cap = 4 * r;
  const drawn = [];
  g.save();
  g.lineWidth = 1.5 * r;
  g.font = `${Math.round(parseFloat(themed('--axis-size', '12px')) * r)}px system-ui, sans-serif`;
  for (const b of bars) {
    const px = u.valToPos(b.x, 'x', true);
    const py = u.valToPos(b.y, 'y', true);
    g.strokeStyle = g.fillStyle = b.color;
    g.beginPath();
    const entry = { label: b.label, rule: b.rule, lambda: b.lambda, x: null, y: null };
    if (Number.isFinite(b.xsd)) {
      const [x0, x1] = [b.x - b.xsd, b.x + b.xsd];
      const [p0, p1] = [u.valToPos(x0, 'x', true), u.valToPos(x1, 'x', true)];
      g.moveTo(p0, py); g.lineTo(p1, py);
      g.moveTo(p0, py - cap); g.lineTo(p0, py + cap);
      g.moveTo(p1, py - cap); g.lineTo(p1, py + cap);
      entry.x = [x0, x1];
    }
    if (Number.isFinite(b.ysd)) {
      const [y0, y1] = [b.y - b.ysd, b.y + b.ysd];
      const [p0, p1] = [u.valToPos(y0, 'y', true), u.valToPos(y1, 'y', true)];
      g.moveTo(px, p0); g.lineTo(px, p1);
      g.moveTo(px - cap, p0); g.lineTo(px + cap, p0);
      g.moveTo(px - cap, p1); g.lineTo(px + cap, p1);
      entry.y = [y0, y1];
    }
    g.stroke();
    if (b.label) {
      // Kept inside the plot area, off the axes' numbers.
      const w = g.measureText(b.label).width;
      const at = b.below ? px - 6 * r - w : px + 6 * r;
      const { left, width } = u.bbox;
      g.textAlign = 'left';
      g.textBaseline = b.below ? 'top' : 'alphabetic';
      g.fillText(b.label, Math.min(Math.max(at, left), left + width - w), py + (b.below ? 6 : -6) * r);
    }
    drawn.push(entry);
  }
  g.restore();
  u.root.dataset.bars = JSON.stringify(drawn);
}

/** Axis tick labels: compact numbers (1.2k, 3.4M). */
const ticks = (u, splits) => splits.map((v) => (v === null ? '' : fmt(v)));

/** Mantissas per decade, finest first, then every k-th power of ten. */
const LOG_MANTISSAS = [[1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 5], [1, 3], [1]];
const DECADE_STEPS = [2, 3, 5, 10, 20, 50, 100];

/**
 * Ticks of a log axis from `min` to `max` drawn over `pixels` CSS pixels, no two closer
 * than `gap` pixels: the finest of 1–9, 1-2-5, 1-3 or 1 per decade, then every 2nd, 3rd,
 * 5th, … power of ten, then the first and last power of ten, that keeps the gap; a range
 * too narrow for two such ticks gets evenly spaced round values.
 */
export function logTicks(min, max, pixels, gap) {
  if (!(min > 0) || !(max > min) || !(pixels > 0)) return [];
  const [a, b] = [Math.log10(min), Math.log10(max)];
  const px = (v) => ((Math.log10(v) - a) / (b - a)) * pixels;
  const spaced = (vs) => vs.every((v, i) => i === 0 || px(v) - px(vs[i - 1]) >= gap);
  const inRange = (v) => v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9);
  const decades = [];
  for (let k = Math.floor(a); k <= Math.ceil(b); k++) decades.push(k);
  const round = (v) => Number(v.toPrecision(12));
  for (const ms of LOG_MANTISSAS) {
    const vs = decades.flatMap((k) => ms.map((m) => round(m * 10 ** k))).filter(inRange);
    if (vs.length >= 2 && spaced(vs)) return vs;
  }
  for (const step of DECADE_STEPS) {
    const vs = decades.filter((k) => k % step === 0).map((k) => round(10 ** k)).filter(inRange);
    if (vs.length >= 2 && spaced(vs)) return vs;
  }
  const powers = decades.map((k) => round(10 ** k)).filter(inRange);
  const ends = [powers[0], powers[powers.length - 1]];
  if (powers.length >= 2 && spaced(ends)) return ends;
  // Narrower than two 1–9 ticks: three round values, evenly spaced.
  const raw = (max - min) / 3;
  const unit = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * unit).find((s) => s >= raw) ?? raw;
  const vs = [];
  for (let v = Math.ceil(min / step) * step; v <= max; v += step) vs.push(round(v));
  return vs;
}

/**
 * uPlot axis options for a log y axis: ticks from logTicks at least two label heights
 * apart (so labels never overlap at any chart size), labelled with one significant digit
 * where that is exact (1k, 20, 0.005, 1e-5).
 */
function logAxis(size, height) {
  return {
    splits: (u, axis, min, max) => {
      const pixels = u.bbox?.height > 0 ? u.bbox.height / uPlot.pxRatio : height * 0.7;
      return logTicks(min, max, pixels, 2 * size);
    },
    // Every tick gets its label: logTicks has spaced them (uPlot's own log filter would
    // drop all but the first and last of widely spaced decades).
    filter: (u, splits) => splits,
    values: (u, splits) => splits.map((v) => (v === null ? '' : fmt(v, Number(v.toPrecision(1)) === v ? 1 : 3))),
  };
}

/** Aligns [[xs, ys], ..] tables with different xs into uPlot columns (gaps are null). */
export function align(tables) {
  const live = tables.filter((t) => t[0].length);
  if (!live.length) return [[], ...tables.map(() => [])];
  return uPlot.join(tables.map((t) => (t[0].length ? t : [[live[0][0][0]], [null]])));
}

const SCALE = 2; // canvas pixels per digit pixel in drawDigits
const GAP = 2; // canvas pixels between its tiles

/** The canvas width of a drawDigits grid of `cols` columns. */
const gridWidth = (cols, scale, gap) => cols * (28 * scale + gap) - gap;

/**
 * Draws `count` 28×28 digits from `pixels` (values in [0,1]) as a grid of `cols`
 * columns, each tile `scale` pixels per digit pixel, ink dark on white; `color(v)` →
 * [r, g, b] colours another scale (e.g. `diverging` for signed weights).
 * Its size on screen is style.css's (canvas.digits): as wide as its box allows, up to
 * --pixel-max per digit pixel; the canvas carries its size in digit pixels for that.
 */
export function drawDigits(canvas, pixels, { count = pixels.length / 784, cols = 10, scale = SCALE, gap = GAP, color = (v) => grey(v) } = {}) {
  const rows = Math.ceil(count / cols);
  const tile = 28 * scale + gap;
  canvas.width = gridWidth(cols, scale, gap);
  canvas.height = Math.max(1, rows * tile - gap);
  canvas.style.setProperty('--image-width', String(canvas.width / scale));
  canvas.style.setProperty('--image-height', String(canvas.height / scale));
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const img = ctx.createImageData(28, 28);
  const small = document.createElement('canvas');
  small.width = small.height = 28;
  const sctx = small.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  for (let k = 0; k < count; k++) {
    for (let i = 0; i < 784; i++) {
      img.data.set([...color(pixels[k * 784 + i]), 255], i * 4);
    }
    sctx.putImageData(img, 0, 0);
    ctx.drawImage(small, (k % cols) * tile, Math.floor(k / cols) * tile, 28 * scale, 28 * scale);
  }
}

/**
 * Labels over the columns of a drawDigits grid of `cells.length` columns (the same scale
 * and gap), each centred over its column at whatever width the grid is shown, when the
 * labels' box is as wide as the grid (.sample-grid): the gaps are the grid's, in percent.
 */
export function columnLabels(cells, { scale = SCALE, gap = GAP, ...attrs } = {}) {
  const labels = el('div', { class: 'column-labels', ...attrs }, cells);
  // The CSSOM: the CSP allows no style attribute.
  labels.style.gridTemplateColumns = `repeat(${cells.length}, minmax(0, 1fr))`;
  labels.style.columnGap = `${(100 * gap) / gridWidth(cells.length, scale, gap)}%`;
  return labels;
}

/** Draws a matrix as a heat map with its numbers, rows labelled by `rowLabel`. */
export function drawHeatmap(canvas, matrix, { cell = 30, rowLabel = 'true', colLabel = 'predicted' } = {}) {
  const n = matrix.length;
  const m = matrix[0]?.length ?? 0;
  const pad = 34;
  canvas.width = pad + m * cell;
  canvas.height = pad + n * cell;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const rowSums = matrix.map((r) => r.reduce((a, b) => a + b, 0) || 1);
  ctx.font = '11px system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const share = matrix[i][j] / rowSums[i];
      ctx.fillStyle = `rgba(47, 111, 214, ${share.toFixed(3)})`;
      ctx.fillRect(pad + j * cell, pad + i * cell, cell - 1, cell - 1);
      ctx.fillStyle = share > 0.5 ? '#fff' : '#1d2330';
      if (matrix[i][j]) ctx.fillText(String(matrix[i][j]), pad + (j + 0.5) * cell, pad + (i + 0.5) * cell);
    }
  }
  ctx.fillStyle = '#5b6475';
  for (let j = 0; j < m; j++) ctx.fillText(String(j), pad + (j + 0.5) * cell, pad - 8);
  for (let i = 0; i < n; i++) ctx.fillText(String(i), pad - 10, pad + (i + 0.5) * cell);
  ctx.fillText(`${colLabel} →`, pad + (m * cell) / 2, 8);
  ctx.save();
  ctx.translate(8, pad + (n * cell) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(`${rowLabel} →`, 0, 0);
  ctx.restore();
}

/** Offers `blob` as a download named `name`. */
export function download(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/** Downloads a canvas as PNG on a white background (canvas.toBlob). */
export function savePNG(canvas, name) {
  const out = document.createElement('canvas');
  out.width = canvas.width;
  out.height = canvas.height;
  const ctx = out.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(canvas, 0, 0);
  out.toBlob((blob) => download(blob, name), 'image/png');
}

/** Downloads rows (arrays) under a header as CSV. */
export function saveCSV(header, rows, name) {
  const text = [header, ...rows].map((r) => r.map((v) => (v ?? '')).join(',')).join('\n');
  download(new Blob([`${text}\n`], { type: 'text/csv' }), name);
}

/**
 * A place for a chart whose series depend on the data (runs, layers): `show(key,
 * series, opts)` reuses the chart while `key` is unchanged and rebuilds it otherwise.
 */
export function chartSlot(el) {
  let chart = null;
  let key = null;
  return {
    show(newKey, series, opts) {
      if (newKey !== key) {
        chart?.destroy();
        chart = lineChart(el, series, opts);
        key = newKey;
      }
      return chart;
    },
    get chart() {
      return chart;
    },
  };
}

/** A "PNG" tool button that saves the canvas `getCanvas()` returns. */
export function pngButton(getCanvas, name, label = 'PNG') {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.title = `save ${name} as PNG`;
  b.addEventListener('click', () => {
    const canvas = getCanvas();
    if (canvas) savePNG(canvas, name);
  });
  return b;
}

/** The diverging map's ends: negative blue, positive red, white at 0 (ColorBrewer RdBu). */
const NEGATIVE = [33, 102, 172];
const POSITIVE = [178, 24, 43];

/** The diverging colour [r, g, b] of `v` on a scale symmetric around 0 (|v| ≤ max). */
export function diverging(v, max = 1) {
  const s = Math.max(-1, Math.min(1, max > 0 ? v / max : 0));
  const end = s < 0 ? NEGATIVE : POSITIVE;
  const a = Math.abs(s);
  return end.map((c) => Math.round(255 + a * (c - 255)));
}

/** The grey [r, g, b] of `v` in [lo, hi]: white at lo, black at hi (ink on paper). */
export function grey(v, lo = 0, hi = 1) {
  const s = hi > lo ? Math.max(0, Math.min(1, (v - lo) / (hi - lo))) : 0;
  const c = Math.round(255 * (1 - s));
  return [c, c, c];
}

/**
 * Paints `values` as a rows×cols grid of square cells `cell` pixels wide, each coloured
 * by `color(v)` → [r, g, b]; cells past the values stay light grey.
 */
export function drawGrid(canvas, values, { rows, cols, cell = 3, color = (v) => grey(v) }) {
  canvas.width = cols * cell;
  canvas.height = rows * cell;
  const g = canvas.getContext('2d');
  const img = g.createImageData(cols, rows);
  for (let i = 0; i < rows * cols; i++) {
    const rgb = i < values.length ? color(values[i]) : [236, 238, 242];
    img.data.set([...rgb, 255], i * 4);
  }
  const small = document.createElement('canvas');
  small.width = cols;
  small.height = rows;
  small.getContext('2d').putImageData(img, 0, 0);
  g.imageSmoothingEnabled = false;
  g.drawImage(small, 0, 0, canvas.width, canvas.height);
}

/**
 * The diverging colour map's legend: a bar from −max (blue) through 0 (white) to +max
 * (red), labelled, as a DOM element.
 */
export function divergingLegend(max, { label = '' } = {}) {
  const bar = document.createElement('canvas');
  bar.width = 120;
  bar.height = 10;
  bar.className = 'legend-bar';
  const g = bar.getContext('2d');
  for (let x = 0; x < bar.width; x++) {
    g.fillStyle = `rgb(${diverging((2 * x) / (bar.width - 1) - 1).join(',')})`;
    g.fillRect(x, 0, 1, bar.height);
  }
  g.strokeStyle = '#8a93a3';
  g.strokeRect(0.5, 0.5, bar.width - 1, bar.height - 1);
  return el('span', { class: 'legend', 'data-testid': 'diverging-legend' },
    label ? el('span', {}, label) : null,
    el('span', {}, `−${fmt(max)}`), bar, el('span', {}, `+${fmt(max)}`),
    el('span', { class: 'legend-zero' }, '(white = 0)'));
}
