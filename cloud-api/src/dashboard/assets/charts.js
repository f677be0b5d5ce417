// @ts-check
// Charts for every domain's pages: Chart.js 4 (MIT, vendored as one file from its npm
// package: assets/vendor/chart.umd.js, a classic script that defines `Chart`), loaded on the
// first chart a page draws. Chart.js draws on a <canvas> and sizes it through the CSSOM, which
// the CSP (`style-src 'self'`) allows; nothing here writes a style attribute or a <style>.
// Each chart comes with its numbers as a table (a <details> under it) for screen readers and
// for whoever prefers to read.
import { h, table } from './dom.js';
import { locale, t } from './i18n.js';
import { onLeave } from './router.js';

/**
 * One series: its label, one value per label of the chart, and a colour name from `COLORS`.
 * @typedef {{ label: string, data: number[], color?: keyof typeof COLORS }} Series
 */
/**
 * What to draw. `bar` (stacked with `stacked`, sideways with `horizontal`), `line` or
 * `doughnut` (one series). `unit` follows values in the tooltip and the table (`%`).
 * @typedef {{ type?: 'bar' | 'line' | 'doughnut', title: string, labels: string[], series: Series[], stacked?: boolean, horizontal?: boolean, unit?: string, id?: string }} ChartSpec
 */

/** The dashboard's palette (app.css), readable on white. */
export const COLORS = {
  brand: '#0f5e4f', ok: '#067647', bad: '#b42318', warn: '#b54708', blue: '#175cd3',
  purple: '#6941c6', pink: '#c01048', grey: '#667085', teal: '#0e9384', gold: '#ca8504',
};
const CYCLE = /** @type {(keyof typeof COLORS)[]} */ (['brand', 'blue', 'warn', 'purple', 'pink', 'teal', 'gold', 'grey', 'ok', 'bad']);

/** @type {Promise<any> | null} */
let loading = null;

/** Chart.js, loaded once (same origin: the CSP's `script-src 'self'`). */
function chartJs() {
  loading ??= new Promise((resolve, reject) => {
    const existing = /** @type {any} */ (window).Chart;
    if (existing) { resolve(existing); return; }
    const script = h('script', { src: '/assets/vendor/chart.umd.js' });
    script.addEventListener('load', () => resolve(/** @type {any} */ (window).Chart));
    script.addEventListener('error', () => { loading = null; reject(new Error('chart.js')); });
    document.head.append(script);
  });
  return loading;
}

const number = (/** @type {number} */ v, /** @type {string} */ unit = '') => `${v.toLocaleString(locale(), { maximumFractionDigits: 2 })}${unit}`;

/**
 * A chart in a <figure> (caption = title) with its data table; drawn as soon as Chart.js is
 * there, destroyed when the reader leaves the page. `data-ready` marks a drawn chart.
 * @param {ChartSpec} spec
 */
export function chart(spec) {
  const canvas = h('canvas', { role: 'img', 'aria-label': spec.title });
  const figure = h('figure', { class: 'chart', id: spec.id || null },
    h('figcaption', {}, spec.title),
    // Sideways bars need room per row: the taller box from seven rows on.
    h('div', { class: `chart-box ${spec.horizontal && spec.labels.length > 6 ? 'tall' : ''}` }, canvas),
    h('details', {}, h('summary', {}, t('chartData')), dataTable(spec)));
  if (!spec.labels.length || !spec.series.length) {
    figure.querySelector('.chart-box')?.replaceWith(h('p', { class: 'empty' }, t('none')));
    figure.dataset.ready = 'empty';
    return figure;
  }
  let alive = true;
  /** @type {any} */
  let instance = null;
  onLeave(() => { alive = false; instance?.destroy(); });
  chartJs().then((Chart) => {
    if (!alive) return;
    instance = new Chart(canvas, config(spec));
    figure.dataset.ready = 'true';
  }).catch((err) => {
    figure.querySelector('.chart-box')?.replaceWith(h('p', { class: 'notice error' }, t('chartFailed')));
    console.warn(err);
  });
  return figure;
}

function dataTable(/** @type {ChartSpec} */ spec) {
  const rows = spec.labels.map((label, i) => ({ label, values: spec.series.map((s) => s.data[i] ?? 0) }));
  return table([
    ['', (r) => r.label],
    ...spec.series.map((s, j) => /** @type {import('./dom.js').Column<{ label: string, values: number[] }>} */ (
      [s.label, (r) => number(r.values[j], spec.unit), 'num'])),
  ], rows);
}

/** The Chart.js configuration of a spec. */
function config(/** @type {ChartSpec} */ spec) {
  const type = spec.type || 'bar';
  const doughnut = type === 'doughnut';
  const datasets = spec.series.map((s, i) => {
    const color = COLORS[s.color || CYCLE[i % CYCLE.length]];
    return {
      label: s.label,
      data: s.data,
      backgroundColor: doughnut ? spec.labels.map((_, j) => COLORS[CYCLE[j % CYCLE.length]]) : type === 'line' ? `${color}33` : color,
      borderColor: doughnut ? '#fff' : color,
      borderWidth: type === 'line' ? 2 : 1,
      fill: type === 'line',
      tension: 0.25,
      pointRadius: type === 'line' ? 2 : 0,
    };
  });
  const axis = {
    stacked: Boolean(spec.stacked),
    ticks: { font: { size: 11 }, maxRotation: 0, autoSkip: true },
    grid: { color: '#eaecf0' },
  };
  const unit = spec.unit || '';
  return {
    type,
    data: { labels: spec.labels, datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      indexAxis: spec.horizontal ? 'y' : 'x',
      locale: locale(),
      plugins: {
        legend: { display: doughnut || spec.series.length > 1, position: 'bottom', labels: { boxWidth: 12, font: { size: 12 } } },
        tooltip: { callbacks: { label: (/** @type {any} */ c) => `${c.dataset.label}: ${number(Number(c.raw), unit)}` } },
      },
      scales: doughnut ? {} : { x: axis, y: { ...axis, beginAtZero: true } },
    },
  };
}
