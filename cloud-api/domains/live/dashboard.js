// @ts-check
// The live domain's pages (seed 004, ChatMe administration). For ChatMe admins: the gift
// catalogue, coin credits with their payment reference, agency applications, host and fan
// rankings as charts, the sessions on air with their viewers (refreshed every few seconds);
// for an agency owner: its numbers, host applications and salary requests. Served at
// /assets/domains/live.js.
import { api, session, showError } from '../api.js';
import { chart } from '../charts.js';
import { domainPages, fmtTime, h, notice, table } from '../dom.js';
import { addWords, t, word } from '../i18n.js';
import { addNav, addRoute, hasRole, onLeave } from '../router.js';

addWords({
  id: {
    chatme: 'ChatMe', cGifts: 'Katalog hadiah', cCoins: 'Kredit koin', cAgencies: 'Agensi',
    cRankings: 'Peringkat', cLive: 'Siaran langsung', cMyAgency: 'Agensi saya', cCoinValue: 'Nilai koin',
    cCategory: 'Kategori', cIcon: 'Ikon', cAddGift: 'Tambah hadiah', cAccount: 'Akun', cPhone: 'Telepon',
    cBalance: 'Saldo', cAmount: 'Jumlah koin', cReference: 'Referensi pembayaran', cCredit: 'Kreditkan',
    cCredited: 'Koin ditambahkan', cFamily: 'Nama keluarga', cRegion: 'Wilayah', cApplied: 'Diajukan',
    cHostRanking: 'Peringkat host (koin diterima)', cFanRanking: 'Peringkat penggemar', cPeriod: 'Periode',
    cHost: 'Host', cViewers: 'Penonton', cIncome: 'Pendapatan', cStarted: 'Mulai', cOnAir: 'Sedang siaran',
    cNobodyLive: 'Tidak ada yang sedang siaran.', cHostApplications: 'Lamaran host', cSalaries: 'Permintaan gaji',
    cWeek: 'Minggu', cSalary: 'Gaji', cLives: 'Jumlah siaran', cHosts: 'Host', cTotalIncome: 'Total pendapatan',
    cMonthIncome: 'Pendapatan bulan ini', cLiveNow: 'Sedang siaran', cNoAgency: 'Anda belum punya agensi.',
    cGender: 'Jenis kelamin', cIdNumber: 'NIK', cCoins2: 'Koin', cGiftCount: 'Hadiah', cRole: 'Peran', cFind: 'Cari akun',
    cMyIncome: 'Pendapatan saya', cAskSalary: 'Minta gaji', cAsked: 'Permintaan gaji terkirim',
    cByGift: 'Pendapatan per jenis hadiah', cWeekNo: 'Minggu ke (ISO)',
    cPeriods: { day: 'Hari ini', week: 'Minggu ini', month: 'Bulan ini', all: 'Semua' },
    cStatus: { pending: 'Menunggu', approved: 'Disetujui', rejected: 'Ditolak' },
    cGenders: { male: 'Laki-laki', female: 'Perempuan', other: 'Lainnya' },
  },
  en: {
    chatme: 'ChatMe', cGifts: 'Gift catalogue', cCoins: 'Coin credits', cAgencies: 'Agencies',
    cRankings: 'Rankings', cLive: 'Live now', cMyAgency: 'My agency', cCoinValue: 'Coin value',
    cCategory: 'Category', cIcon: 'Icon', cAddGift: 'Add a gift', cAccount: 'Account', cPhone: 'Phone',
    cBalance: 'Balance', cAmount: 'Coins', cReference: 'Payment reference', cCredit: 'Credit',
    cCredited: 'Coins credited', cFamily: 'Family name', cRegion: 'Region', cApplied: 'Applied',
    cHostRanking: 'Host ranking (coins received)', cFanRanking: 'Fan ranking', cPeriod: 'Period',
    cHost: 'Host', cViewers: 'Viewers', cIncome: 'Income', cStarted: 'Started', cOnAir: 'On air',
    cNobodyLive: 'Nobody is live.', cHostApplications: 'Host applications', cSalaries: 'Salary requests',
    cWeek: 'Week', cSalary: 'Salary', cLives: 'Lives', cHosts: 'Hosts', cTotalIncome: 'Total income',
    cMonthIncome: 'Income this month', cLiveNow: 'Live now', cNoAgency: 'You have no agency yet.',
    cGender: 'Gender', cIdNumber: 'ID number', cCoins2: 'Coins', cGiftCount: 'Gifts', cRole: 'Role', cFind: 'Find an account',
    cMyIncome: 'My income', cAskSalary: 'Ask for my salary', cAsked: 'Salary request sent',
    cByGift: 'Income per kind of gift', cWeekNo: 'Week (ISO)',
    cPeriods: { day: 'Today', week: 'This week', month: 'This month', all: 'All time' },
    cStatus: { pending: 'Pending', approved: 'Approved', rejected: 'Rejected' },
    cGenders: { male: 'Male', female: 'Female', other: 'Other' },
  },
});

const BASE = '/chatme/api';

/** @typedef {{ id: string, name: string, coin_value: number, category: string, icon: string | null }} Gift */
/** @typedef {{ id: string, name: string, phone: string | null, role: string, balance: number }} Account */
/** @typedef {{ id: string, user_id: string, family_name: string, region: string, phone: string, status: string, created_at: string, approved_at: string | null }} Agency */
/** @typedef {{ rank: number, host_id?: string, user_id?: string, name: string, total_coins: number, total_gifts: number }} Ranked */
/** @typedef {{ id: string, host_id: string, host_name: string, room_id: string, start_time: string, total_income: number, viewers: number }} OnAir */
/** @typedef {{ id: string, host_id: string, name: string, gender: string, id_number: string, status: string, created_at: string }} HostApplication */
/** @typedef {{ id: string, host_id: string, year: number, week_number: number, week_start: string, salary_amount: number, total_lives: number, status: string, created_at: string }} SalaryRequest */

const role = () => session.user?.roles?.live || '';
const { head, landing } = domainPages('chatme', [
  { href: '#/chatme/live', key: 'cLive', roles: ['admin'] },
  { href: '#/chatme/gifts', key: 'cGifts', roles: ['admin'] },
  { href: '#/chatme/coins', key: 'cCoins', roles: ['admin'] },
  { href: '#/chatme/agencies', key: 'cAgencies', roles: ['admin'] },
  { href: '#/chatme/rankings', key: 'cRankings', roles: ['admin', 'agency', 'host'] },
  { href: '#/chatme/agency', key: 'cMyAgency', roles: ['agency'] },
  { href: '#/chatme/host', key: 'cMyIncome', roles: ['host'] },
], role);

const coins = (/** @type {number} */ n) => n.toLocaleString('id-ID');
function statusPill(/** @type {string} */ status) {
  return h('span', { class: `pill ${status === 'approved' ? 'ok' : status === 'rejected' ? 'bad' : 'warn'}` }, word('cStatus', status));
}

/** Approve / reject buttons for a pending row; `done` reloads. */
function decide(/** @type {string} */ path, /** @type {string} */ label, /** @type {() => void} */ done) {
  const act = (/** @type {'approve' | 'reject'} */ verdict) => async () => {
    try { await api(`${path}/${verdict}`, { method: 'POST' }); done(); } catch (err) { showError(err); }
  };
  return h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'ghost', 'aria-label': `${t('approve')}: ${label}`, onclick: act('approve') }, t('approve')),
    h('button', { type: 'button', class: 'ghost', 'aria-label': `${t('reject')}: ${label}`, onclick: act('reject') }, t('reject')));
}

// ---------------------------------------------------------------- on air
async function livePage(/** @type {HTMLElement} */ root) {
  const slot = h('div', { id: 'chatme-on-air' }, h('p', { class: 'muted' }, t('loading')));
  let shown = '';
  const load = async () => {
    try {
      /** @type {{ sessions: OnAir[] }} */
      const data = await api(`${BASE}/admin/live-sessions`);
      // Redrawn only when something changed (the chart is not rebuilt every few seconds).
      const now = JSON.stringify(data.sessions);
      if (now === shown) return;
      shown = now;
      slot.replaceChildren(...(data.sessions.length ? [
        h('div', { class: 'grid' }, data.sessions.map((s) => h('article', { class: 'card', dataset: { session: s.id } },
          h('div', { class: 'bar' }, h('b', {}, s.host_name), h('span', { class: 'pill bad' }, h('span', { class: 'live-dot', 'aria-hidden': 'true' }), ` ${t('cOnAir')}`)),
          h('dl', { class: 'facts' },
            h('dt', {}, t('cViewers')), h('dd', { dataset: { field: 'viewers' } }, String(s.viewers)),
            h('dt', {}, t('cIncome')), h('dd', { dataset: { field: 'income' } }, coins(s.total_income)),
            h('dt', {}, t('cStarted')), h('dd', {}, fmtTime(s.start_time)))))),
        h('section', { class: 'card' }, chart({ id: 'chatme-viewers', title: t('cViewers'), labels: data.sessions.map((s) => s.host_name), horizontal: true,
          series: [{ label: t('cViewers'), data: data.sessions.map((s) => s.viewers), color: 'pink' }] })),
      ] : [notice(t('cNobodyLive'))]));
    } catch (err) { showError(err, slot); }
  };
  // Viewer counts live in the process that holds the room's sockets: read them again often.
  const timer = setInterval(load, 3000);
  onLeave(() => clearInterval(timer));
  root.replaceChildren(head(t('cLive')), slot);
  await load();
}

// ---------------------------------------------------------------- gifts
async function giftsPage(/** @type {HTMLElement} */ root) {
  const slot = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const load = async () => {
    try {
      /** @type {{ gifts: Gift[] }} */
      const data = await api(`${BASE}/gifts`);
      slot.replaceChildren(table([
        [t('cIcon'), (g) => g.icon || ''], [t('name'), (g) => g.name], [t('cCategory'), (g) => g.category],
        [t('cCoinValue'), (g) => coins(g.coin_value), 'num'],
        [t('actions'), (g) => h('button', { type: 'button', class: 'ghost', 'aria-label': `${t('delete')}: ${g.name}`, onclick: async () => {
          try { await api(`${BASE}/admin/gifts/${g.id}`, { method: 'DELETE' }); load(); } catch (err) { showError(err); }
        } }, t('delete'))],
      ], data.gifts, (g) => ({ dataset: { gift: g.name } })));
    } catch (err) { showError(err, slot); }
  };
  const name = h('input', { name: 'name', required: true });
  const value = h('input', { name: 'coin_value', type: 'number', min: 1, required: true });
  const category = h('input', { name: 'category', value: 'basic', size: 8 });
  const icon = h('input', { name: 'icon', size: 4 });
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'inline', id: 'chatme-gift-form' }, h('label', {}, t('name'), name), h('label', {}, t('cCoinValue'), value),
    h('label', {}, t('cCategory'), category), h('label', {}, t('cIcon'), icon), h('button', { type: 'submit' }, t('cAddGift')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api(`${BASE}/admin/gifts`, { method: 'POST', body: { name: name.value.trim(), coin_value: Number(value.value), category: category.value.trim() || 'basic', icon: icon.value.trim() || null } });
      form.reset();
      out.replaceChildren();
      load();
    } catch (err) { showError(err, out); }
  });
  root.replaceChildren(head(t('cGifts')), h('section', { class: 'card', 'aria-label': t('cAddGift') }, form, out), slot);
  await load();
}

// ---------------------------------------------------------------- coins
async function coinsPage(/** @type {HTMLElement} */ root) {
  const q = h('input', { name: 'q', type: 'search', size: 14 });
  const slot = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const account = h('select', { name: 'user_id', required: true, id: 'chatme-credit-account' });
  const amount = h('input', { name: 'amount', type: 'number', min: 1, required: true });
  const reference = h('input', { name: 'reference', required: true, placeholder: 'INV-2026-0001' });
  const out = h('div', { 'aria-live': 'polite', id: 'chatme-credit-result' });
  const load = async () => {
    try {
      /** @type {{ accounts: Account[] }} */
      const data = await api(`${BASE}/admin/accounts?q=${encodeURIComponent(q.value.trim())}`);
      const chosen = account.value;
      account.replaceChildren(...data.accounts.map((a) => h('option', { value: a.id, selected: a.id === chosen }, `${a.name} (${a.phone || '—'})`)));
      slot.replaceChildren(table([
        [t('name'), (a) => a.name], [t('cPhone'), (a) => a.phone || '—'], [t('cRole'), (a) => a.role],
        [t('cBalance'), (a) => coins(a.balance), 'num'],
      ], data.accounts, (a) => ({ dataset: { account: a.id } })));
    } catch (err) { showError(err, slot); }
  };
  const find = h('form', { class: 'inline', role: 'search' }, h('label', {}, t('cFind'), q), h('button', { type: 'submit' }, t('search')));
  find.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  const form = h('form', { class: 'inline', id: 'chatme-credit-form' }, h('label', {}, t('cAccount'), account),
    h('label', {}, t('cAmount'), amount), h('label', {}, t('cReference'), reference), h('button', { type: 'submit' }, t('cCredit')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      /** @type {{ message: string, balance: number }} */
      const done = await api(`${BASE}/admin/coins/credit`, { method: 'POST', body: { user_id: account.value, amount: Number(amount.value), reference: reference.value.trim() } });
      out.replaceChildren(notice(`${done.message}: ${t('cBalance')} ${coins(done.balance)}`));
      amount.value = '';
      reference.value = '';
      load();
    } catch (err) { showError(err, out); }
  });
  root.replaceChildren(head(t('cCoins')), h('section', { class: 'card', 'aria-label': t('cCredit') }, form, out),
    h('section', { class: 'card' }, find), slot);
  await load();
}

// ---------------------------------------------------------------- agencies
async function agenciesPage(/** @type {HTMLElement} */ root) {
  const status = h('select', { name: 'status', id: 'chatme-agency-status' }, h('option', { value: '' }, t('all')),
    ['pending', 'approved', 'rejected'].map((s) => h('option', { value: s }, word('cStatus', s))));
  const slot = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const load = async () => {
    try {
      /** @type {{ agencies: Agency[] }} */
      const data = await api(`${BASE}/admin/agencies${status.value ? `?status=${status.value}` : ''}`);
      slot.replaceChildren(table([
        [t('cFamily'), (a) => a.family_name], [t('cRegion'), (a) => a.region], [t('cPhone'), (a) => a.phone],
        [t('cApplied'), (a) => fmtTime(a.created_at), 'time'], [t('status'), (a) => statusPill(a.status)],
        [t('actions'), (a) => (a.status === 'pending' ? decide(`${BASE}/admin/agencies/${a.id}`, a.family_name, load) : '—')],
      ], data.agencies, (a) => ({ dataset: { agency: a.family_name } })));
    } catch (err) { showError(err, slot); }
  };
  status.addEventListener('change', load);
  root.replaceChildren(head(t('cAgencies')), h('section', { class: 'card' }, h('label', {}, t('status'), status)), slot);
  await load();
}

// ---------------------------------------------------------------- rankings
async function rankingsPage(/** @type {HTMLElement} */ root) {
  const period = h('select', { name: 'period', id: 'chatme-period' }, ['day', 'week', 'month', 'all'].map((p) => h('option', { value: p, selected: p === 'month' }, word('cPeriods', p))));
  const hosts = h('div', { class: 'card' });
  const fans = h('div', { class: 'card' });
  const host = h('select', { name: 'host', id: 'chatme-fan-host' });
  const loadFans = async () => {
    if (!host.value) { fans.replaceChildren(h('p', { class: 'empty' }, t('none'))); return; }
    try {
      /** @type {{ fans: Ranked[] }} */
      const data = await api(`${BASE}/ranking/fans/${host.value}?period=${period.value}`);
      fans.replaceChildren(h('label', {}, t('cHost'), host), chart({ id: 'chatme-fans', title: `${t('cFanRanking')} — ${host.selectedOptions[0]?.textContent || ''}`, horizontal: true,
        labels: data.fans.slice(0, 10).map((f) => f.name), series: [{ label: t('cCoins2'), data: data.fans.slice(0, 10).map((f) => f.total_coins), color: 'purple' }] }));
    } catch (err) { showError(err, fans); }
  };
  const load = async () => {
    try {
      /** @type {{ hosts: Ranked[] }} */
      const data = await api(`${BASE}/ranking/hosts?period=${period.value}`);
      const top = data.hosts.slice(0, 10);
      const chosen = host.value;
      host.replaceChildren(...top.map((r) => h('option', { value: r.host_id, selected: r.host_id === chosen }, r.name)));
      hosts.replaceChildren(chart({ id: 'chatme-hosts', title: t('cHostRanking'), horizontal: true, labels: top.map((r) => r.name),
        series: [{ label: t('cCoins2'), data: top.map((r) => r.total_coins), color: 'brand' }, { label: t('cGiftCount'), data: top.map((r) => r.total_gifts), color: 'gold' }] }));
      await loadFans();
    } catch (err) { showError(err, hosts); }
  };
  period.addEventListener('change', load);
  host.addEventListener('change', loadFans);
  root.replaceChildren(head(t('cRankings')), h('section', { class: 'card' }, h('label', {}, t('cPeriod'), period)),
    h('div', { class: 'split' }, hosts, fans));
  await load();
}

// ---------------------------------------------------------------- an agency owner
async function agencyPage(/** @type {HTMLElement} */ root) {
  /** @type {Agency | null} */
  let agency = null;
  try { agency = (await api(`${BASE}/agency/profile`)).agency; } catch { agency = null; }
  if (!agency || agency.status !== 'approved') { root.replaceChildren(head(t('cMyAgency')), notice(t('cNoAgency'))); return; }
  const id = agency.id;
  const stats = h('div', { class: 'stats' });
  const applications = h('div', {});
  const salaries = h('div', {});
  const hostsSlot = h('div', {});
  const load = async () => {
    try {
      const [s, a, r, hs] = await Promise.all([api(`${BASE}/agency/${id}/stats`), api(`${BASE}/agency/${id}/host-applications`),
        api(`${BASE}/agency/${id}/salary-requests`), api(`${BASE}/agency/${id}/hosts`)]);
      stats.replaceChildren(...[[t('cHosts'), s.total_hosts], [t('cLiveNow'), s.live_now], [t('cTotalIncome'), coins(s.total_income)],
        [t('cMonthIncome'), coins(s.income_this_month)], [t('cLives'), s.total_lives]]
        .map(([label, v]) => h('div', { class: 'stat' }, h('span', { class: 'muted small' }, label), h('b', {}, String(v)))));
      applications.replaceChildren(table([
        [t('name'), (x) => x.name], [t('cGender'), (x) => word('cGenders', x.gender)], [t('cIdNumber'), (x) => h('code', {}, x.id_number)],
        [t('cApplied'), (x) => fmtTime(x.created_at), 'time'], [t('status'), (x) => statusPill(x.status)],
        [t('actions'), (x) => (x.status === 'pending' ? decide(`${BASE}/agency/host-applications/${x.id}`, x.name, load) : '—')],
      ], /** @type {HostApplication[]} */ (a.applications)));
      salaries.replaceChildren(table([
        [t('cWeek'), (x) => `${x.year}-W${String(x.week_number).padStart(2, '0')}`], [t('cSalary'), (x) => coins(x.salary_amount), 'num'],
        [t('cLives'), (x) => x.total_lives, 'num'], [t('status'), (x) => statusPill(x.status)],
        [t('actions'), (x) => (x.status === 'pending' ? decide(`${BASE}/agency/salary-request/${x.id}`, `${x.year}-W${x.week_number}`, load) : '—')],
      ], /** @type {SalaryRequest[]} */ (r.requests)));
      /** @type {{ name: string, total_income: number, is_live: boolean }[]} */
      const list = hs.hosts;
      hostsSlot.replaceChildren(chart({ id: 'chatme-agency-hosts', title: `${t('cHosts')} — ${t('cTotalIncome')}`, horizontal: true,
        labels: list.map((x) => x.name), series: [{ label: t('cIncome'), data: list.map((x) => x.total_income) }] }));
    } catch (err) { showError(err, stats); }
  };
  root.replaceChildren(head(`${t('cMyAgency')}: ${agency.family_name}`), stats,
    h('div', { class: 'split' },
      h('section', { class: 'card', 'aria-labelledby': 'c-apps' }, h('h2', { id: 'c-apps' }, t('cHostApplications')), applications),
      h('section', { class: 'card', 'aria-labelledby': 'c-sal' }, h('h2', { id: 'c-sal' }, t('cSalaries')), salaries)),
    h('section', { class: 'card' }, hostsSlot));
  await load();
}

// ---------------------------------------------------------------- a host
/** ISO week number of `date` (Monday first). */
function isoWeek(/** @type {Date} */ date) {
  const d = new Date(Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()));
  d.setUTCDate(d.getUTCDate() + 4 - (d.getUTCDay() || 7));
  const first = new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
  return { year: d.getUTCFullYear(), week: Math.ceil(((d.getTime() - first.getTime()) / 86400000 + 1) / 7) };
}

async function hostPage(/** @type {HTMLElement} */ root) {
  const me = session.user?.id || '';
  const stats = h('div', { class: 'stats', id: 'chatme-host-income' });
  const byGift = h('section', { class: 'card' });
  const [today, week, month, categories] = await Promise.all([
    api(`${BASE}/host-income/today/${me}`), api(`${BASE}/host-income/week/${me}`),
    api(`${BASE}/host-income/month/${me}`), api(`${BASE}/host-income/category/${me}`)]);
  stats.replaceChildren(...[['day', today], ['week', week], ['month', month]].map(([p, x]) =>
    h('div', { class: 'stat' }, h('span', { class: 'muted small' }, word('cPeriods', p)), h('b', {}, coins(x.total_income)))));
  /** @type {{ type: string, total_income: number }[]} */
  const kinds = categories.categories;
  byGift.replaceChildren(chart({ id: 'chatme-host-gifts', type: 'doughnut', title: t('cByGift'), labels: kinds.map((k) => k.type),
    series: [{ label: t('cIncome'), data: kinds.map((k) => k.total_income) }] }));
  // Last week: the most recent one that is over.
  const last = isoWeek(new Date(Date.now() - 7 * 86400000));
  const weekNo = h('input', { name: 'week_number', type: 'number', min: 1, max: 53, value: last.week, required: true });
  const year = h('input', { name: 'year', type: 'number', min: 2020, max: 2100, value: last.year, required: true });
  const out = h('div', { 'aria-live': 'polite', id: 'chatme-salary-result' });
  const form = h('form', { class: 'inline', id: 'chatme-salary-form' }, h('label', {}, t('cWeekNo'), weekNo), h('label', {}, t('year'), year),
    h('button', { type: 'submit' }, t('cAskSalary')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      /** @type {{ request: SalaryRequest }} */
      const done = await api(`${BASE}/salary-requests`, { method: 'POST', body: { week_number: Number(weekNo.value), year: Number(year.value) } });
      out.replaceChildren(notice(`${t('cAsked')}: ${t('cSalary')} ${coins(done.request.salary_amount)}, ${t('cLives')} ${done.request.total_lives}`));
    } catch (err) { showError(err, out); }
  });
  root.replaceChildren(head(t('cMyIncome')), stats, h('div', { class: 'split' }, byGift,
    h('section', { class: 'card', 'aria-labelledby': 'c-ask' }, h('h2', { id: 'c-ask' }, t('cAskSalary')), form, out)));
}

addNav('chatme', '#/chatme', 90, hasRole('live', 'admin', 'agency', 'host'));
addRoute(/^\/chatme$/, landing, 'chatme');
addRoute(/^\/chatme\/live$/, livePage, 'chatme');
addRoute(/^\/chatme\/gifts$/, giftsPage, 'chatme');
addRoute(/^\/chatme\/coins$/, coinsPage, 'chatme');
addRoute(/^\/chatme\/agencies$/, agenciesPage, 'chatme');
addRoute(/^\/chatme\/rankings$/, rankingsPage, 'chatme');
addRoute(/^\/chatme\/agency$/, agencyPage, 'chatme');
addRoute(/^\/chatme\/host$/, hostPage, 'chatme');
