// @ts-check
// The camera domain's part of the dashboard: on a door's page, the door's settings (kept by
// this domain, `/api/door/settings`) and its camera (snapshots, the live MJPEG stream).
// Served at /assets/domains/camera.js.
import { Missing, api, call, showError } from '../api.js';
import { field, fmtTime, h, notice } from '../dom.js';
import { addWords, group, t } from '../i18n.js';
import { addPart, onLeave } from '../router.js';

addWords({
  id: {
    settings: 'Pengaturan', mode: 'Mode', camera: 'Kamera', snapshot: 'Ambil foto',
    liveStream: 'Siaran langsung', stopStream: 'Hentikan siaran',
    cameraIdle: 'Belum ada gambar. Ambil foto atau mulai siaran langsung.',
    unlockPulse: 'Lama buka untuk wajah dikenal', heldOpenAlarm: 'Alarm pintu tertahan', cameraOn: 'Kamera aktif',
    modes: { normal: 'Normal', locked_down: 'Terkunci penuh', held_open: 'Terbuka terus' },
  },
  en: {
    settings: 'Settings', mode: 'Mode', camera: 'Camera', snapshot: 'Take snapshot',
    liveStream: 'Live stream', stopStream: 'Stop stream',
    cameraIdle: 'No picture yet. Take a snapshot or start the live stream.',
    unlockPulse: 'Unlock time for a known face', heldOpenAlarm: 'Held-open alarm', cameraOn: 'Camera on',
    modes: { normal: 'Normal', locked_down: 'Locked down', held_open: 'Held open' },
  },
});

/** The door as the access module hands it to its parts (`DoorStatusView`). */
/** @typedef {{ device_id: string, name: string }} Door */
/**
 * A door's settings (`protocol::DoorSettings`; absent fields are the device's defaults).
 * @typedef {{ mode?: string, unlock_ms?: number, held_open_alarm_secs?: number, camera_active?: boolean }} DoorSettings
 */
/**
 * A stored snapshot (`RecordingView`).
 * @typedef {{ id: string, device_id: string, filename: string, timestamp: string, event_type: string, file_size: number, url: string }} Recording
 */

function settingsCard(/** @type {Door} */ door) {
  const slot = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'settings', id: 'settings-form' },
    h('label', {}, t('mode'), h('select', { name: 'mode' }, ['normal', 'locked_down', 'held_open'].map((m) => h('option', { value: m }, group('modes')[m])))),
    h('label', {}, `${t('unlockPulse')} (${t('seconds')})`, h('input', { type: 'number', name: 'unlock_secs', min: 1, max: 60, step: 1 })),
    h('label', {}, `${t('heldOpenAlarm')} (${t('seconds')})`, h('input', { type: 'number', name: 'held_open_alarm_secs', min: 1, max: 3600 })),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'camera_active' }), t('cameraOn')),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('save'))));
  const mode = /** @type {HTMLSelectElement} */ (/** @type {unknown} */ (field(form, 'mode')));
  const unlockSecs = field(form, 'unlock_secs');
  const heldOpen = field(form, 'held_open_alarm_secs');
  const cameraActive = field(form, 'camera_active');
  const fill = (/** @type {DoorSettings} */ settings) => {
    if (settings.mode) mode.value = settings.mode;
    if (settings.unlock_ms) unlockSecs.value = String(Math.round(settings.unlock_ms / 1000));
    if (settings.held_open_alarm_secs) heldOpen.value = String(settings.held_open_alarm_secs);
    cameraActive.checked = settings.camera_active !== false;
  };
  /** `GET /api/door/settings` → `{ device_id, settings }`. */
  api(`/api/door/settings?device_id=${encodeURIComponent(door.device_id)}`)
    .then((/** @type {{ settings: DoorSettings }} */ data) => fill(data.settings))
    .catch((err) => { showError(err, slot); if (err instanceof Missing) form.hidden = true; });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const button = /** @type {HTMLButtonElement} */ (form.querySelector('button'));
    button.disabled = true;
    slot.replaceChildren(h('p', { class: 'muted' }, t('sending')));
    /** @type {DoorSettings & { device_id: string }} */
    const body = { device_id: door.device_id, mode: mode.value, camera_active: cameraActive.checked };
    if (unlockSecs.value) body.unlock_ms = Math.round(Number(unlockSecs.value) * 1000);
    if (heldOpen.value) body.held_open_alarm_secs = Number(heldOpen.value);
    try {
      /** `PUT /api/door/settings` → `{ message, device_id, settings, status, command_id, ack }`. */
      /** @type {{ message: string, settings: DoorSettings }} */
      const answer = await api('/api/door/settings', { method: 'PUT', body });
      fill(answer.settings);
      slot.replaceChildren(notice(answer.message));
    } catch (err) { showError(err, slot); } finally { button.disabled = false; }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'settings-title' }, h('h2', { id: 'settings-title' }, t('settings')), slot, form);
}

function cameraCard(/** @type {Door} */ door) {
  const idle = () => h('div', { class: 'placeholder' }, t('cameraIdle'));
  const view = h('div', { class: 'camera' }, idle());
  const slot = h('div', { 'aria-live': 'polite', id: 'camera-result' });
  let streaming = false;
  const streamButton = h('button', { type: 'button', class: 'secondary', id: 'stream' }, t('liveStream'));
  const stop = () => { streaming = false; streamButton.textContent = t('liveStream'); view.replaceChildren(idle()); };
  streamButton.addEventListener('click', () => {
    if (streaming) { stop(); return; }
    streaming = true;
    streamButton.textContent = t('stopStream');
    // MJPEG over a plain <img>: the `token` cookie (SameSite=Lax) authenticates it.
    const img = h('img', { alt: `${t('liveStream')} ${door.name}`, src: `/api/camera/stream?device=${encodeURIComponent(door.device_id)}` });
    img.addEventListener('error', () => { if (streaming) { stop(); slot.replaceChildren(notice(t('notAvailable'), 'missing')); } });
    view.replaceChildren(img);
  });
  onLeave(() => { streaming = false; view.replaceChildren(); });
  const snap = h('button', { type: 'button', id: 'snapshot' }, t('snapshot'));
  snap.addEventListener('click', async () => {
    snap.disabled = true;
    slot.replaceChildren(h('p', { class: 'muted' }, t('sending')));
    try {
      /** `POST /api/camera/capture` → `{ message, recording }`. */
      /** @type {{ message: string, recording: Recording }} */
      const data = await api('/api/camera/capture', { method: 'POST', body: { device_id: door.device_id } });
      const rec = data.recording;
      const image = await call(rec.url);
      const src = URL.createObjectURL(await image.blob());
      onLeave(() => URL.revokeObjectURL(src));
      if (streaming) stop();
      view.replaceChildren(h('img', { id: 'snapshot-image', alt: `${t('snapshot')} ${door.name} ${fmtTime(rec.timestamp)}`, src }));
      slot.replaceChildren(notice(`${data.message} · ${fmtTime(rec.timestamp)}`));
    } catch (err) { showError(err, slot); } finally { snap.disabled = false; }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'camera-title' },
    h('h2', { id: 'camera-title' }, t('camera')), view, h('div', { class: 'actions' }, snap, streamButton), slot);
}

addPart('door', 20, settingsCard);
addPart('door-side', 10, cameraCard);
