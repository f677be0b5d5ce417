// @ts-check
// Live updates over Socket.IO (the vendored client, a classic script that defines `io`):
// `device:events`, `device:state` and `notification` (see `platform::realtime`), and any
// event a domain emits to the user's rooms (the meals domain's `order.*`), by name.
import { refresh, session } from './api.js';
import { $ } from './dom.js';
import { t } from './i18n.js';
import { onLeave } from './router.js';

/**
 * A stored event as `device:events` carries it (one element of the batch).
 * @typedef {{ id: string, device: string, seq: number, ts: string, event: { kind: string, body?: any } }} DeviceEvent
 */
/**
 * A device's state as `device:state` carries it.
 * @typedef {{ device: string, site: string, online: boolean, locked?: boolean | null, door_open?: boolean | null, battery_percent?: number | null, camera_active?: boolean | null, mode?: string | null, last_seq: number }} DeviceStateMessage
 */
/**
 * @typedef {{ name: 'device:events', data: DeviceEvent[] } | { name: 'device:state', data: DeviceStateMessage } | { name: 'notification', data: { title: string, message: string } }} Message
 */

/** @type {Set<(message: Message) => void>} */
const listeners = new Set();

/** Listeners of domain events by name (`onEvent`); each gets the event's payload. */
/** @type {Map<string, Set<(data: any) => void>>} */
const named = new Map();

/** @type {any} */
let socket = null;

function setLive(/** @type {boolean} */ on) {
  const el = $('#live');
  el.classList.toggle('on', on);
  el.textContent = on ? t('live') : t('offlineLive');
}

export const realtime = {
  connect() {
    const io = /** @type {any} */ (window).io;
    if (socket || !session.token || typeof io !== 'function') return;
    socket = io({ auth: (/** @type {(auth: object) => void} */ cb) => cb({ token: session.token }), transports: ['websocket', 'polling'] });
    const current = socket;
    current.on('connect', () => setLive(true));
    // The server ends a socket when its access token expires, and refuses a handshake with
    // an expired one; neither is retried by the client, so refresh the token and reconnect.
    // (Transport failures are retried by socket.io itself.)
    current.on('disconnect', (/** @type {string} */ reason) => {
      setLive(false);
      if (reason === 'io server disconnect' && session.token) refresh();
    });
    current.on('connect_error', () => {
      setLive(false);
      if (!current.active && session.token) refresh();
    });
    current.onAny((/** @type {string} */ name, /** @type {any} */ data) => named.get(name)?.forEach((fn) => fn(data)));
    for (const name of ['device:events', 'device:state', 'notification']) {
      current.on(name, (/** @type {any} */ data) => listeners.forEach((fn) => fn(/** @type {Message} */ ({ name, data }))));
    }
  },
  reconnect() {
    if (socket && !socket.connected) socket.connect();
  },
  close() { socket?.close(); socket = null; setLive(false); },
  /** Redraws the live marker (after a language switch). */
  draw() { setLive(Boolean(socket?.connected)); },
};

/** Subscribes for as long as the app runs. */
export function onMessage(/** @type {(message: Message) => void} */ fn) { listeners.add(fn); }

/** Subscribes for the life of the current page. */
export function onRealtime(/** @type {(message: Message) => void} */ fn) {
  listeners.add(fn);
  onLeave(() => listeners.delete(fn));
}

/**
 * Subscribes to a domain's event `name` (e.g. `order.created`); `forPage` ends it when the
 * reader leaves the page, otherwise it lasts as long as the app (a menu badge).
 * @param {string} name
 * @param {(data: any) => void} fn
 * @param {boolean} [forPage]
 */
export function onEvent(name, fn, forPage = true) {
  const set = named.get(name) || new Set();
  set.add(fn);
  named.set(name, set);
  if (forPage) onLeave(() => set.delete(fn));
}
