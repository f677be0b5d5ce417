// @ts-check
// Words, Indonesian by default with English. The core registers the shell's words and the
// device protocol's vocabulary; every domain module adds its own with `addWords`.

/** @typedef {'id' | 'en'} Lang */
/** @typedef {{ [key: string]: string | { [key: string]: string } }} Words */

/** @type {Record<Lang, Words>} */
const WORDS = { id: {}, en: {} };

/** @type {Lang} */
export let lang = localStorage.getItem('gerbang.lang') === 'en' ? 'en' : 'id';

/** Adds words (later modules may not redefine a key with another meaning). */
export function addWords(/** @type {Record<Lang, Words>} */ words) {
  Object.assign(WORDS.id, words.id);
  Object.assign(WORDS.en, words.en);
}

/** The word for `key` in the current language (Indonesian, then the key, as fallbacks). */
export function t(/** @type {string} */ key) {
  const word = WORDS[lang][key] ?? WORDS.id[key];
  return typeof word === 'string' ? word : key;
}

/** A group of words (`modes`, `methods`, …) keyed by the API's own values. */
export function group(/** @type {string} */ key) {
  const words = WORDS[lang][key] ?? WORDS.id[key];
  return typeof words === 'object' ? words : {};
}

/** The word for an API value in a group, or the value itself. */
export function word(/** @type {string} */ groupKey, /** @type {string | null | undefined} */ value) {
  if (value === null || value === undefined) return '';
  return group(groupKey)[value] ?? value;
}

export const locale = () => (lang === 'en' ? 'en-GB' : 'id-ID');

/** Switches between Indonesian and English, remembered in this browser. */
export function toggleLang() {
  lang = lang === 'id' ? 'en' : 'id';
  localStorage.setItem('gerbang.lang', lang);
}

// The shell's words, and the device protocol's vocabulary (event kinds, attendance
// directions, access methods, denial reasons) that several domains show.
addWords({
  id: {
    skip: 'Lewati ke konten', menu: 'Menu utama', signIn: 'Masuk', signOut: 'Keluar',
    email: 'Email', password: 'Kata sandi', signInTitle: 'Masuk ke dasbor',
    loginId: 'Email, telepon, NIK atau nomor pegawai',
    signInLead: 'Pintu, kehadiran, pesanan makan, SAKIP dan ChatMe dalam satu dasbor.',
    live: 'Langsung', offlineLive: 'Terputus', other: 'English',
    online: 'Daring', offline: 'Luring', unknown: 'Tidak diketahui',
    notAvailable: 'Fitur ini belum tersedia di server ini.', sending: 'Mengirim…', back: 'Kembali',
    time: 'Waktu', device: 'Perangkat', person: 'Orang', result: 'Hasil', method: 'Metode',
    reason: 'Alasan', event: 'Kejadian', all: 'Semua', from: 'Dari', to: 'Sampai',
    granted: 'Diterima', denied: 'Ditolak', filter: 'Terapkan', reset: 'Atur ulang',
    export: 'Ekspor', prev: 'Sebelumnya', next: 'Berikutnya', page: 'Halaman',
    search: 'Cari', none: 'Tidak ada data.', name: 'Nama', status: 'Status',
    actions: 'Tindakan', save: 'Simpan', create: 'Buat', cancel: 'Batal', delete: 'Hapus',
    optional: 'opsional', ok: 'Berhasil', failed: 'Gagal', total: 'Total', limit: 'Batas',
    sessionEnded: 'Sesi berakhir, silakan masuk lagi.', loading: 'Memuat…',
    error: 'Terjadi kesalahan', unread: 'belum dibaca', seconds: 'detik', late: 'Terlambat',
    chartData: 'Lihat angkanya', chartFailed: 'Grafik tidak dapat dimuat.', download: 'Unduh',
    refresh: 'Muat ulang', approve: 'Setujui', reject: 'Tolak', date: 'Tanggal', year: 'Tahun',
    ev: {
      access_granted: 'Akses diterima', access_denied: 'Akses ditolak', attendance: 'Kehadiran',
      relay_locked: 'Kunci terpasang', relay_unlocked: 'Kunci dibuka', door_opened: 'Pintu dibuka',
      door_closed: 'Pintu ditutup', forced_open: 'Pintu dibuka paksa', held_open: 'Pintu tertahan terbuka',
      battery: 'Baterai', device_status: 'Status perangkat', dropped: 'Kejadian terbuang',
    },
    directions: { check_in: 'Masuk', check_out: 'Pulang' },
    methods: { face: 'wajah', remote: 'jarak jauh', local: 'lokal', exit_button: 'tombol keluar' },
    reasons: { unknown_face: 'wajah tak dikenal', liveness_failed: 'uji keaslian gagal', user_disabled: 'pengguna nonaktif',
      outside_schedule: 'di luar jadwal', locked_down: 'penguncian', poor_quality: 'kualitas buruk',
      gallery_stale: 'galeri wajah kedaluwarsa' },
  },
  en: {
    skip: 'Skip to content', menu: 'Main menu', signIn: 'Sign in', signOut: 'Sign out',
    email: 'Email', password: 'Password', signInTitle: 'Sign in to the dashboard',
    loginId: 'Email, phone, NIK or employee number',
    signInLead: 'Doors, attendance, meal orders, SAKIP and ChatMe in one dashboard.',
    live: 'Live', offlineLive: 'Disconnected', other: 'Bahasa Indonesia',
    online: 'Online', offline: 'Offline', unknown: 'Unknown',
    notAvailable: 'This feature is not available on this server yet.', sending: 'Sending…', back: 'Back',
    time: 'Time', device: 'Device', person: 'Person', result: 'Result', method: 'Method',
    reason: 'Reason', event: 'Event', all: 'All', from: 'From', to: 'To',
    granted: 'Granted', denied: 'Denied', filter: 'Apply', reset: 'Reset', export: 'Export',
    prev: 'Previous', next: 'Next', page: 'Page', search: 'Search', none: 'Nothing here.',
    name: 'Name', status: 'Status', actions: 'Actions', save: 'Save', create: 'Create',
    cancel: 'Cancel', delete: 'Delete', optional: 'optional', ok: 'OK', failed: 'Failed',
    total: 'Total', limit: 'Limit',
    sessionEnded: 'Your session ended, please sign in again.', loading: 'Loading…',
    error: 'Something went wrong', unread: 'unread', seconds: 'seconds', late: 'Late',
    chartData: 'Show the numbers', chartFailed: 'The chart could not be loaded.', download: 'Download',
    refresh: 'Reload', approve: 'Approve', reject: 'Reject', date: 'Date', year: 'Year',
    ev: {
      access_granted: 'Access granted', access_denied: 'Access denied', attendance: 'Attendance',
      relay_locked: 'Lock engaged', relay_unlocked: 'Lock released', door_opened: 'Door opened',
      door_closed: 'Door closed', forced_open: 'Door forced open', held_open: 'Door held open',
      battery: 'Battery', device_status: 'Device status', dropped: 'Events dropped',
    },
    directions: { check_in: 'Check-in', check_out: 'Check-out' },
    methods: { face: 'face', remote: 'remote', local: 'local', exit_button: 'exit button' },
    reasons: { unknown_face: 'unknown face', liveness_failed: 'liveness failed', user_disabled: 'user disabled',
      outside_schedule: 'outside schedule', locked_down: 'lockdown', poor_quality: 'poor quality',
      gallery_stale: 'face gallery out of date' },
  },
});
