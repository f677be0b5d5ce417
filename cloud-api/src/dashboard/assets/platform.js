// @ts-check
// The platform's own pages: devices (enrolment, sequence gaps), notifications (and the
// menu's unread badge) and the audit trail.
import { api, showError } from './api.js';
import { field, fmtTime, h, table, toast } from './dom.js';
import { addWords, t } from './i18n.js';
import { onMessage, onRealtime } from './realtime.js';
import { addNav, addNavExtra, addRoute, hasRole } from './router.js';

addWords({
  id: {
    devices: 'Perangkat', notifications: 'Notifikasi', audit: 'Jejak audit',
    enrolDevice: 'Daftarkan perangkat baru', site: 'Situs', deviceId: 'ID perangkat',
    deviceName: 'Nama perangkat', getCode: 'Buat kode', oneTimeCode: 'Kode sekali pakai',
    runOnDevice: 'Jalankan di Raspberry Pi:', expires: 'Berlaku sampai', copy: 'Salin',
    copied: 'Disalin', lastSeq: 'Seq terakhir', stored: 'Tersimpan', missing: 'Hilang',
    markRead: 'Tandai dibaca', noNotifications: 'Tidak ada notifikasi.',
    when: 'Kapan', who: 'Siapa', what: 'Apa', target: 'Sasaran', address: 'Alamat', action: 'Tindakan',
  },
  en: {
    devices: 'Devices', notifications: 'Notifications', audit: 'Audit trail',
    enrolDevice: 'Enrol a new device', site: 'Site', deviceId: 'Device ID',
    deviceName: 'Device name', getCode: 'Create code', oneTimeCode: 'One-time code',
    runOnDevice: 'Run on the Raspberry Pi:', expires: 'Valid until', copy: 'Copy',
    copied: 'Copied', lastSeq: 'Last seq', stored: 'Stored', missing: 'Missing',
    markRead: 'Mark read', noNotifications: 'No notifications.',
    when: 'When', who: 'Who', what: 'What', target: 'Target', address: 'Address', action: 'Action',
  },
});

// ---------------------------------------------------------------- devices
/**
 * `GET /api/devices` → `{ total, devices: DeviceSummary[] }`.
 * @typedef {{ id: string, site: string, name: string, enrolled: boolean, online: boolean, last_seen: string | null, last_seq: number, contiguous_seq: number, events_stored: number, missing_seqs: number }} DeviceSummary
 */
/** `POST /api/devices` → `EnrollmentCode`. */
/** @typedef {{ device_id: string, site: string, code: string, expires_at: string, command: string }} EnrollmentCode */

/** Online / offline. */
export function onlinePill(/** @type {{ online: boolean }} */ device) {
  return h('span', { class: `pill ${device.online ? 'ok' : 'bad'}` }, device.online ? t('online') : t('offline'));
}

async function devicesPage(/** @type {HTMLElement} */ root) {
  const listSlot = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const load = async () => {
    try {
      /** @type {{ devices: DeviceSummary[] }} */
      const data = await api('/api/devices');
      listSlot.replaceChildren(table([
        [t('device'), (d) => h('a', { href: `#/door/${encodeURIComponent(d.id)}` }, d.name)],
        ['ID', (d) => d.id],
        [t('site'), (d) => d.site],
        [t('status'), (d) => onlinePill(d)],
        [t('lastSeq'), (d) => d.last_seq, 'num'],
        [t('stored'), (d) => d.events_stored, 'num'],
        [t('missing'), (d) => d.missing_seqs, 'num'],
      ], data.devices));
    } catch (err) { showError(err, listSlot); }
  };
  const out = h('div', { 'aria-live': 'polite', id: 'enrol-result' });
  const form = h('form', { class: 'inline', id: 'enrol-form' },
    h('label', {}, t('site'), h('input', { name: 'site', required: true, value: 'demo', pattern: '[a-z0-9][a-z0-9_\\-]*' })),
    h('label', {}, t('deviceId'), h('input', { name: 'device_id', required: true, placeholder: 'door-2', pattern: '[a-z0-9][a-z0-9_\\-]*' })),
    h('label', {}, t('deviceName'), h('input', { name: 'name', required: true, placeholder: 'Pintu Belakang' })),
    h('button', { type: 'submit' }, t('getCode')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      /** @type {EnrollmentCode} */
      const code = await api('/api/devices', { method: 'POST', body: { site: field(form, 'site').value.trim(), device_id: field(form, 'device_id').value.trim(), name: field(form, 'name').value.trim() } });
      const copy = h('button', { type: 'button', class: 'secondary' }, t('copy'));
      copy.addEventListener('click', async () => {
        try { await navigator.clipboard.writeText(code.command); copy.textContent = t('copied'); } catch { /* clipboard denied: the text is selectable */ }
      });
      out.replaceChildren(h('div', { class: 'notice' },
        h('p', {}, `${t('oneTimeCode')}: `, h('code', { class: 'code', id: 'enrol-code' }, code.code)),
        h('p', {}, `${t('expires')}: ${fmtTime(code.expires_at)}`),
        h('p', {}, t('runOnDevice')), h('pre', { class: 'command', id: 'enrol-command' }, code.command), copy));
      form.reset();
      load();
    } catch (err) { showError(err, out); }
  });
  root.replaceChildren(h('div', { class: 'head' }, h('h1', {}, t('devices'))),
    h('section', { class: 'card', 'aria-labelledby': 'enrol-title' }, h('h2', { id: 'enrol-title' }, t('enrolDevice')), form, out),
    h('section', { class: 'card', 'aria-label': t('devices') }, listSlot));
  await load();
}

// ---------------------------------------------------------------- notifications
/**
 * `GET /api/notifications` → `{ notifications: NotificationView[], unread }`.
 * @typedef {{ id: string, type: string, title: string, message: string, device_id: string | null, read: boolean, created_at: string }} NotificationView
 */

let unread = 0;

/** The unread count on the menu's Notifications entry. */
export function setBadge(/** @type {number} */ n) {
  unread = Math.max(0, n);
  const badge = document.getElementById('badge');
  if (!badge) return;
  badge.textContent = String(unread);
  badge.hidden = unread === 0;
  badge.setAttribute('aria-label', `${unread} ${t('unread')}`);
}

export async function loadBadge() {
  try {
    /** @type {{ unread: number }} */
    const data = await api('/api/notifications?unread=true&limit=1');
    setBadge(data.unread);
  } catch { /* shown on its page */ }
}

/** The unread badge after Notifications in the menu. */
function unreadBadge() {
  return h('span', { class: 'badge', id: 'badge', hidden: unread === 0, 'aria-label': `${unread} ${t('unread')}` }, String(unread));
}

async function notificationsPage(/** @type {HTMLElement} */ root) {
  const slot = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const act = (/** @type {string} */ path, /** @type {string} */ method) => async () => {
    try { await api(path, { method }); load(); } catch (err) { showError(err); }
  };
  const load = async () => {
    try {
      /** @type {{ notifications: NotificationView[], unread: number }} */
      const data = await api('/api/notifications?limit=100');
      setBadge(data.unread);
      const rows = data.notifications;
      slot.replaceChildren(rows.length ? table([
        [t('time'), (n) => fmtTime(n.created_at)],
        [t('event'), (n) => h('div', {}, h('b', {}, n.title), h('div', { class: 'small' }, n.message))],
        [t('device'), (n) => n.device_id || '—'],
        [t('actions'), (n) => h('div', { class: 'actions' },
          n.read ? null : h('button', { type: 'button', class: 'ghost', onclick: act(`/api/notifications/${n.id}/read`, 'PUT') }, t('markRead')),
          h('button', { type: 'button', class: 'ghost', 'aria-label': `${t('delete')}: ${n.title}`, onclick: act(`/api/notifications/${n.id}`, 'DELETE') }, t('delete')))],
      ], rows, (n) => ({ class: n.read ? '' : 'unread' })) : h('p', { class: 'empty card' }, t('noNotifications')));
    } catch (err) { showError(err, slot); }
  };
  root.replaceChildren(h('div', { class: 'head' }, h('h1', {}, t('notifications'))), slot);
  onRealtime((m) => { if (m.name === 'notification') load(); });
  await load();
}

// ---------------------------------------------------------------- audit trail
/**
 * `GET /api/audit` → `{ entries: AuditView[] }`.
 * @typedef {{ id: string, at: string, actor: string | null, action: string, target: string | null, ip: string | null, success: boolean }} AuditView
 */

async function auditPage(/** @type {HTMLElement} */ root) {
  const slot = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const action = h('input', { name: 'action', placeholder: 'door_unlock', size: 14 });
  const limit = h('select', { name: 'limit' }, [50, 100, 500].map((n) => h('option', { value: n }, String(n))));
  const form = h('form', { class: 'inline', role: 'search' },
    h('label', {}, t('action'), action), h('label', {}, t('limit'), limit),
    h('button', { type: 'submit' }, t('filter')));
  const load = async () => {
    const p = new URLSearchParams({ limit: limit.value });
    if (action.value.trim()) p.set('action', action.value.trim());
    try {
      /** @type {{ entries: AuditView[] }} */
      const data = await api(`/api/audit?${p}`);
      slot.replaceChildren(table([
        [t('when'), (a) => fmtTime(a.at)],
        [t('who'), (a) => a.actor || '—'],
        [t('what'), (a) => h('code', {}, a.action)],
        [t('target'), (a) => a.target || '—'],
        [t('result'), (a) => h('span', { class: `pill ${a.success ? 'ok' : 'bad'}` }, a.success ? t('ok') : t('failed'))],
        [t('address'), (a) => a.ip || '—'],
      ], data.entries));
    } catch (err) { showError(err, slot); }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  root.replaceChildren(h('div', { class: 'head' }, h('h1', {}, t('audit'))), h('section', { class: 'card' }, form), slot);
  await load();
}

onMessage((m) => {
  if (m.name === 'notification') { setBadge(unread + 1); toast(m.data.title || t('notifications')); }
});
addNav('devices', '#/devices', 20, hasRole('access', 'admin'));
addNav('notifications', '#/notifications', 60);
addNavExtra('notifications', unreadBadge);
addNav('audit', '#/audit', 70, hasRole('access', 'admin'));
addRoute(/^\/devices$/, devicesPage, 'devices');
addRoute(/^\/notifications$/, notificationsPage, 'notifications');
addRoute(/^\/audit$/, auditPage, 'audit');

