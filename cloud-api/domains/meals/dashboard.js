// @ts-check
// The meals domain's pages (seed 003, Bebang Pack Meal), one per role: the employee's order
// form and "my orders", the kitchen (dapur) queue per department, the delivery board, and
// for administrators the approval centre (with a live badge in the menu), all orders, master
// data, the four reports with charts and CSV/XLSX/PDF files, and the audit trail. Live
// updates are the domain's Socket.IO events (`order.created`, `order.status.changed`,
// `order.approval.requested`, `order.approval.decided`), which reach the dashboard's socket
// through the user's rooms. Served at /assets/domains/meals.js.
import { api, download, session, showError } from '../api.js';
import { chart } from '../charts.js';
import { domainPages, field, fmtTime, h, notice, table, toast } from '../dom.js';
import { addWords, t, word } from '../i18n.js';
import { onEvent } from '../realtime.js';
import { addNav, addNavExtra, addRoute, hasRole } from '../router.js';

addWords({
  id: {
    meals: 'Makan', mOrder: 'Pesan makan', mMyOrders: 'Pesanan saya', mKitchen: 'Antrean dapur',
    mDelivery: 'Papan pengantaran', mApprovals: 'Persetujuan', mAllOrders: 'Semua pesanan',
    mMaster: 'Data master', mReports: 'Laporan makan', mTrail: 'Riwayat audit makan',
    mShift: 'Shift', mQuantity: 'Jumlah porsi', mDate: 'Tanggal pesanan', mPlace: 'Pesan',
    mPlaced: 'Pesanan dibuat', mCode: 'Kode', mDepartment: 'Departemen', mOrderer: 'Pemesan',
    mStart: 'Mulai', mPrepare: 'Tandai siap', mDeliver: 'Antar', mDone: 'Selesai diantar',
    mAskReject: 'Minta penolakan', mAskEdit: 'Minta ubah jumlah', mNote: 'Catatan (10–500 karakter)',
    mNewQty: 'Jumlah baru', mSend: 'Kirim', mDecision: 'Keputusan', mAdminNote: 'Catatan admin',
    mRequest: 'Permintaan', mKitchenNote: 'Catatan dapur', mNoQueue: 'Tidak ada pesanan dalam antrean.',
    mReady: 'Siap diantar', mOnTheWay: 'Sedang diantar', mDepartments: 'Departemen', mShifts: 'Shift',
    mPositions: 'Jabatan', mAdd: 'Tambah', mDescription: 'Keterangan', mFromTime: 'Jam mulai',
    mToTime: 'Jam selesai', mConsumption: 'Konsumsi per hari', mByDepartment: 'Porsi per departemen',
    mPerformance: 'Rata-rata waktu per departemen (menit)', mRejections: 'Penolakan dan perubahan',
    mOrders: 'Pesanan', mPortions: 'Porsi', mProcessing: 'Sampai diproses', mPreparation: 'Persiapan',
    mDeliveryTime: 'Pengantaran', mOrderHistory: 'Riwayat satu pesanan', mShow: 'Tampilkan',
    mDetail: 'Rincian', mNewOrder: 'Pesanan baru', mNewRequest: 'Permintaan persetujuan baru',
    mStatusNow: 'Status sekarang', mOverride: 'Ubah status (admin)',
    mRequestTypes: { REJECT: 'Penolakan', EDIT: 'Ubah jumlah' },
    mDecisions: { PENDING: 'Menunggu', APPROVED: 'Disetujui', REJECTED: 'Ditolak' },
    mStatus: {
      MENUNGGU: 'Menunggu', IN_PROGRESS: 'Diproses', READY: 'Siap', ON_DELIVERY: 'Diantar',
      COMPLETE: 'Selesai', DITOLAK: 'Ditolak', MENUNGGU_PERSETUJUAN: 'Menunggu persetujuan',
    },
  },
  en: {
    meals: 'Meals', mOrder: 'Order a meal', mMyOrders: 'My orders', mKitchen: 'Kitchen queue',
    mDelivery: 'Delivery board', mApprovals: 'Approvals', mAllOrders: 'All orders',
    mMaster: 'Master data', mReports: 'Meal reports', mTrail: 'Meals audit log',
    mShift: 'Shift', mQuantity: 'Portions', mDate: 'Order date', mPlace: 'Place order',
    mPlaced: 'Order placed', mCode: 'Code', mDepartment: 'Department', mOrderer: 'Ordered by',
    mStart: 'Start', mPrepare: 'Mark ready', mDeliver: 'Deliver', mDone: 'Delivered',
    mAskReject: 'Ask to reject', mAskEdit: 'Ask to change quantity', mNote: 'Note (10–500 characters)',
    mNewQty: 'New quantity', mSend: 'Send', mDecision: 'Decision', mAdminNote: 'Administrator\'s note',
    mRequest: 'Request', mKitchenNote: 'Kitchen note', mNoQueue: 'No orders in the queue.',
    mReady: 'Ready to deliver', mOnTheWay: 'On the way', mDepartments: 'Departments', mShifts: 'Shifts',
    mPositions: 'Positions', mAdd: 'Add', mDescription: 'Description', mFromTime: 'Starts',
    mToTime: 'Ends', mConsumption: 'Consumption per day', mByDepartment: 'Portions per department',
    mPerformance: 'Average times per department (minutes)', mRejections: 'Rejections and changes',
    mOrders: 'Orders', mPortions: 'Portions', mProcessing: 'Until processed', mPreparation: 'Preparation',
    mDeliveryTime: 'Delivery', mOrderHistory: 'One order\'s history', mShow: 'Show',
    mDetail: 'Detail', mNewOrder: 'New order', mNewRequest: 'New approval request',
    mStatusNow: 'Status now', mOverride: 'Change status (admin)',
    mRequestTypes: { REJECT: 'Rejection', EDIT: 'Quantity change' },
    mDecisions: { PENDING: 'Pending', APPROVED: 'Approved', REJECTED: 'Refused' },
    mStatus: {
      MENUNGGU: 'Waiting', IN_PROGRESS: 'In progress', READY: 'Ready', ON_DELIVERY: 'On delivery',
      COMPLETE: 'Complete', DITOLAK: 'Rejected', MENUNGGU_PERSETUJUAN: 'Awaiting approval',
    },
  },
});

const BASE = '/meals/api';

/** @typedef {'MENUNGGU' | 'IN_PROGRESS' | 'READY' | 'ON_DELIVERY' | 'COMPLETE' | 'DITOLAK' | 'MENUNGGU_PERSETUJUAN'} Status */
/**
 * An order (`OrderView`).
 * @typedef {{ id: number, kodePesanan: string, karyawanPemesanId: number, karyawan: { id: number, nomorIndukKaryawan: string | null, namaLengkap: string } | null, departmentId: number, departmentName: string | null, shiftId: number, shiftName: string | null, jumlahPesanan: number, jumlahPesananAwal: number | null, jumlahPesananBaru: number | null, tanggalPesanan: string, statusPesanan: Status, requiresApproval: boolean, approvalStatus: string | null, requestType: string | null, catatanDapur: string | null, catatanAdmin: string | null, waktuDibuat: string, waktuSelesai: string | null }} Order
 */
/** `GET /orders` → `{data, total, page, limit, totalPages}`. */
/** @typedef {{ data: Order[], total: number, page: number, limit: number, totalPages: number }} OrderPage */
/** `DepartmentView`, `ShiftView`, `PositionView`. */
/** @typedef {{ id: number, namaDivisi: string, keterangan: string | null }} Department */
/** @typedef {{ id: number, namaShift: string, jamMulai: string, jamSelesai: string, keterangan: string | null }} Shift */
/** @typedef {{ id: number, namaJabatan: string, departmentId: number | null, keterangan: string | null }} Position */
/** `TrailEntry`. */
/** @typedef {{ id: number, timestamp: string, aksi: string, detail: string, user: { namaLengkap: string, nomorIndukKaryawan: string | null, roleAccess: string | null } | null }} TrailEntry */
/** `order.status.changed` and the other events' payloads (the fields read here). */
/** @typedef {{ orderId: number, departmentId: number, newStatus?: Status, kodePesanan?: string }} OrderEvent */

/** The signed-in user's meals role, if any. */
const role = () => session.user?.roles?.meals || '';

/** The pages of the domain and who opens each. */
const { head, landing } = domainPages('meals', [
  { href: '#/meals/order', key: 'mOrder', roles: ['employee'] },
  { href: '#/meals/kitchen', key: 'mKitchen', roles: ['dapur', 'administrator'] },
  { href: '#/meals/delivery', key: 'mDelivery', roles: ['delivery', 'administrator'] },
  { href: '#/meals/approvals', key: 'mApprovals', roles: ['administrator'] },
  { href: '#/meals/orders', key: 'mAllOrders', roles: ['administrator'] },
  { href: '#/meals/master', key: 'mMaster', roles: ['administrator'] },
  { href: '#/meals/reports', key: 'mReports', roles: ['administrator'] },
  { href: '#/meals/audit', key: 'mTrail', roles: ['administrator'] },
], role);

function statusPill(/** @type {Status} */ status) {
  const tone = { COMPLETE: 'ok', DITOLAK: 'bad', MENUNGGU_PERSETUJUAN: 'warn', READY: 'ok', ON_DELIVERY: 'warn' }[/** @type {string} */ (status)] || '';
  return h('span', { class: `pill ${tone}`, dataset: { status } }, word('mStatus', status));
}

const today = () => new Date(Date.now() + 7 * 3600 * 1000).toISOString().slice(0, 10);
const daysAgo = (/** @type {number} */ n) => new Date(Date.now() + 7 * 3600 * 1000 - n * 86400000).toISOString().slice(0, 10);

/** Reruns `fn` once after a burst of live events (a status change emits to several rooms). */
function debounced(/** @type {() => void} */ fn, ms = 250) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
}

/** Reloads on every order event; `touched` gets each event's order id (to flash it). */
function onOrderEvents(/** @type {() => void} */ reload, /** @type {(id: number) => void} */ touched = () => {}) {
  const again = debounced(reload);
  for (const name of ['order.created', 'order.status.changed', 'order.approval.requested', 'order.approval.decided']) {
    onEvent(name, (/** @type {OrderEvent} */ data) => { touched(data.orderId); again(); });
  }
}

/** `PATCH /orders/{id}/status`. */
async function setStatus(/** @type {Order} */ order, /** @type {Status} */ status, /** @type {string} */ reason = '') {
  try {
    await api(`${BASE}/orders/${order.id}/status`, { method: 'PATCH', body: reason ? { status, reason } : { status } });
  } catch (err) { showError(err); }
}

function actionButton(/** @type {string} */ text, /** @type {() => Promise<void>} */ run, cls = '') {
  const button = h('button', { type: 'button', class: cls || null }, text);
  button.addEventListener('click', async () => { button.disabled = true; try { await run(); } finally { button.disabled = false; } });
  return button;
}

/** One order as a card (kitchen and delivery boards); `flash` marks a live change. */
function orderCard(/** @type {Order} */ o, /** @type {Node[]} */ actions, flash = false) {
  return h('article', { class: `card ${flash ? 'flash' : ''}`, dataset: { order: o.kodePesanan, status: o.statusPesanan } },
    h('div', { class: 'bar' }, h('b', {}, o.kodePesanan), statusPill(o.statusPesanan)),
    h('dl', { class: 'facts' },
      h('dt', {}, t('mOrderer')), h('dd', {}, o.karyawan?.namaLengkap || '—'),
      h('dt', {}, t('mDepartment')), h('dd', {}, o.departmentName || String(o.departmentId)),
      h('dt', {}, t('mShift')), h('dd', {}, o.shiftName || String(o.shiftId)),
      h('dt', {}, t('mQuantity')), h('dd', {}, String(o.jumlahPesanan)),
      h('dt', {}, t('mDate')), h('dd', {}, o.tanggalPesanan)),
    o.catatanDapur ? h('p', { class: 'small muted' }, `${t('mKitchenNote')}: ${o.catatanDapur}`) : null,
    actions.length ? h('div', { class: 'actions' }, actions) : null);
}

function ordersTable(/** @type {Order[]} */ rows, /** @type {Set<number>} */ flash = new Set()) {
  return table([
    [t('mCode'), (o) => h('code', {}, o.kodePesanan)],
    // The status first after the code: on a phone it is what shows without scrolling.
    [t('status'), (o) => statusPill(o.statusPesanan)],
    [t('mQuantity'), (o) => o.jumlahPesanan, 'num'],
    [t('mDate'), (o) => o.tanggalPesanan],
    [t('mShift'), (o) => o.shiftName || String(o.shiftId)],
    [t('mOrderer'), (o) => o.karyawan?.namaLengkap || '—'],
    [t('time'), (o) => fmtTime(o.waktuDibuat)],
  ], rows, (o) => ({ dataset: { order: o.kodePesanan, status: o.statusPesanan }, class: flash.has(o.id) ? 'flash' : null }));
}

// ---------------------------------------------------------------- employee
async function orderPage(/** @type {HTMLElement} */ root) {
  /** @type {Shift[]} */
  const shifts = await api(`${BASE}/shifts`);
  const result = h('div', { 'aria-live': 'polite', id: 'meals-order-result' });
  const form = h('form', { class: 'inline', id: 'meals-order-form' },
    h('label', {}, t('mShift'), h('select', { name: 'shiftId', required: true }, shifts.map((s) => h('option', { value: s.id }, `${s.namaShift} (${s.jamMulai}–${s.jamSelesai})`)))),
    h('label', {}, t('mQuantity'), h('input', { name: 'jumlahPesanan', type: 'number', min: 1, max: 500, value: 1, required: true })),
    h('label', {}, t('mDate'), h('input', { name: 'tanggalPesanan', type: 'date', value: today(), min: today(), required: true })),
    h('button', { type: 'submit' }, t('mPlace')));
  const list = h('div', { id: 'meals-my-orders' }, h('p', { class: 'muted' }, t('loading')));
  /** @type {Set<number>} */
  const flash = new Set();
  const load = async () => {
    try {
      /** @type {OrderPage} */
      const page = await api(`${BASE}/orders?limit=20`);
      list.replaceChildren(ordersTable(page.data, flash));
      flash.clear();
    } catch (err) { showError(err, list); }
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      /** @type {Order} */
      const order = await api(`${BASE}/orders`, { method: 'POST', body: {
        shiftId: Number(field(form, 'shiftId').value),
        jumlahPesanan: Number(field(form, 'jumlahPesanan').value),
        tanggalPesanan: field(form, 'tanggalPesanan').value,
      } });
      result.replaceChildren(notice(`${t('mPlaced')}: ${order.kodePesanan}`));
      flash.add(order.id);
      load();
    } catch (err) { showError(err, result); }
  });
  onOrderEvents(load, (id) => flash.add(id));
  root.replaceChildren(head(t('mOrder')),
    h('section', { class: 'card', 'aria-labelledby': 'meals-form-title' }, h('h2', { id: 'meals-form-title' }, t('mOrder')), form, result),
    h('section', { 'aria-labelledby': 'meals-mine-title' }, h('h2', { id: 'meals-mine-title' }, t('mMyOrders')), list));
  await load();
}

// ---------------------------------------------------------------- kitchen
/** The kitchen's request form (rejection, or a new quantity) under an order's card. */
function requestForm(/** @type {Order} */ o, /** @type {'reject' | 'edit'} */ kind, /** @type {() => void} */ reload) {
  const note = h('textarea', { name: 'catatanDapur', rows: 2, minlength: 10, maxlength: 500, required: true });
  const qty = h('input', { name: 'jumlahPesananBaru', type: 'number', min: 1, max: 500, value: o.jumlahPesanan, required: true });
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'stack' },
    kind === 'edit' ? h('label', {}, t('mNewQty'), qty) : null,
    h('label', {}, t('mNote'), note), h('button', { type: 'submit', class: 'secondary' }, t('mSend')), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const body = kind === 'edit' ? { jumlahPesananBaru: Number(qty.value), catatanDapur: note.value.trim() } : { catatanDapur: note.value.trim() };
      await api(`${BASE}/orders/${o.id}/request-${kind === 'edit' ? 'edit' : 'rejection'}`, { method: 'POST', body });
      reload();
    } catch (err) { showError(err, out); }
  });
  return h('details', {}, h('summary', {}, kind === 'edit' ? t('mAskEdit') : t('mAskReject')), form);
}

async function kitchenPage(/** @type {HTMLElement} */ root) {
  /** @type {Department[]} */
  const departments = await api(`${BASE}/departments`);
  const pick = h('select', { name: 'departmentId', id: 'kitchen-department' },
    h('option', { value: '' }, t('all')), departments.map((d) => h('option', { value: d.id }, d.namaDivisi)));
  const board = h('div', { id: 'kitchen-queue' }, h('p', { class: 'muted' }, t('loading')));
  /** @type {Set<number>} */
  const flash = new Set();
  const admin = role() === 'administrator';
  const load = async () => {
    const p = new URLSearchParams({ limit: '100' });
    if (pick.value) p.set('departmentId', pick.value);
    try {
      /** @type {Order[]} */
      let rows = (/** @type {OrderPage} */ (await api(`${BASE}/orders?${p}`))).data;
      if (admin) rows = rows.filter((o) => ['MENUNGGU', 'IN_PROGRESS', 'MENUNGGU_PERSETUJUAN'].includes(o.statusPesanan));
      const groups = new Map();
      for (const o of rows) groups.set(o.departmentName || String(o.departmentId), [...(groups.get(o.departmentName || String(o.departmentId)) || []), o]);
      board.replaceChildren(...(rows.length ? [...groups.entries()].map(([name, orders]) => h('section', { 'aria-label': name },
        h('h2', {}, `${name} (${orders.length})`),
        h('div', { class: 'grid' }, orders.map((/** @type {Order} */ o) => orderCard(o, admin ? [] : [
          o.statusPesanan === 'MENUNGGU' ? actionButton(t('mStart'), () => setStatus(o, 'IN_PROGRESS').then(load)) : null,
          o.statusPesanan === 'IN_PROGRESS' ? actionButton(t('mPrepare'), () => setStatus(o, 'READY').then(load)) : null,
          o.statusPesanan !== 'MENUNGGU_PERSETUJUAN' ? requestForm(o, 'reject', load) : null,
          o.statusPesanan !== 'MENUNGGU_PERSETUJUAN' ? requestForm(o, 'edit', load) : null,
        ].filter((x) => x !== null).map((x) => /** @type {Node} */ (x)), flash.has(o.id)))))) : [notice(t('mNoQueue'))]));
      flash.clear();
    } catch (err) { showError(err, board); }
  };
  pick.addEventListener('change', load);
  onOrderEvents(load, (id) => flash.add(id));
  root.replaceChildren(head(t('mKitchen')), h('section', { class: 'card' }, h('label', {}, t('mDepartment'), pick)), board);
  await load();
}

// ---------------------------------------------------------------- delivery
async function deliveryPage(/** @type {HTMLElement} */ root) {
  const ready = h('div', { class: 'grid', id: 'delivery-ready' });
  const onTheWay = h('div', { class: 'grid', id: 'delivery-on-the-way' });
  const out = h('div');
  /** @type {Set<number>} */
  const flash = new Set();
  const admin = role() === 'administrator';
  const fill = (/** @type {HTMLElement} */ slot, /** @type {Order[]} */ rows, /** @type {(o: Order) => Node[]} */ actions) =>
    slot.replaceChildren(...(rows.length ? rows.map((o) => orderCard(o, admin ? [] : actions(o), flash.has(o.id))) : [h('p', { class: 'empty' }, t('none'))]));
  const load = async () => {
    try {
      const [r, w] = await Promise.all(['READY', 'ON_DELIVERY'].map((status) => api(`${BASE}/orders?status=${status}&limit=100`)));
      fill(ready, /** @type {OrderPage} */ (r).data, (o) => [actionButton(t('mDeliver'), () => setStatus(o, 'ON_DELIVERY').then(load))]);
      fill(onTheWay, /** @type {OrderPage} */ (w).data, (o) => [actionButton(t('mDone'), () => setStatus(o, 'COMPLETE').then(load))]);
      flash.clear();
      out.replaceChildren();
    } catch (err) { showError(err, out); }
  };
  onOrderEvents(load, (id) => flash.add(id));
  root.replaceChildren(head(t('mDelivery')), out,
    h('div', { class: 'split' },
      h('section', { 'aria-labelledby': 'd-ready' }, h('h2', { id: 'd-ready' }, t('mReady')), ready),
      h('section', { 'aria-labelledby': 'd-way' }, h('h2', { id: 'd-way' }, t('mOnTheWay')), onTheWay)));
  await load();
}

// ---------------------------------------------------------------- administrator
/** Pending approvals, for the menu's badge; `null` until first counted. */
let pending = /** @type {number | null} */ (null);
let countedFor = '';

function setPending(/** @type {number} */ n) {
  pending = Math.max(0, n);
  const badge = document.getElementById('meals-badge');
  if (!badge) return;
  badge.textContent = String(pending);
  badge.hidden = pending === 0;
  badge.setAttribute('aria-label', `${pending} ${t('mApprovals').toLowerCase()}`);
}

async function countPending() {
  try {
    /** @type {Order[]} */
    const rows = await api(`${BASE}/orders/pending-approvals`);
    setPending(rows.length);
  } catch { /* the badge stays as it was */ }
}

/** The live badge after "Meals" in an administrator's menu: requests waiting for a decision. */
function approvalsBadge() {
  if (role() !== 'administrator') return null;
  const user = session.user?.id || '';
  if (countedFor !== user) { countedFor = user; pending = null; setTimeout(countPending, 0); }
  const n = pending || 0;
  return h('span', { class: 'badge', id: 'meals-badge', hidden: n === 0, 'aria-label': `${n} ${t('mApprovals').toLowerCase()}` }, String(n));
}

onEvent('order.approval.requested', () => {
  if (role() !== 'administrator') return;
  setPending((pending || 0) + 1);
  toast(t('mNewRequest'));
}, false);
onEvent('order.approval.decided', () => { if (role() === 'administrator') countPending(); }, false);

async function approvalsPage(/** @type {HTMLElement} */ root) {
  const list = h('div', { class: 'grid', id: 'approvals' }, h('p', { class: 'muted' }, t('loading')));
  const load = async () => {
    try {
      /** @type {Order[]} */
      const rows = await api(`${BASE}/orders/pending-approvals`);
      setPending(rows.length);
      list.replaceChildren(...(rows.length ? rows.map((o) => {
        const note = h('textarea', { name: 'catatanAdmin', rows: 2, required: true });
        const out = h('div', { 'aria-live': 'polite' });
        const decide = (/** @type {'APPROVED' | 'REJECTED'} */ decision) => async () => {
          try {
            await api(`${BASE}/orders/${o.id}/approve-reject`, { method: 'POST', body: { decision, catatanAdmin: note.value.trim() } });
            load();
          } catch (err) { showError(err, out); }
        };
        return orderCard(o, [
          h('p', {}, h('b', {}, `${t('mRequest')}: ${word('mRequestTypes', o.requestType)}`),
            o.requestType === 'EDIT' ? ` → ${o.jumlahPesananBaru}` : ''),
          h('label', {}, t('mAdminNote'), note),
          actionButton(t('approve'), decide('APPROVED')),
          actionButton(t('reject'), decide('REJECTED'), 'danger'),
          out,
        ]);
      }) : [h('p', { class: 'empty card' }, t('none'))]));
    } catch (err) { showError(err, list); }
  };
  onEvent('order.approval.requested', debounced(load));
  onEvent('order.approval.decided', debounced(load));
  root.replaceChildren(head(t('mApprovals')), list);
  await load();
}

async function allOrdersPage(/** @type {HTMLElement} */ root) {
  const status = h('select', { name: 'status' }, h('option', { value: '' }, t('all')),
    Object.keys({ MENUNGGU: 1, IN_PROGRESS: 1, READY: 1, ON_DELIVERY: 1, COMPLETE: 1, DITOLAK: 1, MENUNGGU_PERSETUJUAN: 1 }).map((s) => h('option', { value: s }, word('mStatus', s))));
  const from = h('input', { type: 'date', name: 'tanggalMulai', value: daysAgo(7) });
  const to = h('input', { type: 'date', name: 'tanggalAkhir', value: daysAgo(-7) });
  const slot = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const form = h('form', { class: 'inline', role: 'search' }, h('label', {}, t('status'), status),
    h('label', {}, t('from'), from), h('label', {}, t('to'), to), h('button', { type: 'submit' }, t('filter')));
  /** @type {Set<number>} */
  const flash = new Set();
  const load = async () => {
    const p = new URLSearchParams({ limit: '100', tanggalMulai: from.value, tanggalAkhir: to.value });
    if (status.value) p.set('status', status.value);
    try {
      /** @type {OrderPage} */
      const page = await api(`${BASE}/orders?${p}`);
      slot.replaceChildren(h('p', { class: 'muted small' }, `${t('total')}: ${page.total}`), ordersTable(page.data, flash));
      flash.clear();
    } catch (err) { showError(err, slot); }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  onOrderEvents(load, (id) => flash.add(id));
  root.replaceChildren(head(t('mAllOrders')), h('section', { class: 'card' }, form), slot);
  await load();
}

/**
 * A master-data list with its "add" form.
 * @template T
 * @param {string} title
 * @param {string} path
 * @param {import('../dom.js').Column<T>[]} columns
 * @param {[name: string, label: string, attrs: Record<string, any>][]} fields
 * @param {(form: HTMLFormElement) => Record<string, unknown>} body
 */
function masterSection(title, path, columns, fields, body) {
  const slot = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const out = h('div', { 'aria-live': 'polite' });
  const load = async () => {
    try { slot.replaceChildren(table(columns, /** @type {T[]} */ (await api(`${BASE}/${path}`)))); } catch (err) { showError(err, slot); }
  };
  const form = h('form', { class: 'inline', id: `master-${path}` },
    fields.map(([name, label, attrs]) => h('label', {}, label, attrs.options
      ? h('select', { name }, attrs.options)
      : h('input', { name, ...attrs }))),
    h('button', { type: 'submit' }, t('mAdd')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try { await api(`${BASE}/${path}`, { method: 'POST', body: body(form) }); form.reset(); out.replaceChildren(); load(); } catch (err) { showError(err, out); }
  });
  load();
  return h('section', { class: 'card', 'aria-label': title }, h('h2', {}, title), form, out, slot);
}

async function masterPage(/** @type {HTMLElement} */ root) {
  /** @type {Department[]} */
  const departments = await api(`${BASE}/departments`);
  const text = (/** @type {HTMLFormElement} */ f, /** @type {string} */ n) => field(f, n).value.trim();
  const deptName = (/** @type {number | null} */ id) => departments.find((d) => d.id === id)?.namaDivisi || '—';
  root.replaceChildren(head(t('mMaster')),
    masterSection(t('mDepartments'), 'departments',
      /** @type {import('../dom.js').Column<Department>[]} */ ([['ID', (d) => d.id, 'num'], [t('name'), (d) => d.namaDivisi], [t('mDescription'), (d) => d.keterangan || '—']]),
      [['namaDivisi', t('name'), { required: true }], ['keterangan', t('mDescription'), {}]],
      (f) => ({ namaDivisi: text(f, 'namaDivisi'), keterangan: text(f, 'keterangan') || null })),
    masterSection(t('mShifts'), 'shifts',
      /** @type {import('../dom.js').Column<Shift>[]} */ ([['ID', (s) => s.id, 'num'], [t('name'), (s) => s.namaShift], [t('mFromTime'), (s) => s.jamMulai], [t('mToTime'), (s) => s.jamSelesai]]),
      [['namaShift', t('name'), { required: true }], ['jamMulai', t('mFromTime'), { type: 'time', required: true }], ['jamSelesai', t('mToTime'), { type: 'time', required: true }]],
      (f) => ({ namaShift: text(f, 'namaShift'), jamMulai: text(f, 'jamMulai'), jamSelesai: text(f, 'jamSelesai') })),
    masterSection(t('mPositions'), 'positions',
      /** @type {import('../dom.js').Column<Position>[]} */ ([['ID', (p) => p.id, 'num'], [t('name'), (p) => p.namaJabatan], [t('mDepartment'), (p) => deptName(p.departmentId)]]),
      [['namaJabatan', t('name'), { required: true }], ['departmentId', t('mDepartment'), { options: departments.map((d) => h('option', { value: d.id }, d.namaDivisi)) }]],
      (f) => ({ namaJabatan: text(f, 'namaJabatan'), departmentId: Number(text(f, 'departmentId')) })));
}

/** CSV / XLSX / PDF buttons for a report with the page's filters. */
function fileButtons(/** @type {string} */ path, /** @type {() => URLSearchParams} */ params, /** @type {string} */ id, /** @type {HTMLElement} */ out) {
  return h('div', { class: 'actions' }, ['csv', 'xlsx', 'pdf'].map((format) => {
    const button = h('button', { type: 'button', class: 'secondary', id: `${id}-${format}` }, `${t('download')} ${format.toUpperCase()}`);
    button.addEventListener('click', async () => {
      button.disabled = true;
      const p = params();
      p.set('format', format);
      try { await download(`${BASE}/${path}?${p}`, {}, `${id}.${format}`); } catch (err) { showError(err, out); } finally { button.disabled = false; }
    });
    return button;
  }));
}

/** @typedef {{ period: string, totalOrders: number, totalMeals: number }} ConsumptionRow */
/** @typedef {{ departmentId: number, departmentName: string | null, totalOrders: number, totalMeals: number, percentage: number }} DepartmentRow */
/** @typedef {{ count: number, avgTotalDurationMinutes: number, avgProcessingTimeMinutes: number, avgPreparationTimeMinutes: number, avgDeliveryTimeMinutes: number }} Durations */
/** @typedef {{ overall: Durations, byDepartment: (Durations & { departmentId: number, departmentName: string | null })[], byShift: (Durations & { shiftId: number, shiftName: string | null })[] }} Performance */
/** @typedef {{ kodePesanan: string, departmentName: string | null, shiftName: string | null, requestType: string | null, jumlahPesanan: number, statusPesanan: string, approvalStatus: string | null, catatanDapur: string | null }} RejectionRow */

async function reportsPage(/** @type {HTMLElement} */ root) {
  const from = h('input', { type: 'date', name: 'tanggalMulai', value: daysAgo(30) });
  const to = h('input', { type: 'date', name: 'tanggalAkhir', value: today() });
  const form = h('form', { class: 'inline', role: 'search', id: 'meals-report-filters' },
    h('label', {}, t('from'), from), h('label', {}, t('to'), to), h('button', { type: 'submit' }, t('mShow')));
  const params = () => new URLSearchParams({ tanggalMulai: from.value, tanggalAkhir: to.value });
  const out = h('div', { 'aria-live': 'polite' });
  const slots = { consumption: h('div'), department: h('div'), performance: h('div'), rejections: h('div') };
  const card = (/** @type {keyof typeof slots} */ key, /** @type {string} */ title) => h('section', { class: 'card', 'aria-label': title, id: `meals-report-${key}` },
    slots[key], fileButtons(`reports/${key}`, params, `meals-${key}`, out));
  const load = async () => {
    const p = params();
    try {
      const [consumption, department, performance, rejections] = await Promise.all([
        api(`${BASE}/reports/consumption?${p}&groupBy=DAILY`), api(`${BASE}/reports/department?${p}`),
        api(`${BASE}/reports/performance?${p}`), api(`${BASE}/reports/rejections?${p}&limit=50`)]);
      const c = /** @type {ConsumptionRow[]} */ (consumption);
      slots.consumption.replaceChildren(chart({ title: t('mConsumption'), labels: c.map((r) => r.period),
        series: [{ label: t('mPortions'), data: c.map((r) => r.totalMeals) }, { label: t('mOrders'), data: c.map((r) => r.totalOrders), color: 'warn' }] }));
      const d = /** @type {DepartmentRow[]} */ (department);
      slots.department.replaceChildren(chart({ type: 'doughnut', title: t('mByDepartment'), labels: d.map((r) => r.departmentName || String(r.departmentId)),
        series: [{ label: t('mPortions'), data: d.map((r) => r.totalMeals) }] }));
      const f = /** @type {Performance} */ (performance);
      slots.performance.replaceChildren(chart({ title: t('mPerformance'), stacked: true, unit: ' min', labels: f.byDepartment.map((r) => r.departmentName || String(r.departmentId)),
        series: [
          { label: t('mProcessing'), data: f.byDepartment.map((r) => r.avgProcessingTimeMinutes), color: 'blue' },
          { label: t('mPreparation'), data: f.byDepartment.map((r) => r.avgPreparationTimeMinutes), color: 'warn' },
          { label: t('mDeliveryTime'), data: f.byDepartment.map((r) => r.avgDeliveryTimeMinutes), color: 'ok' },
        ] }));
      const r = /** @type {{ data: RejectionRow[] }} */ (rejections);
      slots.rejections.replaceChildren(h('h2', {}, t('mRejections')), table([
        [t('mCode'), (x) => h('code', {}, x.kodePesanan)], [t('mDepartment'), (x) => x.departmentName || '—'],
        [t('mRequest'), (x) => word('mRequestTypes', x.requestType)], [t('mQuantity'), (x) => x.jumlahPesanan, 'num'],
        [t('status'), (x) => word('mStatus', x.statusPesanan)], [t('mDecision'), (x) => word('mDecisions', x.approvalStatus) || '—'],
        [t('mKitchenNote'), (x) => x.catatanDapur || '—'],
      ], r.data));
      out.replaceChildren();
    } catch (err) { showError(err, out); }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  root.replaceChildren(head(t('mReports')), h('section', { class: 'card' }, form), out,
    h('div', { class: 'split' }, card('consumption', t('mConsumption')), card('department', t('mByDepartment')), card('performance', t('mPerformance'))),
    card('rejections', t('mRejections')));
  await load();
}

function trailTable(/** @type {TrailEntry[]} */ rows) {
  return table([
    [t('when'), (e) => fmtTime(e.timestamp), 'time'],
    [t('what'), (e) => h('code', {}, e.aksi)],
    [t('who'), (e) => (e.user ? `${e.user.namaLengkap}${e.user.nomorIndukKaryawan ? ` (${e.user.nomorIndukKaryawan})` : ''}` : '—')],
    [t('mDetail'), (e) => e.detail],
  ], rows);
}

async function trailPage(/** @type {HTMLElement} */ root) {
  /** @type {string[]} */
  const kinds = await api(`${BASE}/reports/audit-trail/action-types`);
  const aksi = h('select', { name: 'aksi' }, h('option', { value: '' }, t('all')), kinds.map((k) => h('option', { value: k }, k)));
  const search = h('input', { name: 'search', type: 'search', size: 14 });
  const from = h('input', { type: 'date', name: 'tanggalMulai', value: daysAgo(7) });
  const to = h('input', { type: 'date', name: 'tanggalAkhir', value: today() });
  const form = h('form', { class: 'inline', role: 'search', id: 'meals-trail-filters' },
    h('label', {}, t('what'), aksi), h('label', {}, t('search'), search),
    h('label', {}, t('from'), from), h('label', {}, t('to'), to), h('button', { type: 'submit' }, t('filter')));
  const params = () => {
    const p = new URLSearchParams({ tanggalMulai: from.value, tanggalAkhir: to.value, limit: '50' });
    if (aksi.value) p.set('aksi', aksi.value);
    if (search.value.trim()) p.set('search', search.value.trim());
    return p;
  };
  const slot = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const out = h('div', { 'aria-live': 'polite' });
  const load = async () => {
    try {
      /** @type {{ data: TrailEntry[], total: number }} */
      const page = await api(`${BASE}/reports/audit-trail?${params()}`);
      slot.replaceChildren(h('p', { class: 'muted small' }, `${t('total')}: ${page.total}`), trailTable(page.data));
    } catch (err) { showError(err, slot); }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  const code = h('input', { name: 'kodePesanan', placeholder: 'PM-20260101-001', required: true, size: 18 });
  const history = h('div', { id: 'meals-order-history' });
  const lookup = h('form', { class: 'inline', id: 'meals-order-lookup' }, h('label', {}, t('mCode'), code), h('button', { type: 'submit' }, t('mShow')));
  lookup.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try { history.replaceChildren(trailTable(await api(`${BASE}/reports/audit-trail/order/${encodeURIComponent(code.value.trim())}`))); } catch (err) { showError(err, history); }
  });
  root.replaceChildren(head(t('mTrail'), fileButtons('reports/audit-trail', params, 'meals-trail', out)), out,
    h('section', { class: 'card', 'aria-labelledby': 'm-oh' }, h('h2', { id: 'm-oh' }, t('mOrderHistory')), lookup, history),
    h('section', { class: 'card' }, form), slot);
  await load();
}

addNav('meals', '#/meals', 80, hasRole('meals'));
addNavExtra('meals', approvalsBadge);
addRoute(/^\/meals$/, landing, 'meals');
addRoute(/^\/meals\/order$/, orderPage, 'meals');
addRoute(/^\/meals\/kitchen$/, kitchenPage, 'meals');
addRoute(/^\/meals\/delivery$/, deliveryPage, 'meals');
addRoute(/^\/meals\/approvals$/, approvalsPage, 'meals');
addRoute(/^\/meals\/orders$/, allOrdersPage, 'meals');
addRoute(/^\/meals\/master$/, masterPage, 'meals');
addRoute(/^\/meals\/reports$/, reportsPage, 'meals');
addRoute(/^\/meals\/audit$/, trailPage, 'meals');
