// Plotting: streaming line charts (uPlot), digit grids and heat maps on canvases, and
// exports (PNG through canvas.toBlob, CSV) as download links.
import uPlot from './vendor/uPlot.esm.js';
import { fmt } from './dom.js';

/** Run colours: run 0 blue, run 1 orange; layer colours for per-layer series. */
export const RUN_COLORS = ['#2f6fd6', '#e0701b'];
export const LAYER_COLORS = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666'];

/** A theme value: a CSS variable on <body> (style.css), or `fallback`. */
const themed = (name, fallback) => getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;

/** Axis colours and type in the theme's colours and sizes (light, dark, presentation). */
function axisTheme() {
  const font = `${themed('--axis-size', '12px')} system-ui, sans-serif`;
  const grid = { stroke: themed('--grid', '#0000001a'), width: 1 };
  return { stroke: themed('--fg', '#1d2330'), font, labelFont: font, grid, ticks: grid };
}

/** uPlot options for lineChart, in the current theme. */
function chartOptions(el, series, { x, y, logY, height, scatter }) {
  const axis = axisTheme();
  const size = parseFloat(themed('--axis-size', '12px'));
  return {
    width: Math.max(200, el.clientWidth || 400),
    height,
    legend: { live: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false }, y: logY ? { distr: 3 } : {} },
    axes: [{ ...axis, label: x, size: 3.4 * size, values: ticks }, { ...axis, label: y, size: 5 * size, values: ticks }],
    series: [{ label: x }, ...series.map((s) => ({
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
 * A uPlot line chart that fills `el`'s width; rebuilt in the new theme on `pclab:theme`.
 * series: [{ label, color, dash?, points? }]; opts: { x, y, logY, height, scatter }.
 */
export function lineChart(el, series, { x = 'step', y = '', logY = false, height = 220, scatter = false } = {}) {
  const tall = () => Math.round(height * Number(themed('--chart-scale', '1')));
  const make = (data) => new uPlot(chartOptions(el, series, { x, y, logY, height: tall(), scatter }), data, el);
  let plot = make([[], ...series.map(() => [])]);
  const rebuild = () => {
    const { data } = plot;
    plot.destroy();
    plot = make(data);
  };
  window.addEventListener('pclab:theme', rebuild);
  const resize = new ResizeObserver(() => {
    const width = el.clientWidth;
    if (width > 0 && Math.abs(width - plot.width) > 4) plot.setSize({ width, height: tall() });
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

/** Axis tick labels: compact numbers (1.2k, 3.4M). */
const ticks = (u, splits) => splits.map((v) => (v === null ? '' : fmt(v)));

/** Aligns [[xs, ys], ..] tables with different xs into uPlot columns (gaps are null). */
export function align(tables) {
  const live = tables.filter((t) => t[0].length);
  if (!live.length) return [[], ...tables.map(() => [])];
  return uPlot.join(tables.map((t) => (t[0].length ? t : [[live[0][0][0]], [null]])));
}

/**
 * Draws `count` 28×28 digits from `pixels` (values in [0,1]) as a grid of `cols`
 * columns, each tile `scale` pixels per digit pixel, ink dark on white.
 */
export function drawDigits(canvas, pixels, { count = pixels.length / 784, cols = 10, scale = 2, gap = 2 } = {}) {
  const rows = Math.ceil(count / cols);
  const tile = 28 * scale + gap;
  canvas.width = cols * tile - gap;
  canvas.height = Math.max(1, rows * tile - gap);
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
      const v = 255 - Math.round(255 * Math.min(1, Math.max(0, pixels[k * 784 + i])));
      img.data.set([v, v, v, 255], i * 4);
    }
    sctx.putImageData(img, 0, 0);
    ctx.drawImage(small, (k % cols) * tile, Math.floor(k / cols) * tile, 28 * scale, 28 * scale);
  }
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
export function pngButton(getCanvas, name) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = 'PNG';
  b.title = 'save as PNG';
  b.addEventListener('click', () => {
    const canvas = getCanvas();
    if (canvas) savePNG(canvas, name);
  });
  return b;
}
