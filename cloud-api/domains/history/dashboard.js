// @ts-check
// The history domain's pages: the access log with filters, keyset paging, counts and
// exports, and the last attempts at one door on that door's page. Served at
// /assets/domains/history.js.
import { api, download, session, showError } from '../api.js';
import { chart } from '../charts.js';
import { dateInput, fmtTime, h, table } from '../dom.js';
import { addWords, group, locale, t, word } from '../i18n.js';
import { onRealtime } from '../realtime.js';
import { addNav, addPart, addRoute, hasRole } from '../router.js';

addWords({
  id: {
    history: 'Riwayat akses', doorHistory: 'Riwayat pintu ini', successRate: 'Tingkat berhasil',
    uniqueUsers: 'Orang berbeda', unknownFaces: 'Wajah tak dikenal',
    accessCharts: 'Akses 7 hari terakhir', perHour: 'Akses per jam', perDay: 'Akses per hari',
  },
  en: {
    history: 'Access history', doorHistory: 'This door\'s history', successRate: 'Success rate',
    uniqueUsers: 'Distinct people', unknownFaces: 'Unknown faces',
    accessCharts: 'Accesses in the last 7 days', perHour: 'Accesses per hour', perDay: 'Accesses per day',
  },
});

/**
 * One access attempt (`AccessLogView`).
 * @typedef {{ id: string, device_id: string, device_name: string | null, timestamp: string, result: 'granted' | 'denied', success: boolean, method: string, user_id: string | null, user_name: string | null, reason: string | null }} AccessLog
 */
/**
 * `GET /api/history/access` (`AccessPage`).
 * @typedef {{ data: AccessLog[], pagination: { limit: number, next_cursor: string | null, has_more: boolean, total: number | null } }} AccessPage
 */
/** @typedef {{ total: number, granted: number, denied: number, success_rate: number }} Counts */
/**
 * `GET /api/analytics/dashboard` (`Dashboard`, the parts shown here; `DayCount` and
 * `HourCount` carry their `Counts` flattened).
 * @typedef {{ totals: Counts, unknown_faces: number, unique_users: number, per_day: (Counts & { date: string })[], per_hour: (Counts & { hour: number })[] }} Dashboard
 */

/** Access log rows; `oneDevice` leaves out the device column (a door's own page). */
function historyTable(/** @type {AccessLog[]} */ rows, oneDevice = false) {
  return table([
    [t('time'), (r) => fmtTime(r.timestamp), 'time'],
    oneDevice ? null : [t('device'), (r) => r.device_name || r.device_id],
    [t('person'), (r) => r.user_name || '—'],
    [t('result'), (r) => h('span', { class: `pill ${r.success ? 'ok' : 'bad'}` }, r.success ? t('granted') : t('denied'))],
    [t('method'), (r) => word('methods', r.method)],
    [t('reason'), (r) => word('reasons', r.reason)],
  ], rows);
}

async function historyPage(/** @type {HTMLElement} */ root) {
  const slot = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const stats = h('div', { class: 'stats', 'aria-label': t('history') });
  // Keyset paging: the cursors of the pages seen so far, for "previous".
  /** @type {(string | null)[]} */
  let cursors = [null];
  const limit = 25;
  const form = h('form', { class: 'inline', id: 'history-filters', role: 'search' },
    h('label', {}, t('from'), dateInput('from')), h('label', {}, t('to'), dateInput('to')),
    h('label', {}, t('device'), h('input', { name: 'device_id', size: 10 })),
    h('label', {}, t('result'), h('select', { name: 'result' }, h('option', { value: '' }, t('all')), h('option', { value: 'granted' }, t('granted')), h('option', { value: 'denied' }, t('denied')))),
    h('label', {}, t('method'), h('select', { name: 'method' }, h('option', { value: '' }, t('all')), Object.entries(group('methods')).map(([v, l]) => h('option', { value: v }, l)))),
    h('label', {}, t('search'), h('input', { name: 'q', type: 'search', size: 12 })),
    h('button', { type: 'submit' }, t('filter')), h('button', { type: 'reset', class: 'secondary' }, t('reset')));
  const filters = () => {
    const p = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (String(v).trim()) p.set(k, String(v).trim());
    return p;
  };
  const load = async () => {
    const p = filters();
    p.set('limit', String(limit));
    p.set('include_total', 'true');
    const cursor = cursors[cursors.length - 1];
    if (cursor) p.set('cursor', cursor);
    try {
      /** @type {AccessPage} */
      const data = await api(`/api/history/access?${p}`);
      const info = data.pagination;
      const pages = info.total === null ? null : Math.max(1, Math.ceil(info.total / limit));
      slot.replaceChildren(historyTable(data.data), h('div', { class: 'pager' },
        info.total === null ? null : h('span', { class: 'muted small' }, `${t('total')}: ${info.total}`),
        h('button', { type: 'button', class: 'secondary', disabled: cursors.length <= 1, onclick: () => { cursors.pop(); load(); } }, t('prev')),
        h('span', {}, `${t('page')} ${cursors.length}${pages ? ` / ${pages}` : ''}`),
        h('button', { type: 'button', class: 'secondary', disabled: !info.has_more, onclick: () => { cursors.push(info.next_cursor); load(); } }, t('next'))));
    } catch (err) { showError(err, slot); }
  };
  const loadStats = async () => {
    try {
      /** @type {Dashboard} */
      const data = await api(`/api/analytics/dashboard?${filters()}`);
      const s = data.totals;
      stats.replaceChildren(...[
        [t('total'), s.total], [t('granted'), s.granted], [t('denied'), s.denied],
        [t('successRate'), `${s.success_rate}%`],
        [t('uniqueUsers'), data.unique_users], [t('unknownFaces'), data.unknown_faces],
      ].map(([label, v]) => h('div', { class: 'stat' }, h('span', { class: 'muted small' }, label), h('b', {}, String(v)))));
    } catch { stats.replaceChildren(); }
  };
  const reload = () => { cursors = [null]; load(); loadStats(); };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); reload(); });
  form.addEventListener('reset', () => setTimeout(reload, 0));
  const exportSlot = h('div', { 'aria-live': 'polite' });
  const exportButton = (/** @type {string} */ format) => {
    const button = h('button', { type: 'button', class: 'secondary', id: `export-${format}` }, `${t('export')} ${format.toUpperCase()}`);
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const body = { ...Object.fromEntries(filters()), format };
        await download('/api/analytics/export', { method: 'POST', body }, `access-history.${format}`);
        exportSlot.replaceChildren();
      } catch (err) { showError(err, exportSlot); } finally { button.disabled = false; }
    });
    return button;
  };
  root.replaceChildren(h('div', { class: 'head' }, h('h1', {}, t('history')),
    h('div', { class: 'actions' }, ['csv', 'xlsx', 'pdf'].map(exportButton))), exportSlot, stats,
    h('section', { class: 'card' }, form), slot);
  onRealtime((m) => {
    if (m.name === 'device:events' && cursors.length === 1 && m.data.some((e) => e.event.kind === 'access_decision')) { load(); loadStats(); }
  });
  await Promise.all([load(), loadStats()]);
}

/** The last ten attempts at one door, on that door's page. */
function doorHistoryCard(/** @type {{ device_id: string }} */ door) {
  const slot = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  api(`/api/history/access?device_id=${encodeURIComponent(door.device_id)}&limit=10`)
    .then((/** @type {AccessPage} */ data) => slot.replaceChildren(historyTable(data.data, true)))
    .catch((err) => showError(err, slot));
  return h('section', { class: 'card', 'aria-labelledby': 'dh-title' }, h('h2', { id: 'dh-title' }, t('doorHistory')), slot);
}

/** Granted and denied, stacked, per hour of the day and per day (`GET /api/analytics/dashboard`). */
function accessCharts(/** @type {Dashboard} */ data) {
  const hours = Array.from({ length: 24 }, (_, hour) => data.per_hour.find((x) => x.hour === hour) || { hour, total: 0, granted: 0, denied: 0, success_rate: 0 });
  const day = (/** @type {string} */ d) => new Date(`${d}T12:00:00`).toLocaleDateString(locale(), { weekday: 'short', day: 'numeric', month: 'short' });
  const series = (/** @type {Counts[]} */ rows) => [
    { label: t('granted'), data: rows.map((r) => r.granted), color: /** @type {const} */ ('ok') },
    { label: t('denied'), data: rows.map((r) => r.denied), color: /** @type {const} */ ('bad') },
  ];
  return [
    chart({ id: 'chart-hour', title: t('perHour'), labels: hours.map((x) => `${String(x.hour).padStart(2, '0')}`), series: series(hours), stacked: true }),
    chart({ id: 'chart-day', title: t('perDay'), labels: data.per_day.map((x) => day(x.date)), series: series(data.per_day), stacked: true }),
  ];
}

/** The overview's charts card: the last 7 days, redrawn (at most every 5 s) as visits arrive. */
function overviewCharts() {
  if (session.user?.roles?.access !== 'admin') return h('div');
  const slot = h('div', { class: 'split' }, h('p', { class: 'muted' }, t('loading')));
  let pending = false;
  const load = async () => {
    try {
      /** @type {Dashboard} */
      const data = await api('/api/analytics/dashboard');
      slot.replaceChildren(...accessCharts(data));
    } catch (err) { showError(err, slot); }
  };
  load();
  onRealtime((m) => {
    if (pending || m.name !== 'device:events' || !m.data.some((e) => e.event.kind === 'access_decision')) return;
    pending = true;
    setTimeout(() => { pending = false; load(); }, 5000);
  });
  return h('section', { class: 'card', 'aria-labelledby': 'charts-title', id: 'access-charts' }, h('h2', { id: 'charts-title' }, t('accessCharts')), slot);
}

addNav('history', '#/history', 40, hasRole('access', 'admin'));
addRoute(/^\/history$/, historyPage, 'history');
addPart('door', 30, doorHistoryCard);
addPart('overview', 20, overviewCharts);
