// @ts-check
// The attendance domain's page: one day's check-ins and check-outs per person, with the
// day's totals and a CSV export. Served at /assets/domains/attendance.js.
import { api, download, showError } from '../api.js';
import { dateInput, field, fmtTime, h, table } from '../dom.js';
import { addWords, t } from '../i18n.js';
import { addNav, addRoute, hasRole } from '../router.js';

addWords({
  id: {
    attendance: 'Kehadiran', day: 'Tanggal', department: 'Departemen', checkIn: 'Masuk', checkOut: 'Pulang',
    absent: 'Tidak hadir', present: 'Hadir',
  },
  en: {
    attendance: 'Attendance', day: 'Date', department: 'Department', checkIn: 'Check-in', checkOut: 'Check-out',
    absent: 'Absent', present: 'Present',
  },
});

/**
 * `GET /api/attendance/daily` (`DailyReport`).
 * @typedef {{ user_id: string, name: string, department: string | null, check_in: string | null, check_out: string | null, status: 'present' | 'late' | 'absent' }} DailyRow
 * @typedef {{ date: string, time_zone: string, department: string | null, totals: { expected: number, present: number, late: number, absent: number }, people: DailyRow[] }} DailyReport
 */

const STATUS = { present: ['ok', 'present'], late: ['warn', 'late'], absent: ['bad', 'absent'] };

async function attendancePage(/** @type {HTMLElement} */ root) {
  const slot = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const form = h('form', { class: 'inline', id: 'attendance-day' },
    // Empty at first: the server answers the site's today (its time zone, not the browser's).
    h('label', {}, t('day'), dateInput('date', '')),
    h('label', {}, `${t('department')} (${t('optional')})`, h('input', { name: 'department' })),
    h('button', { type: 'submit' }, t('filter')));
  const date = field(form, 'date');
  const department = field(form, 'department');
  const exportSlot = h('div', { 'aria-live': 'polite' });
  const query = (format = '') => {
    const params = new URLSearchParams();
    if (date.value) params.set('date', date.value);
    if (department.value.trim()) params.set('department', department.value.trim());
    if (format) params.set('format', format);
    return `/api/attendance/daily?${params}`;
  };
  const pill = (/** @type {DailyRow['status']} */ status) => {
    const [tone, key] = STATUS[status];
    return h('span', { class: `pill ${tone}` }, t(key));
  };
  const dayTable = (/** @type {DailyRow[]} */ rows) => table([
    [t('name'), (r) => r.name],
    [t('department'), (r) => r.department || '—'],
    [t('checkIn'), (r) => fmtTime(r.check_in, false)],
    [t('checkOut'), (r) => fmtTime(r.check_out, false)],
    [t('status'), (r) => pill(r.status)],
  ], rows, (r) => ({ 'data-status': r.status }));
  const load = async () => {
    try {
      /** @type {DailyReport} */
      const data = await api(query());
      date.value = data.date;
      const { totals } = data;
      slot.replaceChildren(
        h('p', { class: 'muted', id: 'attendance-totals' },
          `${t('present')} ${totals.present} · ${t('late')} ${totals.late} · ${t('absent')} ${totals.absent}`),
        dayTable(data.people));
    } catch (err) { showError(err, slot); }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  const exportButton = h('button', { type: 'button', class: 'secondary', id: 'attendance-csv' }, `${t('export')} CSV`);
  exportButton.addEventListener('click', async () => {
    try { await download(query('csv'), {}, `attendance-${date.value}.csv`); } catch (err) { showError(err, exportSlot); }
  });
  root.replaceChildren(h('div', { class: 'head' }, h('h1', {}, t('attendance')), exportButton), exportSlot,
    h('section', { class: 'card' }, form), slot);
  await load();
}

addNav('attendance', '#/attendance', 50, hasRole('attendance', 'admin'));
addRoute(/^\/attendance$/, attendancePage, 'attendance');
