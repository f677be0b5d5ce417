// Gerbang admin dashboard. Plain JavaScript, no build step: the pages are drawn from the
// documented JSON API; live updates arrive over Socket.IO. Every value from the server is
// put in the page as text (never as HTML), so nothing a device or user sends can inject
// markup or script.
'use strict';

// ---------------------------------------------------------------- words (id default, en)
const WORDS = {
  id: {
    skip: 'Lewati ke konten', menu: 'Menu utama', signIn: 'Masuk', signOut: 'Keluar',
    email: 'Email', password: 'Kata sandi', signInTitle: 'Masuk ke dasbor',
    signInLead: 'Kelola pintu, pengguna dan kehadiran situs Anda.',
    overview: 'Ringkasan', devices: 'Perangkat', users: 'Pengguna', history: 'Riwayat akses',
    attendance: 'Kehadiran', notifications: 'Notifikasi', audit: 'Jejak audit',
    live: 'Langsung', offlineLive: 'Terputus', other: 'English',
    doors: 'Pintu', latestEvents: 'Kejadian terbaru', waiting: 'Menunggu kejadian…',
    online: 'Daring', offline: 'Luring', locked: 'Terkunci', unlocked: 'Tidak terkunci',
    open: 'Terbuka', closed: 'Tertutup', battery: 'Baterai', lock: 'Kunci', door: 'Pintu',
    lastUpdate: 'Pembaruan terakhir', mode: 'Mode', unknown: 'Tidak diketahui',
    noDoors: 'Belum ada pintu. Daftarkan perangkat di halaman Perangkat.',
    unlock: 'Buka kunci', lockNow: 'Kunci sekarang', duration: 'Lama terbuka',
    seconds: 'detik', control: 'Kendali pintu', settings: 'Pengaturan', save: 'Simpan',
    camera: 'Kamera', snapshot: 'Ambil foto', liveStream: 'Siaran langsung',
    stopStream: 'Hentikan siaran', doorHistory: 'Riwayat pintu ini',
    cameraIdle: 'Belum ada gambar. Ambil foto atau mulai siaran langsung.',
    notAvailable: 'Fitur ini belum tersedia di server ini.',
    sending: 'Mengirim…', back: 'Kembali',
    time: 'Waktu', device: 'Perangkat', person: 'Orang', result: 'Hasil', method: 'Metode',
    reason: 'Alasan', event: 'Kejadian', all: 'Semua', from: 'Dari', to: 'Sampai',
    granted: 'Diterima', denied: 'Ditolak', filter: 'Terapkan', reset: 'Atur ulang',
    export: 'Ekspor', prev: 'Sebelumnya', next: 'Berikutnya', page: 'Halaman',
    search: 'Cari', none: 'Tidak ada data.', name: 'Nama', role: 'Peran', status: 'Status',
    active: 'Aktif', disabled: 'Nonaktif', actions: 'Tindakan', edit: 'Ubah',
    disable: 'Nonaktifkan', enable: 'Aktifkan', newUser: 'Pengguna baru', create: 'Buat',
    cancel: 'Batal', face: 'Wajah', enrolFace: 'Daftarkan wajah', upload: 'Unggah foto',
    webcam: 'Kamera laptop', capture: 'Ambil & kirim', photo: 'Foto wajah',
    faceEnrolled: 'Terdaftar', faceMissing: 'Belum', phone: 'Telepon', nik: 'NIK',
    department: 'Departemen', optional: 'opsional', delete: 'Hapus', markRead: 'Tandai dibaca',
    markAllRead: 'Tandai semua dibaca', unread: 'belum dibaca', noNotifications: 'Tidak ada notifikasi.',
    enrolDevice: 'Daftarkan perangkat baru', site: 'Situs', deviceId: 'ID perangkat',
    deviceName: 'Nama perangkat', getCode: 'Buat kode', oneTimeCode: 'Kode sekali pakai',
    runOnDevice: 'Jalankan di Raspberry Pi:', expires: 'Berlaku sampai', copy: 'Salin',
    copied: 'Disalin', lastSeq: 'Seq terakhir', stored: 'Tersimpan', missing: 'Hilang',
    when: 'Kapan', who: 'Siapa', what: 'Apa', target: 'Sasaran', address: 'Alamat',
    ok: 'Berhasil', failed: 'Gagal', day: 'Tanggal', checkIn: 'Masuk', checkOut: 'Pulang',
    late: 'Terlambat', absent: 'Tidak hadir', present: 'Hadir', onTime: 'Tepat waktu',
    count: 'Jumlah', total: 'Total', successRate: 'Tingkat berhasil', today: 'Hari ini',
    sessionEnded: 'Sesi berakhir, silakan masuk lagi.', loading: 'Memuat…',
    error: 'Terjadi kesalahan', webcamDenied: 'Kamera tidak dapat dipakai',
    chooseFile: 'Pilih foto dulu', enrolled: 'Wajah terdaftar', limit: 'Batas',
    uniqueUsers: 'Orang berbeda', unknownFaces: 'Wajah tak dikenal',
    action: 'Tindakan', unlockPulse: 'Lama buka untuk wajah dikenal', heldOpenAlarm: 'Alarm pintu tertahan',
    cameraOn: 'Kamera aktif', contact: 'Kontak', confirmDelete: 'Hapus pengguna ini beserta wajah dan kehadirannya:',
    modes: { normal: 'Normal', locked_down: 'Terkunci penuh', held_open: 'Terbuka terus' },
    roles: { admin: 'Admin', member: 'Anggota' },
    ev: {
      access_granted: 'Akses diterima', access_denied: 'Akses ditolak', attendance: 'Kehadiran',
      relay_locked: 'Kunci terpasang', relay_unlocked: 'Kunci dibuka', door_opened: 'Pintu dibuka',
      door_closed: 'Pintu ditutup', forced_open: 'Pintu dibuka paksa', held_open: 'Pintu tertahan terbuka',
      battery: 'Baterai', device_status: 'Status perangkat', dropped: 'Kejadian terbuang',
    },
    methods: { face: 'wajah', remote: 'jarak jauh', local: 'lokal', exit_button: 'tombol keluar' },
    reasons: { unknown_face: 'wajah tak dikenal', liveness_failed: 'uji keaslian gagal', user_disabled: 'pengguna nonaktif',
      outside_schedule: 'di luar jadwal', locked_down: 'penguncian', poor_quality: 'kualitas buruk' },
  },
  en: {
    skip: 'Skip to content', menu: 'Main menu', signIn: 'Sign in', signOut: 'Sign out',
    email: 'Email', password: 'Password', signInTitle: 'Sign in to the dashboard',
    signInLead: 'Run your site\'s doors, people and attendance.',
    overview: 'Overview', devices: 'Devices', users: 'Users', history: 'Access history',
    attendance: 'Attendance', notifications: 'Notifications', audit: 'Audit trail',
    live: 'Live', offlineLive: 'Disconnected', other: 'Bahasa Indonesia',
    doors: 'Doors', latestEvents: 'Latest events', waiting: 'Waiting for events…',
    online: 'Online', offline: 'Offline', locked: 'Locked', unlocked: 'Unlocked',
    open: 'Open', closed: 'Closed', battery: 'Battery', lock: 'Lock', door: 'Door',
    lastUpdate: 'Last update', mode: 'Mode', unknown: 'Unknown',
    noDoors: 'No doors yet. Enrol a device on the Devices page.',
    unlock: 'Unlock', lockNow: 'Lock now', duration: 'Open for', seconds: 'seconds',
    control: 'Door control', settings: 'Settings', save: 'Save', camera: 'Camera',
    snapshot: 'Take snapshot', liveStream: 'Live stream', stopStream: 'Stop stream',
    doorHistory: 'This door\'s history', cameraIdle: 'No picture yet. Take a snapshot or start the live stream.',
    notAvailable: 'This feature is not available on this server yet.',
    sending: 'Sending…', back: 'Back',
    time: 'Time', device: 'Device', person: 'Person', result: 'Result', method: 'Method',
    reason: 'Reason', event: 'Event', all: 'All', from: 'From', to: 'To',
    granted: 'Granted', denied: 'Denied', filter: 'Apply', reset: 'Reset', export: 'Export',
    prev: 'Previous', next: 'Next', page: 'Page', search: 'Search', none: 'Nothing here.',
    name: 'Name', role: 'Role', status: 'Status', active: 'Active', disabled: 'Disabled',
    actions: 'Actions', edit: 'Edit', disable: 'Disable', enable: 'Enable', newUser: 'New user',
    create: 'Create', cancel: 'Cancel', face: 'Face', enrolFace: 'Enrol face',
    upload: 'Upload photo', webcam: 'Webcam', capture: 'Capture & send', photo: 'Face photo',
    faceEnrolled: 'Enrolled', faceMissing: 'Not yet', phone: 'Phone', nik: 'NIK',
    department: 'Department', optional: 'optional', delete: 'Delete', markRead: 'Mark read',
    markAllRead: 'Mark all read', unread: 'unread', noNotifications: 'No notifications.',
    enrolDevice: 'Enrol a new device', site: 'Site', deviceId: 'Device ID',
    deviceName: 'Device name', getCode: 'Create code', oneTimeCode: 'One-time code',
    runOnDevice: 'Run on the Raspberry Pi:', expires: 'Valid until', copy: 'Copy',
    copied: 'Copied', lastSeq: 'Last seq', stored: 'Stored', missing: 'Missing',
    when: 'When', who: 'Who', what: 'What', target: 'Target', address: 'Address',
    ok: 'OK', failed: 'Failed', day: 'Date', checkIn: 'Check-in', checkOut: 'Check-out',
    late: 'Late', absent: 'Absent', present: 'Present', onTime: 'On time', count: 'Count',
    total: 'Total', successRate: 'Success rate', today: 'Today',
    sessionEnded: 'Your session ended, please sign in again.', loading: 'Loading…',
    error: 'Something went wrong', webcamDenied: 'The camera cannot be used',
    chooseFile: 'Choose a photo first', enrolled: 'Face enrolled', limit: 'Limit',
    uniqueUsers: 'Distinct people', unknownFaces: 'Unknown faces',
    action: 'Action', unlockPulse: 'Unlock time for a known face', heldOpenAlarm: 'Held-open alarm',
    cameraOn: 'Camera on', contact: 'Contact', confirmDelete: 'Delete this user with their face and attendance:',
    modes: { normal: 'Normal', locked_down: 'Locked down', held_open: 'Held open' },
    roles: { admin: 'Admin', member: 'Member' },
    ev: {
      access_granted: 'Access granted', access_denied: 'Access denied', attendance: 'Attendance',
      relay_locked: 'Lock engaged', relay_unlocked: 'Lock released', door_opened: 'Door opened',
      door_closed: 'Door closed', forced_open: 'Door forced open', held_open: 'Door held open',
      battery: 'Battery', device_status: 'Device status', dropped: 'Events dropped',
    },
    methods: { face: 'face', remote: 'remote', local: 'local', exit_button: 'exit button' },
    reasons: { unknown_face: 'unknown face', liveness_failed: 'liveness failed', user_disabled: 'user disabled',
      outside_schedule: 'outside schedule', locked_down: 'lockdown', poor_quality: 'poor quality' },
  },
};

let lang = localStorage.getItem('gerbang.lang') === 'en' ? 'en' : 'id';
const t = (key) => WORDS[lang][key] ?? WORDS.id[key] ?? key;
const locale = () => (lang === 'en' ? 'en-GB' : 'id-ID');

// ---------------------------------------------------------------- DOM helpers
/** Builds an element; strings become text nodes, never HTML. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
const $ = (sel, root = document) => root.querySelector(sel);
const main = () => $('#main');

function fmtTime(v, withDate = true) {
  if (!v) return '—';
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return String(v);
  return d.toLocaleString(locale(), withDate
    ? { dateStyle: 'medium', timeStyle: 'medium' } : { timeStyle: 'medium' });
}

function toast(message, kind) {
  const el = h('div', { class: `toast ${kind || ''}` }, message);
  $('#toasts').append(el);
  setTimeout(() => el.remove(), 5000);
}

function notice(message, kind) {
  return h('p', { class: `notice ${kind || ''}`, role: kind === 'error' ? 'alert' : null }, message);
}

// ---------------------------------------------------------------- the API
/** A route this server does not have (yet): pages show what exists and say so. */
class Missing extends Error {}
class ApiFailure extends Error {
  constructor(status, message, data) { super(message); this.status = status; this.data = data; }
}

const session = {
  get token() { return sessionStorage.getItem('gerbang.token'); },
  set token(v) { if (v) sessionStorage.setItem('gerbang.token', v); else sessionStorage.removeItem('gerbang.token'); },
  get user() { try { return JSON.parse(sessionStorage.getItem('gerbang.user')); } catch { return null; } },
  set user(v) { if (v) sessionStorage.setItem('gerbang.user', JSON.stringify(v)); else sessionStorage.removeItem('gerbang.user'); },
};

let refreshing = null;
/** Trades the httpOnly refresh cookie for a new access token, once for all callers. */
function refresh() {
  refreshing ??= fetch('/api/auth/refresh', { method: 'POST', credentials: 'same-origin', headers: { 'Accept-Language': lang } })
    .then(async (r) => {
      if (!r.ok) return false;
      const data = await r.json();
      session.token = data.accessToken;
      if (data.user) session.user = data.user;
      realtime.reconnect();
      return true;
    })
    .catch(() => false)
    .finally(() => { setTimeout(() => { refreshing = null; }, 0); });
  return refreshing;
}

/**
 * Calls the API. `body` is sent as JSON, `form` as multipart. Answers the parsed JSON (or
 * the Response with `raw`). Throws `Missing` for a route the server lacks and `ApiFailure`
 * with the server's own message otherwise.
 */
async function api(path, { method = 'GET', body, form, raw, retry = true } = {}) {
  const headers = { 'Accept-Language': lang, Accept: 'application/json' };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  let payload;
  if (form) payload = form;
  else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  const response = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  if (response.status === 401 && retry && path !== '/api/auth/login') {
    if (await refresh()) return api(path, { method, body, form, raw, retry: false });
    signedOut(t('sessionEnded'));
    throw new ApiFailure(401, t('sessionEnded'));
  }
  const type = response.headers.get('content-type') || '';
  if (response.ok) {
    if (raw) return response;
    return type.includes('json') ? response.json() : response.text();
  }
  // axum answers an unknown route with an empty 404 / 405; the API's own errors are JSON.
  if ((response.status === 404 || response.status === 405) && !type.includes('json')) {
    throw new Missing(path);
  }
  let data = null;
  try { data = type.includes('json') ? await response.json() : null; } catch { /* empty */ }
  const message = data?.message || data?.error || `${t('error')} (${response.status})`;
  throw new ApiFailure(response.status, message, data);
}

/** Shows an error in `slot` (or a toast): "not available" for a missing route. */
function showError(err, slot) {
  const el = err instanceof Missing ? notice(t('notAvailable'), 'missing') : notice(err.message || t('error'), 'error');
  if (slot) slot.replaceChildren(el); else toast(err.message || t('error'), 'error');
  if (!(err instanceof Missing) && !(err instanceof ApiFailure)) console.error(err);
}

/** The list in an API answer, whatever its envelope is called. */
function listOf(data, ...keys) {
  if (Array.isArray(data)) return data;
  for (const k of [...keys, 'items', 'data', 'records', 'rows', 'results']) {
    if (Array.isArray(data?.[k])) return data[k];
  }
  return [];
}

/** Downloads an API answer as a file (exports). */
async function download(path, options, fallbackName) {
  const response = await api(path, { ...options, raw: true });
  const blob = await response.blob();
  const disposition = response.headers.get('content-disposition') || '';
  const name = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition)?.[1] || fallbackName;
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: decodeURIComponent(name) });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// ---------------------------------------------------------------- realtime (Socket.IO)
const listeners = new Set();
const realtime = {
  socket: null,
  connect() {
    if (this.socket || !session.token || typeof io !== 'function') return;
    const socket = io({ auth: (cb) => cb({ token: session.token }), transports: ['websocket', 'polling'] });
    this.socket = socket;
    socket.on('connect', () => setLive(true));
    // The server ends a socket when its access token expires, and refuses a handshake with
    // an expired one; neither is retried by the client, so refresh the token and reconnect.
    // (Transport failures are retried by socket.io itself.)
    socket.on('disconnect', (reason) => {
      setLive(false);
      if (reason === 'io server disconnect' && session.token) refresh();
    });
    socket.on('connect_error', () => {
      setLive(false);
      if (!socket.active && session.token) refresh();
    });
    for (const name of ['device:events', 'device:state', 'notification']) {
      socket.on(name, (data) => listeners.forEach((fn) => fn(name, data)));
    }
  },
  reconnect() {
    if (this.socket && !this.socket.connected) this.socket.connect();
  },
  close() { this.socket?.close(); this.socket = null; setLive(false); },
};
function setLive(on) {
  const el = $('#live');
  el.classList.toggle('on', on);
  el.textContent = on ? t('live') : t('offlineLive');
}
/** Subscribes for the life of the current page. */
function onRealtime(fn) { listeners.add(fn); page.cleanups.push(() => listeners.delete(fn)); }

// ---------------------------------------------------------------- words for events
function describeEvent(e) {
  const ev = e.event || e;
  const body = ev.body || {};
  const words = WORDS[lang];
  switch (ev.kind) {
    case 'access_decision': {
      const granted = body.result === 'granted';
      const parts = [words.ev[granted ? 'access_granted' : 'access_denied']];
      if (body.person?.name) parts.push(`— ${body.person.name}`);
      const extra = [words.methods[body.method] || body.method];
      if (body.reason) extra.push(words.reasons[body.reason] || body.reason);
      return { text: `${parts.join(' ')} (${extra.filter(Boolean).join(', ')})`, tone: granted ? 'ok' : 'bad' };
    }
    case 'relay':
      return { text: words.ev[body.locked ? 'relay_locked' : 'relay_unlocked'], tone: body.locked ? '' : 'warn' };
    case 'battery':
      return { text: `${words.ev.battery} ${body.percent}%`, tone: body.percent <= 20 ? 'bad' : '' };
    case 'attendance':
      return { text: `${words.ev.attendance} — ${body.person?.name || ''} (${body.direction === 'check_out' ? t('checkOut') : t('checkIn')}${body.late ? `, ${t('late')}` : ''})`, tone: 'ok' };
    case 'forced_open': case 'held_open':
      return { text: words.ev[ev.kind], tone: 'bad' };
    case 'dropped':
      return { text: `${words.ev.dropped}: ${body.count}`, tone: 'bad' };
    default:
      return { text: words.ev[ev.kind] || ev.kind || '?', tone: '' };
  }
}

// ---------------------------------------------------------------- shell and routing
const NAV = [
  ['overview', '#/'], ['devices', '#/devices'], ['users', '#/users'], ['history', '#/history'],
  ['attendance', '#/attendance'], ['notifications', '#/notifications'], ['audit', '#/audit'],
];
const page = { cleanups: [], generation: 0 };
let unread = 0;

function drawShell() {
  document.documentElement.lang = lang;
  document.title = 'Gerbang';
  $('.skip').textContent = t('skip');
  $('#nav').setAttribute('aria-label', t('menu'));
  $('#nav').replaceChildren(...NAV.map(([key, href]) => h('a', { href, dataset: { key } },
    t(key), key === 'notifications' ? h('span', { class: 'badge', id: 'badge', hidden: unread === 0, 'aria-label': `${unread} ${t('unread')}` }, String(unread)) : null)));
  $('#lang').textContent = t('other');
  $('#lang').setAttribute('lang', lang === 'id' ? 'en' : 'id');
  $('#logout').textContent = t('signOut');
  setLive(Boolean(realtime.socket?.connected));
}

function setBadge(n) {
  unread = Math.max(0, n);
  const badge = $('#badge');
  if (!badge) return;
  badge.textContent = String(unread);
  badge.hidden = unread === 0;
  badge.setAttribute('aria-label', `${unread} ${t('unread')}`);
}

async function loadBadge() {
  try { setBadge((await api('/api/notifications?unread=true&limit=1')).unread ?? 0); } catch { /* shown on its page */ }
}

const ROUTES = [
  [/^\/?$/, overviewPage], [/^\/door\/([^/]+)$/, doorPage], [/^\/devices$/, devicesPage],
  [/^\/users$/, usersPage], [/^\/history$/, historyPage], [/^\/attendance$/, attendancePage],
  [/^\/notifications$/, notificationsPage], [/^\/audit$/, auditPage],
];

async function route() {
  page.cleanups.splice(0).forEach((fn) => fn());
  // A newer navigation (or a sign-out) wins over a slower, older page still loading.
  const generation = ++page.generation;
  const path = decodeURIComponent(location.hash.replace(/^#/, '').split('?')[0]) || '/';
  if (!session.token) { $('#top').hidden = true; return loginPage(); }
  $('#top').hidden = false;
  drawShell();
  realtime.connect();
  const [pattern, render] = ROUTES.find(([re]) => re.test(path)) || ROUTES[0];
  const args = (pattern.exec(path) || []).slice(1);
  const key = path.startsWith('/door') ? 'overview' : (NAV.find(([, href]) => href === `#${path}`)?.[0] || 'overview');
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.key === key) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const root = main();
  root.replaceChildren(h('p', { class: 'muted' }, t('loading')));
  const view = document.createDocumentFragment();
  const holder = h('div');
  try {
    await render(holder, ...args);
  } catch (err) {
    showError(err, holder);
  }
  if (generation !== page.generation) return undefined;
  view.append(...holder.childNodes);
  root.replaceChildren(view);
  document.title = `${$('h1', root)?.textContent || t(key)} · Gerbang`;
  if (route.focus) root.focus();
  route.focus = true;
  return undefined;
}

function signedOut(message) {
  session.token = null;
  session.user = null;
  realtime.close();
  setBadge(0);
  loginPage.message = message;
  if (location.hash !== '#/') location.hash = '#/'; else route();
}

// ---------------------------------------------------------------- sign-in
function loginPage() {
  const root = main();
  const error = h('div', { 'aria-live': 'assertive' });
  if (loginPage.message) { error.append(notice(loginPage.message)); loginPage.message = null; }
  const form = h('form', { class: 'stack', novalidate: true },
    h('label', {}, t('email'), h('input', { name: 'email', type: 'email', autocomplete: 'username', required: true, autofocus: true })),
    h('label', {}, t('password'), h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    h('button', { type: 'submit' }, t('signIn')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const button = $('button', form);
    button.disabled = true;
    try {
      const data = await api('/api/auth/login', { method: 'POST', body: { email: form.email.value.trim(), password: form.password.value } });
      session.token = data.accessToken;
      session.user = data.user;
      location.hash = '#/';
      route();
      loadBadge();
    } catch (err) {
      error.replaceChildren(notice(err.message, 'error'));
    } finally {
      button.disabled = false;
    }
  });
  root.replaceChildren(h('section', { class: 'login card', 'aria-labelledby': 'login-title' },
    h('div', { class: 'brand' }, h('img', { src: '/assets/icon.svg', alt: '', width: 40, height: 40 }), 'Gerbang'),
    h('h1', { id: 'login-title' }, t('signInTitle')),
    h('p', { class: 'muted' }, t('signInLead')),
    error, form,
    h('p', { class: 'lang' }, h('button', { type: 'button', class: 'link', lang: lang === 'id' ? 'en' : 'id', onclick: switchLanguage }, t('other')))));
  document.title = `${t('signIn')} · Gerbang`;
  $('input', form).focus();
}

function switchLanguage() {
  lang = lang === 'id' ? 'en' : 'id';
  localStorage.setItem('gerbang.lang', lang);
  route.focus = false;
  route();
}

// ---------------------------------------------------------------- door widgets
function lockPill(door) {
  if (door.locked === null || door.locked === undefined) return h('span', { class: 'pill' }, t('unknown'));
  return h('span', { class: `pill ${door.locked ? 'ok' : 'warn'}`, dataset: { field: 'locked' } }, door.locked ? t('locked') : t('unlocked'));
}
function onlinePill(door) {
  return h('span', { class: `pill ${door.online ? 'ok' : 'bad'}` }, door.online ? t('online') : t('offline'));
}
function openText(door) {
  if (door.door_open === null || door.door_open === undefined) return t('unknown');
  return door.door_open ? t('open') : t('closed');
}
function batteryView(level) {
  if (level === null || level === undefined) return h('span', {}, '—');
  return h('span', { class: 'battery' },
    h('meter', { min: 0, max: 100, low: 21, high: 50, optimum: 100, value: level, 'aria-label': `${t('battery')} ${level}%` }),
    `${level}%`);
}
function doorFacts(door) {
  return h('dl', { class: 'facts' },
    h('dt', {}, t('lock')), h('dd', { dataset: { field: 'lock' } }, lockPill(door)),
    h('dt', {}, t('door')), h('dd', { dataset: { field: 'open' } }, openText(door)),
    h('dt', {}, t('battery')), h('dd', { dataset: { field: 'battery' } }, batteryView(door.battery_level)),
    h('dt', {}, t('lastUpdate')), h('dd', { dataset: { field: 'updated' }, class: 'small' }, fmtTime(door.last_update)));
}

/** Folds a realtime `device:state` or `device:events` message into a door's view model. */
function applyToDoor(door, name, data) {
  if (name === 'device:state' && data.device === door.device_id) {
    door.online = data.online;
    if (data.locked !== undefined && data.locked !== null) door.locked = data.locked;
    if (data.door_open !== undefined && data.door_open !== null) door.door_open = data.door_open;
    if (data.battery_percent !== undefined && data.battery_percent !== null) door.battery_level = data.battery_percent;
    door.last_update = new Date().toISOString();
    return true;
  }
  if (name !== 'device:events') return false;
  let changed = false;
  for (const e of data) {
    if (e.device !== door.device_id) continue;
    const body = e.event?.body || {};
    switch (e.event?.kind) {
      case 'relay': door.locked = body.locked; break;
      case 'door_opened': case 'forced_open': case 'held_open': door.door_open = true; break;
      case 'door_closed': door.door_open = false; break;
      case 'battery': door.battery_level = body.percent; break;
      default: continue;
    }
    door.online = true;
    door.last_update = e.ts;
    changed = true;
  }
  return changed;
}

async function loadDoors() {
  const data = await api('/api/door/status');
  return Array.isArray(data) ? data : [data];
}

function feedItem(e, fresh) {
  const { text, tone } = describeEvent(e);
  return h('li', { class: fresh ? 'new' : '', dataset: { kind: e.event?.kind || '' } },
    h('time', { datetime: e.ts }, fmtTime(e.ts, false)),
    h('span', { class: `pill ${tone}` }, e.device),
    h('span', {}, text));
}

// ---------------------------------------------------------------- overview
async function overviewPage(root) {
  let doors = [];
  try { doors = await loadDoors(); } catch (err) { if (!(err instanceof ApiFailure && err.status === 404)) throw err; }
  const cards = h('div', { class: 'grid', id: 'doors' });
  const draw = () => cards.replaceChildren(...(doors.length ? doors.map((door) => h('article', { class: 'card door', dataset: { device: door.device_id }, 'aria-label': door.name },
    h('div', { class: 'title' }, h('a', { href: `#/door/${encodeURIComponent(door.device_id)}` }, door.name || door.device_id), onlinePill(door)),
    h('div', { class: 'small muted' }, `${door.device_id} · ${door.site}`),
    doorFacts(door))) : [notice(t('noDoors'))]));
  draw();
  const feed = h('ol', { class: 'feed', id: 'feed', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  const waiting = h('p', { class: 'muted', id: 'feed-waiting' }, t('waiting'));
  root.replaceChildren(
    h('div', { class: 'head' }, h('div', {}, h('h1', {}, t('overview')), h('p', {}, `${doors.length} ${t('doors').toLowerCase()}`))),
    h('div', { class: 'cols' },
      h('section', { 'aria-labelledby': 'doors-title' }, h('h2', { id: 'doors-title' }, t('doors')), cards),
      h('section', { class: 'card', 'aria-labelledby': 'feed-title' }, h('h2', { id: 'feed-title' }, t('latestEvents')), waiting, feed)));
  onRealtime((name, data) => {
    let changed = false;
    for (const door of doors) changed = applyToDoor(door, name, data) || changed;
    if (changed) draw();
    if (name === 'device:events') {
      waiting.hidden = true;
      for (const e of data) {
        if (e.event?.kind === 'battery' && !feed.children.length) continue;
        feed.prepend(feedItem(e, true));
      }
      while (feed.children.length > 30) feed.lastChild.remove();
    }
  });
}

// ---------------------------------------------------------------- one door
async function doorPage(root, id) {
  const door = (await api(`/api/door/status?device_id=${encodeURIComponent(id)}`));
  const facts = h('div', {}, doorFacts(door));
  const status = h('span', {}, onlinePill(door));
  const redraw = () => { facts.replaceChildren(doorFacts(door)); status.replaceChildren(onlinePill(door)); };
  onRealtime((name, data) => { if (applyToDoor(door, name, data)) redraw(); });

  const result = h('div', { 'aria-live': 'polite', id: 'control-result' });
  const seconds = h('input', { type: 'number', name: 'seconds', min: 1, max: 30, value: 5, id: 'unlock-seconds' });
  const send = async (action, button) => {
    button.disabled = true;
    result.replaceChildren(h('p', { class: 'muted' }, t('sending')));
    try {
      const body = { action, device_id: door.device_id };
      if (action === 'unlock') body.duration_ms = Math.round(Number(seconds.value || 5) * 1000);
      const answer = await api('/api/door/control', { method: 'POST', body });
      if (typeof answer.locked === 'boolean') { door.locked = answer.locked; redraw(); }
      result.replaceChildren(notice(answer.message));
    } catch (err) {
      showError(err, result);
    } finally {
      button.disabled = false;
    }
  };
  const control = h('section', { class: 'card', 'aria-labelledby': 'control-title' },
    h('div', { class: 'bar' }, h('h2', { id: 'control-title' }, t('control')), status), facts,
    h('div', { class: 'actions' },
      h('label', {}, `${t('duration')} (${t('seconds')})`, seconds),
      h('button', { type: 'button', id: 'unlock', onclick: (ev) => send('unlock', ev.currentTarget) }, t('unlock')),
      h('button', { type: 'button', id: 'lock', class: 'secondary', onclick: (ev) => send('lock', ev.currentTarget) }, t('lockNow'))),
    result);

  root.replaceChildren(
    h('div', { class: 'head' }, h('div', {}, h('h1', {}, door.name || door.device_id), h('p', {}, `${door.device_id} · ${door.site}`)),
      h('a', { class: 'button secondary', href: '#/' }, t('back'))),
    h('div', { class: 'cols' },
      h('div', {}, control, settingsCard(door), historyCard(door)),
      cameraCard(door)));
}

function settingsCard(door) {
  const slot = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'settings', id: 'settings-form' },
    h('label', {}, t('mode'), h('select', { name: 'mode' }, ['normal', 'locked_down', 'held_open'].map((m) => h('option', { value: m }, WORDS[lang].modes[m])))),
    h('label', {}, `${t('unlockPulse')} (${t('seconds')})`, h('input', { type: 'number', name: 'unlock_secs', min: 1, max: 60, step: 1 })),
    h('label', {}, `${t('heldOpenAlarm')} (${t('seconds')})`, h('input', { type: 'number', name: 'held_open_alarm_secs', min: 1, max: 3600 })),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'camera_active' }), t('cameraOn')),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('save'))));
  const fill = (settings) => {
    if (settings.mode) form.mode.value = settings.mode;
    if (settings.unlock_ms) form.unlock_secs.value = Math.round(settings.unlock_ms / 1000);
    if (settings.held_open_alarm_secs) form.held_open_alarm_secs.value = settings.held_open_alarm_secs;
    form.camera_active.checked = settings.camera_active !== false;
  };
  api(`/api/door/settings?device_id=${encodeURIComponent(door.device_id)}`)
    .then((data) => fill(data.settings || {}))
    .catch((err) => { showError(err, slot); if (err instanceof Missing) form.hidden = true; });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const button = $('button', form);
    button.disabled = true;
    slot.replaceChildren(h('p', { class: 'muted' }, t('sending')));
    const body = { device_id: door.device_id, mode: form.mode.value, camera_active: form.camera_active.checked };
    if (form.unlock_secs.value) body.unlock_ms = Math.round(Number(form.unlock_secs.value) * 1000);
    if (form.held_open_alarm_secs.value) body.held_open_alarm_secs = Number(form.held_open_alarm_secs.value);
    try {
      const answer = await api('/api/door/settings', { method: 'PUT', body });
      if (answer.settings) fill(answer.settings);
      slot.replaceChildren(notice(answer.message || t('ok')));
    } catch (err) { showError(err, slot); } finally { button.disabled = false; }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'settings-title' }, h('h2', { id: 'settings-title' }, t('settings')), slot, form);
}

function cameraCard(door) {
  const view = h('div', { class: 'camera' }, h('div', { class: 'placeholder' }, t('cameraIdle')));
  const slot = h('div', { 'aria-live': 'polite', id: 'camera-result' });
  let streaming = false;
  const streamButton = h('button', { type: 'button', class: 'secondary', id: 'stream' }, t('liveStream'));
  const stop = () => { streaming = false; streamButton.textContent = t('liveStream'); view.replaceChildren(h('div', { class: 'placeholder' }, t('cameraIdle'))); };
  streamButton.addEventListener('click', () => {
    if (streaming) return stop();
    streaming = true;
    streamButton.textContent = t('stopStream');
    // MJPEG over a plain <img>: the `token` cookie (SameSite=Lax) authenticates it.
    const img = h('img', { alt: `${t('liveStream')} ${door.name}`, src: `/api/camera/stream?device=${encodeURIComponent(door.device_id)}` });
    img.addEventListener('error', () => { if (streaming) { stop(); slot.replaceChildren(notice(t('notAvailable'), 'missing')); } });
    view.replaceChildren(img);
  });
  page.cleanups.push(() => { streaming = false; view.replaceChildren(); });
  const snap = h('button', { type: 'button', id: 'snapshot' }, t('snapshot'));
  snap.addEventListener('click', async () => {
    snap.disabled = true;
    slot.replaceChildren(h('p', { class: 'muted' }, t('sending')));
    try {
      const data = await api('/api/camera/capture', { method: 'POST', body: { device_id: door.device_id } });
      const rec = data.recording || {};
      if (rec.url) {
        const image = await api(rec.url, { raw: true });
        const src = URL.createObjectURL(await image.blob());
        page.cleanups.push(() => URL.revokeObjectURL(src));
        if (streaming) stop();
        view.replaceChildren(h('img', { id: 'snapshot-image', alt: `${t('snapshot')} ${door.name} ${fmtTime(rec.timestamp)}`, src }));
      }
      slot.replaceChildren(notice(`${data.message || t('ok')} · ${fmtTime(rec.timestamp)}`));
    } catch (err) { showError(err, slot); } finally { snap.disabled = false; }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'camera-title' },
    h('h2', { id: 'camera-title' }, t('camera')), view, h('div', { class: 'actions' }, snap, streamButton), slot);
}

function historyCard(door) {
  const slot = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  api(`/api/history/access?device_id=${encodeURIComponent(door.device_id)}&limit=10`)
    .then((data) => slot.replaceChildren(historyTable(listOf(data, 'logs', 'history', 'access_logs'), true)))
    .catch((err) => showError(err, slot));
  return h('section', { class: 'card', 'aria-labelledby': 'dh-title' }, h('h2', { id: 'dh-title' }, t('doorHistory')), slot);
}

// ---------------------------------------------------------------- tables
function table(columns, rows, rowAttrs) {
  if (!rows.length) return h('div', { class: 'table-wrap' }, h('p', { class: 'empty' }, t('none')));
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, columns.map(([label, , cls]) => h('th', { scope: 'col', class: cls }, label)))),
    h('tbody', {}, rows.map((row) => h('tr', rowAttrs ? rowAttrs(row) : {}, columns.map(([, cell, cls]) => h('td', { class: cls }, cell(row))))))));
}

function pick(row, ...keys) {
  for (const k of keys) {
    const v = k.split('.').reduce((o, p) => (o == null ? o : o[p]), row);
    if (v !== undefined && v !== null && v !== '') return v;
  }
  return null;
}

function resultPill(row) {
  const success = pick(row, 'success', 'granted');
  const result = pick(row, 'result') ?? (success === null ? null : success ? 'granted' : 'denied');
  if (result === null) return '—';
  const ok = result === 'granted' || result === true || result === 'success';
  return h('span', { class: `pill ${ok ? 'ok' : 'bad'}` }, ok ? t('granted') : t('denied'));
}

/** Access log rows; `oneDevice` leaves out the device column (a door's own page). */
function historyTable(rows, oneDevice) {
  const W = WORDS[lang];
  return table([
    [t('time'), (r) => fmtTime(pick(r, 'timestamp', 'ts', 'at', 'created_at')), 'time'],
    oneDevice ? null : [t('device'), (r) => pick(r, 'device_name', 'device_id', 'device') || '—'],
    [t('person'), (r) => pick(r, 'user_name', 'person_name', 'person.name', 'user.name', 'name') || '—'],
    [t('result'), resultPill],
    [t('method'), (r) => { const m = pick(r, 'method'); return W.methods[m] || m || '—'; }],
    [t('reason'), (r) => { const m = pick(r, 'reason', 'deny_reason'); return W.reasons[m] || m || ''; }],
  ].filter(Boolean), rows);
}

// ---------------------------------------------------------------- devices
async function devicesPage(root) {
  const listSlot = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const load = async () => {
    try {
      const data = await api('/api/devices');
      listSlot.replaceChildren(table([
        [t('device'), (d) => h('a', { href: `#/door/${encodeURIComponent(d.device_id || d.id)}` }, d.name || d.device_id || d.id)],
        ['ID', (d) => d.device_id || d.id],
        [t('site'), (d) => d.site],
        [t('status'), (d) => onlinePill(d)],
        [t('lastSeq'), (d) => d.last_seq ?? '—', 'num'],
        [t('stored'), (d) => d.events_stored ?? '—', 'num'],
        [t('missing'), (d) => d.missing_seqs ?? '—', 'num'],
      ], listOf(data, 'devices')));
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
      const code = await api('/api/devices', { method: 'POST', body: { site: form.site.value.trim(), device_id: form.device_id.value.trim(), name: form.name.value.trim() } });
      const command = code.command || `edge-daemon enroll --cloud ${location.origin} --code ${code.code}`;
      const copy = h('button', { type: 'button', class: 'secondary' }, t('copy'));
      copy.addEventListener('click', async () => {
        try { await navigator.clipboard.writeText(command); copy.textContent = t('copied'); } catch { /* clipboard denied: the text is selectable */ }
      });
      out.replaceChildren(h('div', { class: 'notice' },
        h('p', {}, `${t('oneTimeCode')}: `, h('code', { class: 'code', id: 'enrol-code' }, code.code)),
        h('p', {}, `${t('expires')}: ${fmtTime(code.expires_at)}`),
        h('p', {}, t('runOnDevice')), h('pre', { class: 'command', id: 'enrol-command' }, command), copy));
      form.reset();
      load();
    } catch (err) { showError(err, out); }
  });
  root.replaceChildren(h('div', { class: 'head' }, h('h1', {}, t('devices'))),
    h('section', { class: 'card', 'aria-labelledby': 'enrol-title' }, h('h2', { id: 'enrol-title' }, t('enrolDevice')), form, out),
    h('section', { class: 'card', 'aria-label': t('devices') }, listSlot));
  await load();
}

// ---------------------------------------------------------------- users
const isEnabled = (u) => u.enabled !== false && u.disabled !== true;

async function usersPage(root) {
  const slot = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const dialog = h('dialog', { 'aria-labelledby': 'dialog-title' });
  const load = async () => {
    try {
      const data = await api('/api/users');
      const users = listOf(data, 'users');
      slot.replaceChildren(
        h('p', { class: 'muted' }, `${t('total')}: ${data.total_users ?? data.total ?? users.length}`),
        table([
          [t('name'), (u) => h('div', {}, h('b', {}, u.name || '—'), u.department ? h('div', { class: 'small muted' }, u.department) : null)],
          [t('contact'), (u) => [u.email, u.phone, u.nik].filter(Boolean).join(' · ') || '—'],
          [t('role'), (u) => WORDS[lang].roles[u.role] || u.role || '—'],
          [t('face'), (u) => h('span', { class: `pill ${u.face_registered ? 'ok' : ''}` }, u.face_registered ? t('faceEnrolled') : t('faceMissing'))],
          [t('attendance'), (u) => u.attendance_count ?? '—', 'num'],
          [t('status'), (u) => h('span', { class: `pill ${isEnabled(u) ? 'ok' : 'bad'}` }, isEnabled(u) ? t('active') : t('disabled'))],
          [t('actions'), (u) => h('div', { class: 'actions' },
            h('button', { type: 'button', class: 'ghost', 'aria-label': `${t('edit')}: ${u.name}`, onclick: () => userDialog(dialog, u, load) }, t('edit')),
            h('button', { type: 'button', class: 'ghost', 'aria-label': `${t('enrolFace')}: ${u.name}`, onclick: () => faceDialog(dialog, u, load) }, t('enrolFace')),
            h('button', { type: 'button', class: 'ghost', 'aria-label': `${isEnabled(u) ? t('disable') : t('enable')}: ${u.name}`, onclick: () => setEnabled(u, !isEnabled(u), load) }, isEnabled(u) ? t('disable') : t('enable')),
            h('button', { type: 'button', class: 'ghost', 'aria-label': `${t('delete')}: ${u.name}`, onclick: () => deleteUser(u, load) }, t('delete')))],
        ], users, (u) => ({ dataset: { user: u.id } })));
    } catch (err) { showError(err, slot); }
  };
  root.replaceChildren(h('div', { class: 'head' }, h('h1', {}, t('users')),
    h('button', { type: 'button', id: 'new-user', onclick: () => userDialog(dialog, null, load) }, t('newUser'))), slot, dialog);
  await load();
}

async function setEnabled(user, enabled, reload) {
  try {
    const answer = await api(`/api/users/${encodeURIComponent(user.id)}`, { method: 'PUT', body: { enabled } });
    toast(answer?.message || t('ok'));
    reload();
  } catch (err) { showError(err); }
}

async function deleteUser(user, reload) {
  if (!window.confirm(`${t('confirmDelete')} ${user.name}?`)) return;
  try {
    const answer = await api(`/api/users/${encodeURIComponent(user.id)}`, { method: 'DELETE' });
    toast(answer?.message || t('ok'));
    reload();
  } catch (err) { showError(err); }
}

function closeOnCancel(dialog, form) {
  $('[data-cancel]', form)?.addEventListener('click', () => dialog.close());
}

function userDialog(dialog, user, reload) {
  const slot = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'stack', method: 'dialog' },
    h('label', {}, t('name'), h('input', { name: 'name', required: true, value: user?.name || '' })),
    h('label', {}, t('email'), h('input', { name: 'email', type: 'email', value: user?.email || '' })),
    h('label', {}, `${t('phone')} (${t('optional')})`, h('input', { name: 'phone', type: 'tel', value: user?.phone || '' })),
    h('label', {}, `${t('nik')} (${t('optional')})`, h('input', { name: 'nik', inputmode: 'numeric', value: user?.nik || '' })),
    h('label', {}, `${t('department')} (${t('optional')})`, h('input', { name: 'department', value: user?.department || '' })),
    h('label', {}, `${t('password')} (${t('optional')})`, h('input', { name: 'password', type: 'password', autocomplete: 'new-password', minlength: 8 })),
    h('label', {}, t('role'), h('select', { name: 'role' }, ['member', 'admin'].map((r) => h('option', { value: r, selected: (user?.role || 'member') === r }, WORDS[lang].roles[r])))),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, user ? t('save') : t('create')), h('button', { type: 'button', class: 'secondary', dataset: { cancel: 1 } }, t('cancel'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { name: form.name.value.trim(), role: form.role.value };
    for (const key of ['email', 'phone', 'nik', 'department']) {
      const value = form[key].value.trim();
      if (value) body[key] = value;
    }
    if (form.password?.value) body.password = form.password.value;
    try {
      const answer = user
        ? await api(`/api/users/${encodeURIComponent(user.id)}`, { method: 'PUT', body })
        : await api('/api/users', { method: 'POST', body });
      dialog.close();
      toast(answer?.message || t('ok'));
      reload();
    } catch (err) { showError(err, slot); }
  });
  closeOnCancel(dialog, form);
  dialog.replaceChildren(h('h2', { id: 'dialog-title' }, user ? `${t('edit')}: ${user.name}` : t('newUser')), slot, form);
  dialog.showModal();
}

/** Enrols a face from an uploaded file or the admin's webcam; shows the pipeline's refusal. */
function faceDialog(dialog, user, reload) {
  const slot = h('div', { 'aria-live': 'polite', id: 'face-result' });
  const preview = h('div', { class: 'camera' });
  let stream = null;
  const stopCamera = () => { stream?.getTracks().forEach((tr) => tr.stop()); stream = null; };
  dialog.addEventListener('close', stopCamera, { once: true });
  const submit = async (blob, name) => {
    const form = new FormData();
    form.append('photo', blob, name);
    slot.replaceChildren(h('p', { class: 'muted' }, t('sending')));
    try {
      const answer = await api(`/api/users/${encodeURIComponent(user.id)}/face-register`, { method: 'POST', form });
      slot.replaceChildren(notice(answer?.message || t('enrolled')));
      reload();
    } catch (err) { showError(err, slot); }
  };
  const file = h('input', { type: 'file', name: 'photo', accept: 'image/jpeg,image/png', id: 'face-file' });
  const uploadForm = h('form', { class: 'stack', id: 'face-upload' },
    h('label', {}, t('photo'), file), h('button', { type: 'submit' }, t('upload')));
  uploadForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!file.files[0]) { slot.replaceChildren(notice(t('chooseFile'), 'error')); return; }
    submit(file.files[0], file.files[0].name);
  });
  const webcamButton = h('button', { type: 'button', class: 'secondary', id: 'webcam' }, t('webcam'));
  webcamButton.addEventListener('click', async () => {
    if (stream) {
      const video = $('video', preview);
      const canvas = h('canvas', { width: video.videoWidth, height: video.videoHeight });
      canvas.getContext('2d').drawImage(video, 0, 0);
      canvas.toBlob((blob) => submit(blob, 'webcam.jpg'), 'image/jpeg', 0.92);
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
      const video = h('video', { autoplay: true, playsinline: true, muted: true, 'aria-label': t('webcam') });
      video.srcObject = stream;
      preview.replaceChildren(video);
      webcamButton.textContent = t('capture');
    } catch (err) {
      slot.replaceChildren(notice(`${t('webcamDenied')}: ${err.message}`, 'error'));
    }
  });
  dialog.replaceChildren(h('h2', { id: 'dialog-title' }, `${t('enrolFace')}: ${user.name}`), slot, uploadForm,
    h('fieldset', {}, h('legend', {}, t('webcam')), preview, h('div', { class: 'actions' }, webcamButton)),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, t('cancel'))));
  dialog.showModal();
}

// ---------------------------------------------------------------- access history
function dateInput(name, value) { return h('input', { type: 'date', name, value: value || '' }); }

async function historyPage(root) {
  const slot = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const stats = h('div', { class: 'stats', 'aria-label': t('history') });
  // Keyset paging: the cursors of the pages seen so far, for "previous".
  let cursors = [null];
  const limit = 25;
  const form = h('form', { class: 'inline', id: 'history-filters', role: 'search' },
    h('label', {}, t('from'), dateInput('from')), h('label', {}, t('to'), dateInput('to')),
    h('label', {}, t('device'), h('input', { name: 'device_id', size: 10 })),
    h('label', {}, t('result'), h('select', { name: 'result' }, h('option', { value: '' }, t('all')), h('option', { value: 'granted' }, t('granted')), h('option', { value: 'denied' }, t('denied')))),
    h('label', {}, t('method'), h('select', { name: 'method' }, h('option', { value: '' }, t('all')), Object.entries(WORDS[lang].methods).map(([v, l]) => h('option', { value: v }, l)))),
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
      const data = await api(`/api/history/access?${p}`);
      const rows = listOf(data, 'logs', 'history', 'access_logs');
      const info = data.pagination || {};
      const pages = info.total === undefined || info.total === null ? null : Math.max(1, Math.ceil(info.total / limit));
      slot.replaceChildren(historyTable(rows), h('div', { class: 'pager' },
        info.total === undefined || info.total === null ? null : h('span', { class: 'muted small' }, `${t('total')}: ${info.total}`),
        h('button', { type: 'button', class: 'secondary', disabled: cursors.length <= 1, onclick: () => { cursors.pop(); load(); } }, t('prev')),
        h('span', {}, `${t('page')} ${cursors.length}${pages ? ` / ${pages}` : ''}`),
        h('button', { type: 'button', class: 'secondary', disabled: !info.has_more, onclick: () => { cursors.push(info.next_cursor); load(); } }, t('next'))));
    } catch (err) { showError(err, slot); }
  };
  const loadStats = async () => {
    try {
      const p = filters();
      const data = await api(`/api/analytics/dashboard?${p}`);
      const s = data.totals || data;
      stats.replaceChildren(...[
        [t('total'), s.total], [t('granted'), s.granted], [t('denied'), s.denied],
        [t('successRate'), s.success_rate === undefined ? undefined : `${s.success_rate}%`],
        [t('uniqueUsers'), data.unique_users], [t('unknownFaces'), data.unknown_faces],
      ].filter(([, v]) => v !== undefined && v !== null).map(([label, v]) => h('div', { class: 'stat' }, h('span', { class: 'muted small' }, label), h('b', {}, String(v)))));
    } catch { stats.replaceChildren(); }
  };
  const reload = () => { cursors = [null]; load(); loadStats(); };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); reload(); });
  form.addEventListener('reset', () => setTimeout(reload, 0));
  const exportSlot = h('div', { 'aria-live': 'polite' });
  const exportButton = (format) => h('button', { type: 'button', class: 'secondary', id: `export-${format}`, onclick: async (ev) => {
    const button = ev.currentTarget;
    button.disabled = true;
    try {
      const body = Object.fromEntries(filters());
      body.format = format;
      await download('/api/analytics/export', { method: 'POST', body }, `access-history.${format}`);
      exportSlot.replaceChildren();
    } catch (err) { showError(err, exportSlot); } finally { button.disabled = false; }
  } }, `${t('export')} ${format.toUpperCase()}`);
  root.replaceChildren(h('div', { class: 'head' }, h('h1', {}, t('history')),
    h('div', { class: 'actions' }, ['csv', 'xlsx', 'pdf'].map(exportButton))), exportSlot, stats,
    h('section', { class: 'card' }, form), slot);
  onRealtime((name, data) => {
    if (name === 'device:events' && cursors.length === 1 && data.some((e) => e.event?.kind === 'access_decision')) { load(); loadStats(); }
  });
  await Promise.all([load(), loadStats()]);
}

// ---------------------------------------------------------------- attendance
async function attendancePage(root) {
  const slot = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const form = h('form', { class: 'inline', id: 'attendance-day' },
    // Empty at first: the server answers the site's today (its time zone, not the browser's).
    h('label', {}, t('day'), dateInput('date', '')),
    h('label', {}, `${t('department')} (${t('optional')})`, h('input', { name: 'department' })),
    h('button', { type: 'submit' }, t('filter')));
  const exportSlot = h('div', { 'aria-live': 'polite' });
  /** GET /api/attendance/daily: `{date, totals, people: [{name, department, check_in, check_out, status}]}`. */
  const query = (format) => {
    const params = new URLSearchParams();
    if (form.date.value) params.set('date', form.date.value);
    if (form.department.value.trim()) params.set('department', form.department.value.trim());
    if (format) params.set('format', format);
    return `/api/attendance/daily?${params}`;
  };
  const pill = (status) => h('span', { class: `pill ${status === 'absent' ? 'bad' : status === 'late' ? 'warn' : 'ok'}` },
    status === 'absent' ? t('absent') : status === 'late' ? t('late') : t('present'));
  const dayTable = (rows) => table([
    [t('name'), (r) => r.name || '—'],
    [t('department'), (r) => r.department || '—'],
    [t('checkIn'), (r) => fmtTime(r.check_in, false)],
    [t('checkOut'), (r) => fmtTime(r.check_out, false)],
    [t('status'), (r) => pill(r.status)],
  ], rows, (r) => ({ 'data-status': r.status }));
  const load = async () => {
    try {
      const data = await api(query());
      if (data.date) form.date.value = data.date;
      const totals = data.totals || {};
      slot.replaceChildren(
        h('p', { class: 'muted', id: 'attendance-totals' },
          `${t('present')} ${totals.present ?? 0} · ${t('late')} ${totals.late ?? 0} · ${t('absent')} ${totals.absent ?? 0}`),
        dayTable(data.people || []));
    } catch (err) { showError(err, slot); }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  const exportButton = h('button', { type: 'button', class: 'secondary', id: 'attendance-csv', onclick: async () => {
    try { await download(query('csv'), {}, `attendance-${form.date.value}.csv`); } catch (err) { showError(err, exportSlot); }
  } }, `${t('export')} CSV`);
  root.replaceChildren(h('div', { class: 'head' }, h('h1', {}, t('attendance')), exportButton), exportSlot,
    h('section', { class: 'card' }, form), slot);
  await load();
}

// ---------------------------------------------------------------- notifications
async function notificationsPage(root) {
  const slot = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const load = async () => {
    try {
      const data = await api('/api/notifications?limit=100');
      setBadge(data.unread ?? 0);
      const rows = listOf(data, 'notifications');
      slot.replaceChildren(rows.length ? table([
        [t('time'), (n) => fmtTime(n.created_at)],
        [t('event'), (n) => h('div', {}, h('b', {}, n.title), h('div', { class: 'small' }, n.message))],
        [t('device'), (n) => n.device_id || '—'],
        [t('actions'), (n) => h('div', { class: 'actions' },
          n.read ? null : h('button', { type: 'button', class: 'ghost', onclick: async () => { try { await api(`/api/notifications/${n.id}/read`, { method: 'PUT' }); load(); } catch (err) { showError(err); } } }, t('markRead')),
          h('button', { type: 'button', class: 'ghost', 'aria-label': `${t('delete')}: ${n.title}`, onclick: async () => { try { await api(`/api/notifications/${n.id}`, { method: 'DELETE' }); load(); } catch (err) { showError(err); } } }, t('delete')))],
      ], rows, (n) => ({ class: n.read ? '' : 'unread' })) : h('p', { class: 'empty card' }, t('noNotifications')));
    } catch (err) { showError(err, slot); }
  };
  root.replaceChildren(h('div', { class: 'head' }, h('h1', {}, t('notifications'))), slot);
  onRealtime((name) => { if (name === 'notification') load(); });
  await load();
}

// ---------------------------------------------------------------- audit trail
async function auditPage(root) {
  const slot = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const form = h('form', { class: 'inline', role: 'search' },
    h('label', {}, t('action'), h('input', { name: 'action', placeholder: 'door_unlock', size: 14 })),
    h('label', {}, t('limit'), h('select', { name: 'limit' }, [50, 100, 500].map((n) => h('option', { value: n }, String(n))))),
    h('button', { type: 'submit' }, t('filter')));
  const load = async () => {
    const p = new URLSearchParams({ limit: form.limit.value });
    if (form.action.value.trim()) p.set('action', form.action.value.trim());
    try {
      const data = await api(`/api/audit?${p}`);
      slot.replaceChildren(table([
        [t('when'), (a) => fmtTime(a.at)],
        [t('who'), (a) => a.actor || '—'],
        [t('what'), (a) => h('code', {}, a.action)],
        [t('target'), (a) => a.target || '—'],
        [t('result'), (a) => h('span', { class: `pill ${a.success ? 'ok' : 'bad'}` }, a.success ? t('ok') : t('failed'))],
        [t('address'), (a) => a.ip || '—'],
      ], listOf(data, 'entries')));
    } catch (err) { showError(err, slot); }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  root.replaceChildren(h('div', { class: 'head' }, h('h1', {}, t('audit'))), h('section', { class: 'card' }, form), slot);
  await load();
}

// ---------------------------------------------------------------- start
listeners.add((name, data) => {
  if (name === 'notification') { setBadge(unread + 1); toast(data?.title || t('notifications')); }
});
document.addEventListener('DOMContentLoaded', () => {
  $('#lang').addEventListener('click', switchLanguage);
  $('#logout').addEventListener('click', async () => {
    try { await api('/api/auth/logout', { method: 'POST', retry: false }); } catch { /* signed out anyway */ }
    signedOut();
  });
  window.addEventListener('hashchange', route);
  route.focus = false;
  route();
  if (session.token) loadBadge();
});
