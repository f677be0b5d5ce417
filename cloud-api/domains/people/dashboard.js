// @ts-check
// The people domain's page: users (create, change, disable, delete) and face enrolment from
// an uploaded photo or the admin's webcam. Served at /assets/domains/people.js.
import { api, showError } from '../api.js';
import { field, h, notice, table, toast } from '../dom.js';
import { addWords, group, t } from '../i18n.js';
import { addNav, addRoute, hasRole } from '../router.js';

addWords({
  id: {
    users: 'Pengguna', role: 'Peran', active: 'Aktif', disabled: 'Nonaktif', edit: 'Ubah',
    disable: 'Nonaktifkan', enable: 'Aktifkan', newUser: 'Pengguna baru', face: 'Wajah',
    enrolFace: 'Daftarkan wajah', upload: 'Unggah foto', webcam: 'Kamera laptop', capture: 'Ambil & kirim',
    photo: 'Foto wajah', faceEnrolled: 'Terdaftar', faceMissing: 'Belum', phone: 'Telepon', nik: 'NIK',
    department: 'Departemen', attendance: 'Kehadiran', contact: 'Kontak',
    webcamDenied: 'Kamera tidak dapat dipakai', chooseFile: 'Pilih foto dulu',
    consent: 'Persetujuan', consentFirst: 'Centang persetujuan orang ini dulu',
    confirmDelete: 'Hapus pengguna ini beserta wajah dan kehadirannya:',
    roles: { admin: 'Admin', member: 'Anggota' },
  },
  en: {
    users: 'Users', role: 'Role', active: 'Active', disabled: 'Disabled', edit: 'Edit',
    disable: 'Disable', enable: 'Enable', newUser: 'New user', face: 'Face',
    enrolFace: 'Enrol face', upload: 'Upload photo', webcam: 'Webcam', capture: 'Capture & send',
    photo: 'Face photo', faceEnrolled: 'Enrolled', faceMissing: 'Not yet', phone: 'Phone', nik: 'NIK',
    department: 'Department', attendance: 'Attendance', contact: 'Contact',
    webcamDenied: 'The camera cannot be used', chooseFile: 'Choose a photo first',
    consent: 'Consent', consentFirst: 'Tick this person\'s consent first',
    confirmDelete: 'Delete this user with their face and attendance:',
    roles: { admin: 'Admin', member: 'Member' },
  },
});

/**
 * A person (`PersonView`, the fields shown here); `GET /api/users` → `{ total_users, users }`.
 * @typedef {{ id: string, name: string, email: string | null, phone: string | null, nik: string | null, role: string, department: string | null, enabled: boolean, face_registered: boolean, attendance_count: number }} Person
 */
/** What a change answers: `{ message, user? }`. */
/** @typedef {{ message: string }} Answer */

async function usersPage(/** @type {HTMLElement} */ root) {
  const slot = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const dialog = h('dialog', { 'aria-labelledby': 'dialog-title' });
  const action = (/** @type {string} */ label, /** @type {Person} */ u, /** @type {() => void} */ run) =>
    h('button', { type: 'button', class: 'ghost', 'aria-label': `${label}: ${u.name}`, onclick: run }, label);
  const load = async () => {
    try {
      /** @type {{ total_users: number, users: Person[] }} */
      const data = await api('/api/users');
      slot.replaceChildren(
        h('p', { class: 'muted' }, `${t('total')}: ${data.total_users}`),
        table([
          [t('name'), (u) => h('div', {}, h('b', {}, u.name), u.department ? h('div', { class: 'small muted' }, u.department) : null)],
          [t('contact'), (u) => [u.email, u.phone, u.nik].filter(Boolean).join(' · ') || '—'],
          [t('role'), (u) => group('roles')[u.role] || u.role],
          [t('face'), (u) => h('span', { class: `pill ${u.face_registered ? 'ok' : ''}` }, u.face_registered ? t('faceEnrolled') : t('faceMissing'))],
          [t('attendance'), (u) => u.attendance_count, 'num'],
          [t('status'), (u) => h('span', { class: `pill ${u.enabled ? 'ok' : 'bad'}` }, u.enabled ? t('active') : t('disabled'))],
          [t('actions'), (u) => h('div', { class: 'actions' },
            action(t('edit'), u, () => userDialog(dialog, u, load)),
            action(t('enrolFace'), u, () => faceDialog(dialog, u, load)),
            action(u.enabled ? t('disable') : t('enable'), u, () => setEnabled(u, !u.enabled, load)),
            action(t('delete'), u, () => deleteUser(u, load)))],
        ], data.users, (u) => ({ dataset: { user: u.id } })));
    } catch (err) { showError(err, slot); }
  };
  root.replaceChildren(h('div', { class: 'head' }, h('h1', {}, t('users')),
    h('button', { type: 'button', id: 'new-user', onclick: () => userDialog(dialog, null, load) }, t('newUser'))), slot, dialog);
  await load();
}

async function setEnabled(/** @type {Person} */ user, /** @type {boolean} */ enabled, /** @type {() => void} */ reload) {
  try {
    /** @type {Answer} */
    const answer = await api(`/api/users/${encodeURIComponent(user.id)}`, { method: 'PUT', body: { enabled } });
    toast(answer.message);
    reload();
  } catch (err) { showError(err); }
}

async function deleteUser(/** @type {Person} */ user, /** @type {() => void} */ reload) {
  if (!window.confirm(`${t('confirmDelete')} ${user.name}?`)) return;
  try {
    /** @type {Answer} */
    const answer = await api(`/api/users/${encodeURIComponent(user.id)}`, { method: 'DELETE' });
    toast(answer.message);
    reload();
  } catch (err) { showError(err); }
}

/** Creates a person (`user` null) or changes one. */
function userDialog(/** @type {HTMLDialogElement} */ dialog, /** @type {Person | null} */ user, /** @type {() => void} */ reload) {
  const slot = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'stack', method: 'dialog' },
    h('label', {}, t('name'), h('input', { name: 'name', required: true, value: user?.name || '' })),
    h('label', {}, t('email'), h('input', { name: 'email', type: 'email', value: user?.email || '' })),
    h('label', {}, `${t('phone')} (${t('optional')})`, h('input', { name: 'phone', type: 'tel', value: user?.phone || '' })),
    h('label', {}, `${t('nik')} (${t('optional')})`, h('input', { name: 'nik', inputmode: 'numeric', value: '', placeholder: user?.nik || '' })),
    h('label', {}, `${t('department')} (${t('optional')})`, h('input', { name: 'department', value: user?.department || '' })),
    h('label', {}, `${t('password')} (${t('optional')})`, h('input', { name: 'password', type: 'password', autocomplete: 'new-password', minlength: 8 })),
    h('label', {}, t('role'), h('select', { name: 'role' }, ['member', 'admin'].map((r) => h('option', { value: r, selected: (user?.role || 'member') === r }, group('roles')[r])))),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, user ? t('save') : t('create')),
      h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, t('cancel'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    /** @type {Record<string, string>} */
    const body = { name: field(form, 'name').value.trim(), role: field(form, 'role').value };
    for (const key of ['email', 'phone', 'nik', 'department', 'password']) {
      const value = field(form, key).value.trim();
      if (value) body[key] = key === 'password' ? field(form, key).value : value;
    }
    try {
      /** @type {Answer} */
      const answer = user
        ? await api(`/api/users/${encodeURIComponent(user.id)}`, { method: 'PUT', body })
        : await api('/api/users', { method: 'POST', body });
      dialog.close();
      toast(answer.message);
      reload();
    } catch (err) { showError(err, slot); }
  });
  dialog.replaceChildren(h('h2', { id: 'dialog-title' }, user ? `${t('edit')}: ${user.name}` : t('newUser')), slot, form);
  dialog.showModal();
}

/** Enrols a face from an uploaded file or the admin's webcam; shows the pipeline's refusal. */
function faceDialog(/** @type {HTMLDialogElement} */ dialog, /** @type {Person} */ user, /** @type {() => void} */ reload) {
  const slot = h('div', { 'aria-live': 'polite', id: 'face-result' });
  const preview = h('div', { class: 'camera' });
  /** @type {MediaStream | null} */
  let stream = null;
  const stopCamera = () => { stream?.getTracks().forEach((tr) => tr.stop()); stream = null; };
  dialog.addEventListener('close', stopCamera, { once: true });
  // UU PDP: the person (or the admin acting for them) agrees to the consent text first.
  const consentBox = h('input', { type: 'checkbox', id: 'face-consent', name: 'consent', required: true });
  const consentText = h('span', { id: 'face-consent-text' }, '…');
  api('/api/face-consent')
    .then((/** @type {{ text: string, version: string }} */ c) => { consentText.textContent = `${c.text} (v${c.version})`; })
    .catch((err) => showError(err, slot));
  const consentField = h('fieldset', {}, h('legend', {}, t('consent')),
    h('label', { class: 'check' }, consentBox, consentText));
  const submit = async (/** @type {Blob} */ blob, /** @type {string} */ name) => {
    if (!(/** @type {HTMLInputElement} */ (consentBox)).checked) {
      slot.replaceChildren(notice(t('consentFirst'), 'error'));
      return;
    }
    const form = new FormData();
    form.append('photo', blob, name);
    form.append('consent', 'true');
    slot.replaceChildren(h('p', { class: 'muted' }, t('sending')));
    try {
      /** `POST /api/users/{id}/face-register` → `{ message, user, gallery_version, detection_score, liveness }`. */
      /** @type {Answer} */
      const answer = await api(`/api/users/${encodeURIComponent(user.id)}/face-register`, { method: 'POST', form });
      slot.replaceChildren(notice(answer.message));
      reload();
    } catch (err) { showError(err, slot); }
  };
  const file = h('input', { type: 'file', name: 'photo', accept: 'image/jpeg,image/png', id: 'face-file' });
  const uploadForm = h('form', { class: 'stack', id: 'face-upload' },
    h('label', {}, t('photo'), file), h('button', { type: 'submit' }, t('upload')));
  uploadForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) { slot.replaceChildren(notice(t('chooseFile'), 'error')); return; }
    submit(chosen, chosen.name);
  });
  const webcamButton = h('button', { type: 'button', class: 'secondary', id: 'webcam' }, t('webcam'));
  /** @type {HTMLVideoElement | null} */
  let video = null;
  webcamButton.addEventListener('click', async () => {
    if (stream && video) {
      const canvas = h('canvas', { width: video.videoWidth, height: video.videoHeight });
      canvas.getContext('2d')?.drawImage(video, 0, 0);
      canvas.toBlob((blob) => { if (blob) submit(blob, 'webcam.jpg'); }, 'image/jpeg', 0.92);
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
      video = h('video', { autoplay: true, playsinline: true, muted: true, 'aria-label': t('webcam') });
      video.srcObject = stream;
      preview.replaceChildren(video);
      webcamButton.textContent = t('capture');
    } catch (err) {
      slot.replaceChildren(notice(`${t('webcamDenied')}: ${err instanceof Error ? err.message : String(err)}`, 'error'));
    }
  });
  dialog.replaceChildren(h('h2', { id: 'dialog-title' }, `${t('enrolFace')}: ${user.name}`), slot, consentField, uploadForm,
    h('fieldset', {}, h('legend', {}, t('webcam')), preview, h('div', { class: 'actions' }, webcamButton)),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, t('cancel'))));
  dialog.showModal();
}

addNav('users', '#/users', 30, hasRole('access', 'admin'));
addRoute(/^\/users$/, usersPage, 'users');
