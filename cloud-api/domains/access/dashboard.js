// @ts-check
// The access domain's pages: the overview (every door, the live event feed) and a door's
// own page (its state and remote control; other domains add cards to it through the `door`
// and `door-side` parts). Served at /assets/domains/access.js.
import { ApiFailure, api, showError } from '../api.js';
import { fmtTime, h, notice } from '../dom.js';
import { addWords, group, t, word } from '../i18n.js';
import { onRealtime } from '../realtime.js';
import { addNav, addRoute, hasRole, partsOf } from '../router.js';

addWords({
  id: {
    overview: 'Ringkasan', doors: 'Pintu', latestEvents: 'Kejadian terbaru', waiting: 'Menunggu kejadian…',
    locked: 'Terkunci', unlocked: 'Tidak terkunci', open: 'Terbuka', closed: 'Tertutup',
    battery: 'Baterai', lock: 'Kunci', door: 'Pintu', lastUpdate: 'Pembaruan terakhir',
    noDoors: 'Belum ada pintu. Daftarkan perangkat di halaman Perangkat.',
    unlock: 'Buka kunci', lockNow: 'Kunci sekarang', duration: 'Lama terbuka', control: 'Kendali pintu',
  },
  en: {
    overview: 'Overview', doors: 'Doors', latestEvents: 'Latest events', waiting: 'Waiting for events…',
    locked: 'Locked', unlocked: 'Unlocked', open: 'Open', closed: 'Closed',
    battery: 'Battery', lock: 'Lock', door: 'Door', lastUpdate: 'Last update',
    noDoors: 'No doors yet. Enrol a device on the Devices page.',
    unlock: 'Unlock', lockNow: 'Lock now', duration: 'Open for', control: 'Door control',
  },
});

/**
 * A door as `GET /api/door/status` answers it (`DoorStatusView`).
 * @typedef {{ id: string, device_id: string, site: string, name: string, locked: boolean | null, battery_level: number | null, last_update: string | null, camera_active: boolean | null, door_open: boolean | null, mode: string | null, online: boolean }} Door
 */
/** @typedef {import('../realtime.js').DeviceEvent} DeviceEvent */
/** @typedef {import('../realtime.js').Message} Message */

// ---------------------------------------------------------------- door widgets
function lockPill(/** @type {Door} */ door) {
  if (door.locked === null) return h('span', { class: 'pill' }, t('unknown'));
  return h('span', { class: `pill ${door.locked ? 'ok' : 'warn'}`, dataset: { field: 'locked' } }, door.locked ? t('locked') : t('unlocked'));
}
function onlinePill(/** @type {Door} */ door) {
  return h('span', { class: `pill ${door.online ? 'ok' : 'bad'}` }, door.online ? t('online') : t('offline'));
}
function openText(/** @type {Door} */ door) {
  if (door.door_open === null) return t('unknown');
  return door.door_open ? t('open') : t('closed');
}
function batteryView(/** @type {number | null} */ level) {
  if (level === null) return h('span', {}, '—');
  return h('span', { class: 'battery' },
    h('meter', { min: 0, max: 100, low: 21, high: 50, optimum: 100, value: level, 'aria-label': `${t('battery')} ${level}%` }),
    `${level}%`);
}
function doorFacts(/** @type {Door} */ door) {
  return h('dl', { class: 'facts' },
    h('dt', {}, t('lock')), h('dd', { dataset: { field: 'lock' } }, lockPill(door)),
    h('dt', {}, t('door')), h('dd', { dataset: { field: 'open' } }, openText(door)),
    h('dt', {}, t('battery')), h('dd', { dataset: { field: 'battery' } }, batteryView(door.battery_level)),
    h('dt', {}, t('lastUpdate')), h('dd', { dataset: { field: 'updated' }, class: 'small' }, fmtTime(door.last_update)));
}

/** Folds a realtime `device:state` or `device:events` message into a door's view model. */
function applyToDoor(/** @type {Door} */ door, /** @type {Message} */ m) {
  if (m.name === 'device:state') {
    const s = m.data;
    if (s.device !== door.device_id) return false;
    door.online = s.online;
    if (s.locked !== undefined && s.locked !== null) door.locked = s.locked;
    if (s.door_open !== undefined && s.door_open !== null) door.door_open = s.door_open;
    if (s.battery_percent !== undefined && s.battery_percent !== null) door.battery_level = s.battery_percent;
    door.last_update = new Date().toISOString();
    return true;
  }
  if (m.name !== 'device:events') return false;
  let changed = false;
  for (const e of m.data) {
    if (e.device !== door.device_id) continue;
    const body = e.event.body || {};
    switch (e.event.kind) {
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

/** One line of the live feed: what a stored device event says, in words. */
function describeEvent(/** @type {DeviceEvent} */ e) {
  const { kind } = e.event;
  const body = e.event.body || {};
  const ev = group('ev');
  switch (kind) {
    case 'access_decision': {
      const granted = body.result === 'granted';
      const parts = [ev[granted ? 'access_granted' : 'access_denied']];
      if (body.person) parts.push(`— ${body.person.name}`);
      const extra = [word('methods', body.method)];
      if (body.reason) extra.push(word('reasons', body.reason));
      return { text: `${parts.join(' ')} (${extra.filter(Boolean).join(', ')})`, tone: granted ? 'ok' : 'bad' };
    }
    case 'relay':
      return { text: ev[body.locked ? 'relay_locked' : 'relay_unlocked'], tone: body.locked ? '' : 'warn' };
    case 'battery':
      return { text: `${ev.battery} ${body.percent}%`, tone: body.percent <= 20 ? 'bad' : '' };
    case 'attendance':
      return { text: `${ev.attendance} — ${body.person.name} (${word('directions', body.direction)}${body.late ? `, ${t('late')}` : ''})`, tone: 'ok' };
    case 'forced_open': case 'held_open':
      return { text: ev[kind], tone: 'bad' };
    case 'dropped':
      return { text: `${ev.dropped}: ${body.count}`, tone: 'bad' };
    default:
      return { text: ev[kind] || kind, tone: '' };
  }
}

function feedItem(/** @type {DeviceEvent} */ e) {
  const { text, tone } = describeEvent(e);
  return h('li', { class: 'new', dataset: { kind: e.event.kind } },
    h('time', { datetime: e.ts }, fmtTime(e.ts, false)),
    h('span', { class: `pill ${tone}` }, e.device),
    h('span', {}, text));
}

/** Every door: one door's status, or a list when there are several. */
async function loadDoors() {
  /** @type {Door | Door[]} */
  const data = await api('/api/door/status');
  return Array.isArray(data) ? data : [data];
}

// ---------------------------------------------------------------- overview
async function overviewPage(/** @type {HTMLElement} */ root) {
  /** @type {Door[]} */
  let doors = [];
  // No door yet is a 404 with the server's message.
  try { doors = await loadDoors(); } catch (err) { if (!(err instanceof ApiFailure && err.status === 404)) throw err; }
  const cards = h('div', { class: 'grid', id: 'doors' });
  const draw = () => cards.replaceChildren(...(doors.length ? doors.map((door) => h('article', { class: 'card door', dataset: { device: door.device_id }, 'aria-label': door.name },
    h('div', { class: 'title' }, h('a', { href: `#/door/${encodeURIComponent(door.device_id)}` }, door.name), onlinePill(door)),
    h('div', { class: 'small muted' }, `${door.device_id} · ${door.site}`),
    doorFacts(door))) : [notice(t('noDoors'))]));
  draw();
  const feed = h('ol', { class: 'feed', id: 'feed', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  const waiting = h('p', { class: 'muted', id: 'feed-waiting' }, t('waiting'));
  root.replaceChildren(
    h('div', { class: 'head' }, h('div', {}, h('h1', {}, t('overview')), h('p', {}, `${doors.length} ${t('doors').toLowerCase()}`))),
    h('div', { class: 'cols' },
      h('section', { 'aria-labelledby': 'doors-title' }, h('h2', { id: 'doors-title' }, t('doors')), cards),
      h('section', { class: 'card', 'aria-labelledby': 'feed-title' }, h('h2', { id: 'feed-title' }, t('latestEvents')), waiting, feed)),
    ...partsOf('overview', null));
  onRealtime((m) => {
    let changed = false;
    for (const door of doors) changed = applyToDoor(door, m) || changed;
    if (changed) draw();
    if (m.name === 'device:events') {
      waiting.hidden = true;
      for (const e of m.data) {
        if (e.event.kind === 'battery' && !feed.children.length) continue;
        feed.prepend(feedItem(e));
      }
      while (feed.children.length > 30) feed.lastChild?.remove();
    }
  });
}

// ---------------------------------------------------------------- one door
async function doorPage(/** @type {HTMLElement} */ root, /** @type {string} */ id) {
  /** @type {Door} */
  const door = await api(`/api/door/status?device_id=${encodeURIComponent(id)}`);
  const facts = h('div', {}, doorFacts(door));
  const status = h('span', {}, onlinePill(door));
  const redraw = () => { facts.replaceChildren(doorFacts(door)); status.replaceChildren(onlinePill(door)); };
  onRealtime((m) => { if (applyToDoor(door, m)) redraw(); });

  const result = h('div', { 'aria-live': 'polite', id: 'control-result' });
  const seconds = h('input', { type: 'number', name: 'seconds', min: 1, max: 30, value: 5, id: 'unlock-seconds' });
  const send = async (/** @type {'unlock' | 'lock'} */ action, /** @type {HTMLButtonElement} */ button) => {
    button.disabled = true;
    result.replaceChildren(h('p', { class: 'muted' }, t('sending')));
    try {
      /** @type {{ action: string, device_id: string, duration_ms?: number }} */
      const body = { action, device_id: door.device_id };
      if (action === 'unlock') body.duration_ms = Math.round(Number(seconds.value || 5) * 1000);
      /** `POST /api/door/control` → `{ message, status, command_id, locked, ack }`. */
      /** @type {{ message: string, locked: boolean | null }} */
      const answer = await api('/api/door/control', { method: 'POST', body });
      if (typeof answer.locked === 'boolean') { door.locked = answer.locked; redraw(); }
      result.replaceChildren(notice(answer.message));
    } catch (err) {
      showError(err, result);
    } finally {
      button.disabled = false;
    }
  };
  const button = (/** @type {'unlock' | 'lock'} */ action, /** @type {string} */ label, cls = '') => {
    const el = h('button', { type: 'button', id: action, class: cls || null }, label);
    el.addEventListener('click', () => send(action, el));
    return el;
  };
  const control = h('section', { class: 'card', 'aria-labelledby': 'control-title' },
    h('div', { class: 'bar' }, h('h2', { id: 'control-title' }, t('control')), status), facts,
    h('div', { class: 'actions' },
      h('label', {}, `${t('duration')} (${t('seconds')})`, seconds),
      button('unlock', t('unlock')), button('lock', t('lockNow'), 'secondary')),
    result);

  root.replaceChildren(
    h('div', { class: 'head' }, h('div', {}, h('h1', {}, door.name), h('p', {}, `${door.device_id} · ${door.site}`)),
      h('a', { class: 'button secondary', href: '#/' }, t('back'))),
    h('div', { class: 'cols' },
      h('div', {}, control, partsOf('door', door)),
      h('div', {}, partsOf('door-side', door))));
}

addNav('overview', '#/', 10, hasRole('access'));
addRoute(/^\/?$/, overviewPage, 'overview');
addRoute(/^\/door\/([^/]+)$/, doorPage, 'overview');
