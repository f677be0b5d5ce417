// @ts-check
// The SAKIP domain's pages (seed 002): the planning tree (renstra → tujuan → sasaran →
// program → kegiatan) with its indicators, editable by role; targets and achievements with
// the computed percentage coloured by level, and verification; budget absorption per
// category as a chart; evaluations with the weighted components and the grade;
// integrations with their sync logs and a "sync now" that follows the job; the performance
// report as PDF/XLSX/CSV. Every answer is SAKIP's envelope `{success, data}`.
// Served at /assets/domains/sakip.js.
import { api, download, session, showError } from '../api.js';
import { chart } from '../charts.js';
import { domainPages, fmtTime, h, notice, table } from '../dom.js';
import { addWords, t, word } from '../i18n.js';
import { onLeave, addNav, addRoute, hasRole } from '../router.js';

addWords({
  id: {
    sakip: 'SAKIP', sPlan: 'Pohon kinerja', sPerformance: 'Capaian kinerja', sBudget: 'Serapan anggaran',
    sEvaluations: 'Evaluasi', sIntegrations: 'Integrasi', sReport: 'Laporan kinerja', sOpd: 'OPD',
    sRenstra: 'Renstra', sIndicators: 'Indikator', sAddNode: 'Tambah ke pohon', sParent: 'Induk',
    sCode: 'Kode', sTarget: 'Target', sAchievement: 'Realisasi', sPercent: 'Capaian', sMonth: 'Bulan',
    sYearly: 'Tahunan', sVerified: 'Terverifikasi', sUnverified: 'Belum diverifikasi', sVerify: 'Verifikasi',
    sEnter: 'Isi realisasi', sSetTarget: 'Tetapkan target', sTargetSaved: 'Target tersimpan; capaian dihitung ulang', sIndicator: 'Indikator', sNotes: 'Catatan', sAllocation: 'Pagu',
    sRealization: 'Realisasi', sCategory: 'Kategori', sAbsorption: 'Serapan anggaran per kategori',
    sGrade: 'Predikat', sScore: 'Nilai', sWeight: 'Bobot', sType: 'Jenis', sNewEvaluation: 'Evaluasi baru',
    sNextStatus: 'Langkah berikutnya', sSystem: 'Sistem', sEndpoint: 'Alamat API', sApiKey: 'Kunci API',
    sFrequency: 'Frekuensi', sLastSync: 'Sinkron terakhir', sHealth: 'Kesehatan', sSyncNow: 'Sinkron sekarang',
    sSyncLogs: 'Log sinkronisasi', sJob: 'Pekerjaan', sAttempts: 'Percobaan', sProcessed: 'Diproses',
    sSucceeded: 'Berhasil', sNewIntegration: 'Integrasi baru', sSummary: 'Ringkasan per OPD',
    sAverage: 'Rata-rata capaian', sNoRenstra: 'OPD ini belum punya renstra.', sPolarity: 'Polaritas',
    sLevels: { renstra: 'Renstra', tujuan: 'Tujuan', sasaran: 'Sasaran', program: 'Program', kegiatan: 'Kegiatan' },
    sPolarities: { higher_better: 'makin tinggi makin baik', lower_better: 'makin rendah makin baik', target_based: 'tepat target' },
    sNotesWhy: { no_target: 'belum ada target', zero_target: 'target nol' },
    sStatuses: { draft: 'Draf', in_progress: 'Berjalan', completed: 'Selesai', reviewed: 'Ditinjau', queued: 'Antre', running: 'Berjalan', failed: 'Gagal', active: 'Aktif', inactive: 'Nonaktif' },
    sComponents: {
      perencanaan_kinerja: 'Perencanaan kinerja', pengukuran_kinerja: 'Pengukuran kinerja',
      pelaporan_kinerja: 'Pelaporan kinerja', evaluasi_akuntabilitas_kinerja_internal: 'Evaluasi akuntabilitas internal',
    },
  },
  en: {
    sakip: 'SAKIP', sPlan: 'Planning tree', sPerformance: 'Performance', sBudget: 'Budget absorption',
    sEvaluations: 'Evaluations', sIntegrations: 'Integrations', sReport: 'Performance report', sOpd: 'Agency (OPD)',
    sRenstra: 'Strategic plan', sIndicators: 'Indicators', sAddNode: 'Add to the tree', sParent: 'Parent',
    sCode: 'Code', sTarget: 'Target', sAchievement: 'Actual', sPercent: 'Achievement', sMonth: 'Month',
    sYearly: 'Yearly', sVerified: 'Verified', sUnverified: 'Not verified', sVerify: 'Verify',
    sEnter: 'Enter an actual', sSetTarget: 'Set a target', sTargetSaved: 'Target saved; achievements recomputed', sIndicator: 'Indicator', sNotes: 'Notes', sAllocation: 'Allocation',
    sRealization: 'Spent', sCategory: 'Category', sAbsorption: 'Budget absorption per category',
    sGrade: 'Grade', sScore: 'Score', sWeight: 'Weight', sType: 'Type', sNewEvaluation: 'New evaluation',
    sNextStatus: 'Next step', sSystem: 'System', sEndpoint: 'API address', sApiKey: 'API key',
    sFrequency: 'Frequency', sLastSync: 'Last sync', sHealth: 'Health', sSyncNow: 'Sync now',
    sSyncLogs: 'Sync logs', sJob: 'Job', sAttempts: 'Attempts', sProcessed: 'Processed',
    sSucceeded: 'Succeeded', sNewIntegration: 'New integration', sSummary: 'Summary per agency',
    sAverage: 'Average achievement', sNoRenstra: 'This agency has no strategic plan yet.', sPolarity: 'Polarity',
    sLevels: { renstra: 'Strategic plan', tujuan: 'Goal', sasaran: 'Objective', program: 'Programme', kegiatan: 'Activity' },
    sPolarities: { higher_better: 'higher is better', lower_better: 'lower is better', target_based: 'on target' },
    sNotesWhy: { no_target: 'no target yet', zero_target: 'zero target' },
    sStatuses: { draft: 'Draft', in_progress: 'In progress', completed: 'Completed', reviewed: 'Reviewed', queued: 'Queued', running: 'Running', failed: 'Failed', active: 'Active', inactive: 'Inactive' },
    sComponents: {
      perencanaan_kinerja: 'Performance planning', pengukuran_kinerja: 'Performance measurement',
      pelaporan_kinerja: 'Performance reporting', evaluasi_akuntabilitas_kinerja_internal: 'Internal accountability review',
    },
  },
});

const BASE = '/sakip/api/v1';
/** The demo's data is for 2025; a real site starts on the current year. */
const YEARS = [2024, 2025, 2026, 2027];

/** @typedef {string | number} Dec a decimal as the API sends it (`"50.00"`) */
/** @typedef {{ items: any[], total: number, page: number, limit: number }} List */
/** @typedef {{ id: number, code: string, name: string, head_name: string | null, is_active: boolean }} Opd */
/** @typedef {{ id: number, opd_id: number, period: string, vision: string | null }} Renstra */
/** @typedef {{ id: number, name: string, unit: string | null, polarity: string, parent_type: string, parent_id: number, targets?: Target[] }} Indicator */
/** @typedef {{ id: number, code: string, name: string, indicators: Indicator[], [child: string]: any }} TreeNode */
/** @typedef {{ id: number, year: number, quarter: number | null, month: number | null, target_value: Dec }} Target */
/** @typedef {{ id: number, indicator_id: number, year: number, quarter: number | null, month: number | null, achievement_value: Dec, percentage: Dec | null, percentage_note: string | null, input_by: string, verified_by: string | null, verified_at: string | null, indicator: Indicator }} Achievement */
/** @typedef {{ category: string, allocation: Dec, realization: Dec, percentage: Dec | null }} BudgetLine */
/** @typedef {{ id: number, opd_id: number, year: number, type: string, evaluator: string | null, overall_score: Dec | null, grade: string | null, status: string, components: Record<string, { weight: number, score: Dec | null }> }} Evaluation */
/** @typedef {{ id: number, system_name: string, system_type: string | null, endpoint_url: string | null, status: string, last_sync: string | null, sync_frequency: string, health_score: number | null, has_api_key: boolean }} Integration */
/** @typedef {{ id: number, job_id: number | null, status: string, records_processed: number, records_success: number, records_failed: number, error_message: string | null, started_at: string | null, completed_at: string | null }} SyncLog */
/** @typedef {{ id: number, status: string, attempts: number, max_attempts: number, last_error: string | null }} Job */

/** SAKIP's answer without its envelope. */
async function sk(/** @type {string} */ path, /** @type {import('../api.js').CallOptions} */ options = {}) {
  /** @type {{ data: any }} */
  const answer = await api(`${BASE}${path}`, options);
  return answer.data;
}

/**
 * Every item of a list route (`{items, total, page, limit}`), page by page: used where the
 * whole list is written back, such as an indicator's targets.
 */
async function all(/** @type {string} */ path) {
  /** @type {any[]} */
  const out = [];
  for (let page = 1; ; page += 1) {
    /** @type {List} */
    const list = await sk(`${path}${path.includes('?') ? '&' : '?'}page=${page}&limit=200`);
    out.push(...list.items);
    if (list.items.length === 0 || out.length >= list.total) return out;
  }
}

const role = () => session.user?.roles?.sakip || '';
const writes = () => ['super_admin', 'admin_opd'].includes(role());
const { head, landing } = domainPages('sakip', [
  { href: '#/sakip/plan', key: 'sPlan', roles: [] },
  { href: '#/sakip/performance', key: 'sPerformance', roles: [] },
  { href: '#/sakip/budget', key: 'sBudget', roles: [] },
  { href: '#/sakip/evaluations', key: 'sEvaluations', roles: [] },
  { href: '#/sakip/integrations', key: 'sIntegrations', roles: ['super_admin'] },
  { href: '#/sakip/report', key: 'sReport', roles: [] },
], role);

/** `belanja_pegawai` → `Belanja pegawai` (the budget's category codes). */
const category = (/** @type {string} */ code) => code.charAt(0).toUpperCase() + code.slice(1).replace(/_/g, ' ');
const num = (/** @type {Dec | null | undefined} */ v) => (v === null || v === undefined ? null : Number(v));
const money = (/** @type {Dec | null} */ v) => (v === null ? '—' : Number(v).toLocaleString('id-ID', { minimumFractionDigits: 2, maximumFractionDigits: 2 }));

/** The achievement level of a percentage: ≥ 100 a, ≥ 85 b, ≥ 70 c, else d. */
function levelPill(/** @type {Dec | null} */ percentage, /** @type {string | null} */ note = null) {
  const p = num(percentage);
  if (p === null) return h('span', { class: 'pill' }, note ? word('sNotesWhy', note) : '—');
  const level = p >= 100 ? 'a' : p >= 85 ? 'b' : p >= 70 ? 'c' : 'd';
  return h('span', { class: `pill lvl-${level}`, dataset: { level } }, `${Number(p).toFixed(2)}%`);
}

/** The OPD and year pickers every page shares; `change` reloads. */
async function pickers(/** @type {() => void} */ change, withYear = true) {
  /** @type {Opd[]} */
  const opds = (await sk('/opd?limit=200')).items;
  const opd = h('select', { name: 'opd_id', id: 'sakip-opd' }, opds.map((o) => h('option', { value: o.id }, `${o.code} — ${o.name}`)));
  const year = h('select', { name: 'year', id: 'sakip-year' }, YEARS.map((y) => h('option', { value: y, selected: y === 2025 }, String(y))));
  opd.addEventListener('change', change);
  year.addEventListener('change', change);
  const form = h('form', { class: 'inline', role: 'search' }, h('label', {}, t('sOpd'), opd), withYear ? h('label', {}, t('year'), year) : null);
  form.addEventListener('submit', (ev) => { ev.preventDefault(); change(); });
  return { form, opd, year, opds };
}

// ---------------------------------------------------------------- planning tree
const LEVELS = ['tujuan', 'sasaran', 'program', 'kegiatan'];

/** @returns {HTMLLIElement} */
function treeItem(/** @type {TreeNode} */ node, /** @type {number} */ depth) {
  const level = LEVELS[depth];
  const child = LEVELS[depth + 1];
  const kids = child ? /** @type {TreeNode[]} */ (node[child] || []) : [];
  return h('li', { dataset: { level, id: node.id } },
    h('span', { class: 'level' }, word('sLevels', level)), h('b', {}, `${node.code} `), node.name,
    node.indicators.length ? h('ul', {}, node.indicators.map((i) => h('li', { class: 'ind' }, `▸ ${i.name}${i.unit ? ` (${i.unit})` : ''} · ${word('sPolarities', i.polarity)}`))) : null,
    kids.length ? h('ul', {}, kids.map((/** @type {TreeNode} */ k) => treeItem(k, depth + 1))) : null);
}

/** Every node of a tree with its level, for the "add below" picker. */
function flatten(/** @type {TreeNode[]} */ nodes, depth = 0, /** @type {{ node: TreeNode, depth: number }[]} */ out = []) {
  for (const node of nodes) {
    out.push({ node, depth });
    const child = LEVELS[depth + 1];
    if (child) flatten(node[child] || [], depth + 1, out);
  }
  return out;
}

async function planPage(/** @type {HTMLElement} */ root) {
  const slot = h('div', { id: 'sakip-tree' }, h('p', { class: 'muted' }, t('loading')));
  const load = async () => {
    try {
      /** @type {Renstra[]} */
      const plans = (await sk(`/renstra?opd_id=${pick.opd.value}&limit=50`)).items;
      if (!plans.length) { slot.replaceChildren(notice(t('sNoRenstra'))); return; }
      const parts = await Promise.all(plans.map(async (plan) => {
        /** @type {Renstra & { tujuan: TreeNode[] }} */
        const tree = await sk(`/renstra/${plan.id}/tree`);
        return h('section', { class: 'card', 'aria-label': `${t('sRenstra')} ${tree.period}` },
          h('h2', {}, `${word('sLevels', 'renstra')} ${tree.period}`), tree.vision ? h('p', { class: 'muted' }, tree.vision) : null,
          h('ul', { class: 'tree' }, tree.tujuan.map((n) => treeItem(n, 0))),
          writes() ? addForm(tree, load) : null);
      }));
      slot.replaceChildren(...parts);
    } catch (err) { showError(err, slot); }
  };
  const pick = await pickers(load, false);
  root.replaceChildren(head(t('sPlan')), h('section', { class: 'card' }, pick.form), slot);
  await load();
}

/** Adds a node under any node of the tree (or a tujuan under the renstra). */
function addForm(/** @type {Renstra & { tujuan: TreeNode[] }} */ tree, /** @type {() => void} */ reload) {
  const nodes = flatten(tree.tujuan).filter((n) => n.depth < LEVELS.length - 1);
  const parent = h('select', { name: 'parent' },
    h('option', { value: `renstra:${tree.id}` }, `${word('sLevels', 'renstra')} ${tree.period}`),
    nodes.map(({ node, depth }) => h('option', { value: `${LEVELS[depth]}:${node.id}` }, `${'· '.repeat(depth + 1)}${word('sLevels', LEVELS[depth])} ${node.code} ${node.name}`)));
  const code = h('input', { name: 'code', required: true, size: 6 });
  const name = h('input', { name: 'name', required: true });
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'inline', id: `sakip-add-${tree.id}` },
    h('label', {}, t('sParent'), parent), h('label', {}, t('sCode'), code), h('label', {}, t('name'), name),
    h('button', { type: 'submit' }, t('sAddNode')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const [level, id] = parent.value.split(':');
    const child = level === 'renstra' ? 'tujuan' : LEVELS[LEVELS.indexOf(level) + 1];
    try {
      await sk(`/${child}`, { method: 'POST', body: { [`${level}_id`]: Number(id), code: code.value.trim(), name: name.value.trim() } });
      reload();
    } catch (err) { showError(err, out); }
  });
  return h('details', {}, h('summary', {}, t('sAddNode')), form, out);
}

// ---------------------------------------------------------------- performance
/** The target of an achievement's own period, from its indicator's targets. */
function targetOf(/** @type {Achievement} */ a) {
  const found = (a.indicator.targets || []).find((x) => x.year === a.year && x.month === a.month && x.quarter === a.quarter);
  return found ? found.target_value : null;
}

async function performancePage(/** @type {HTMLElement} */ root) {
  const month = h('select', { name: 'month', id: 'sakip-month' }, h('option', { value: '' }, t('all')),
    Array.from({ length: 12 }, (_, i) => h('option', { value: i + 1 }, new Date(2025, i, 1).toLocaleDateString(undefined, { month: 'long' }))));
  const slot = h('div', { id: 'sakip-achievements' }, h('p', { class: 'muted' }, t('loading')));
  const entry = h('div');
  // Outside the form, which is drawn again with the table after every save.
  const entryResult = h('div', { 'aria-live': 'polite', id: 'sakip-entry-result' });
  const load = async () => {
    const p = new URLSearchParams({ year: pick.year.value, opd_id: pick.opd.value });
    if (month.value) p.set('month', month.value);
    try {
      /** @type {Achievement[]} */
      const rows = await sk(`/performance/data?${p}`);
      const me = session.user?.id;
      const verifier = ['evaluator', 'super_admin'].includes(role());
      slot.replaceChildren(table([
        [t('sIndicator'), (a) => a.indicator.name],
        [t('sMonth'), (a) => a.month ?? (a.quarter ? `Q${a.quarter}` : t('sYearly'))],
        [t('sTarget'), (a) => num(targetOf(a)) ?? '—', 'num'],
        [t('sAchievement'), (a) => Number(a.achievement_value), 'num'],
        [t('sPercent'), (a) => levelPill(a.percentage, a.percentage_note)],
        [t('status'), (a) => (a.verified_at ? h('span', { class: 'pill ok' }, t('sVerified')) : verifier && a.input_by !== me
          ? h('button', { type: 'button', class: 'ghost', onclick: async () => { try { await sk(`/performance/achievements/${a.id}/verify`, { method: 'POST' }); load(); } catch (err) { showError(err); } } }, t('sVerify'))
          : h('span', { class: 'pill' }, t('sUnverified')))],
      ], rows, (a) => ({ dataset: { achievement: a.id } })));
      const indicators = [...new Map(rows.map((a) => [a.indicator.id, a.indicator])).values()];
      entry.replaceChildren(writes() && indicators.length ? entryForm(indicators, Number(pick.year.value), load, entryResult) : h('span'));
    } catch (err) { showError(err, slot); }
  };
  const pick = await pickers(load);
  month.addEventListener('change', load);
  pick.form.append(h('label', {}, t('sMonth'), month));
  root.replaceChildren(head(t('sPerformance')), h('section', { class: 'card' }, pick.form), entry, entryResult, slot);
  await load();
}

/** Target and achievement entry: the answer's percentage, coloured by level, right away. */
function entryForm(/** @type {Indicator[]} */ indicators, /** @type {number} */ year, /** @type {() => void} */ reload, /** @type {HTMLElement} */ out) {
  const indicator = h('select', { name: 'indicator_id' }, indicators.map((i) => h('option', { value: i.id }, i.name)));
  const month = h('select', { name: 'month' }, Array.from({ length: 12 }, (_, i) => h('option', { value: i + 1 }, String(i + 1))));
  const value = h('input', { name: 'achievement_value', type: 'number', step: '0.01', required: true });
  const notes = h('input', { name: 'notes' });
  const form = h('form', { class: 'inline', id: 'sakip-entry' },
    h('label', {}, t('sIndicator'), indicator), h('label', {}, t('sMonth'), month),
    h('label', {}, t('sAchievement'), value), h('label', {}, t('sNotes'), notes), h('button', { type: 'submit' }, t('save')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const m = Number(month.value);
    try {
      /** @type {Achievement} */
      const saved = await sk('/performance/achievements', { method: 'POST', body: {
        indicator_id: Number(indicator.value), year, quarter: Math.floor((m - 1) / 3) + 1, month: m,
        achievement_value: value.value, notes: notes.value.trim() || null,
      } });
      out.replaceChildren(h('p', { class: 'notice' }, `${t('sPercent')}: `, levelPill(saved.percentage, saved.percentage_note)));
      reload();
    } catch (err) { showError(err, out); }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'sakip-entry-title' }, h('h2', { id: 'sakip-entry-title' }, t('sEnter')), form,
    h('h2', {}, t('sSetTarget')), targetForm(indicators, year, reload, out));
}

/**
 * One period's target: `PUT /indicators/{id}/targets` replaces the whole list, so the list is
 * read first and this period's value put in it; the answer recomputes the percentages.
 */
function targetForm(/** @type {Indicator[]} */ indicators, /** @type {number} */ year, /** @type {() => void} */ reload, /** @type {HTMLElement} */ out) {
  const indicator = h('select', { name: 'indicator_id' }, indicators.map((i) => h('option', { value: i.id }, i.name)));
  const month = h('select', { name: 'month' }, h('option', { value: '' }, t('sYearly')), Array.from({ length: 12 }, (_, i) => h('option', { value: i + 1 }, String(i + 1))));
  const value = h('input', { name: 'target_value', type: 'number', step: '0.01', required: true });
  const form = h('form', { class: 'inline', id: 'sakip-target' },
    h('label', {}, t('sIndicator'), indicator), h('label', {}, t('sMonth'), month),
    h('label', {}, t('sTarget'), value), h('button', { type: 'submit' }, t('save')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const m = month.value ? Number(month.value) : null;
    const q = m ? Math.floor((m - 1) / 3) + 1 : null;
    try {
      /** @type {Target[]} */
      const list = await all(`/indicators/${indicator.value}/targets`);
      const others = list.filter((x) => !(x.year === year && x.month === m && (m !== null || x.quarter === null)));
      await sk(`/indicators/${indicator.value}/targets`, { method: 'PUT', body: [
        ...others.map((x) => ({ year: x.year, quarter: x.quarter, month: x.month, target_value: x.target_value })),
        { year, quarter: q, month: m, target_value: value.value },
      ] });
      out.replaceChildren(notice(t('sTargetSaved')));
      reload();
    } catch (err) { showError(err, out); }
  });
  return form;
}

// ---------------------------------------------------------------- budget
async function budgetPage(/** @type {HTMLElement} */ root) {
  const slot = h('div', { id: 'sakip-budget' }, h('p', { class: 'muted' }, t('loading')));
  const load = async () => {
    try {
      /** @type {{ categories: BudgetLine[], total: BudgetLine }} */
      const data = await sk(`/budget/summary?opd_id=${pick.opd.value}&year=${pick.year.value}`);
      const c = data.categories;
      slot.replaceChildren(h('div', { class: 'split' },
        h('section', { class: 'card' }, chart({ id: 'sakip-absorption', title: t('sAbsorption'), labels: c.map((x) => category(x.category)), horizontal: c.length > 4,
          series: [{ label: t('sAllocation'), data: c.map((x) => Number(x.allocation)), color: 'grey' }, { label: t('sRealization'), data: c.map((x) => Number(x.realization)), color: 'brand' }] })),
        h('section', { class: 'card' }, table([
          [t('sCategory'), (x) => category(x.category)], [t('sAllocation'), (x) => money(x.allocation), 'num'],
          [t('sRealization'), (x) => money(x.realization), 'num'], [t('sPercent'), (x) => levelPill(x.percentage)],
        ], [...c, { ...data.total, category: t('total') }]))));
    } catch (err) { showError(err, slot); }
  };
  const pick = await pickers(load);
  root.replaceChildren(head(t('sBudget')), h('section', { class: 'card' }, pick.form), slot);
  await load();
}

// ---------------------------------------------------------------- evaluations
const STEPS = ['draft', 'in_progress', 'completed', 'reviewed'];

async function evaluationsPage(/** @type {HTMLElement} */ root) {
  const slot = h('div', { id: 'sakip-evaluations' }, h('p', { class: 'muted' }, t('loading')));
  const evaluator = ['evaluator', 'super_admin'].includes(role());
  const load = async () => {
    try {
      /** @type {Evaluation[]} */
      // Every year's evaluations of the OPD (the year picker is the new evaluation's year).
      const rows = (await sk(`/evaluations?opd_id=${pick.opd.value}&limit=50`)).items;
      slot.replaceChildren(...(rows.length ? rows.map((e) => {
        const next = STEPS[STEPS.indexOf(e.status) + 1];
        return h('section', { class: 'card', dataset: { evaluation: e.id } },
          h('div', { class: 'bar' }, h('h2', {}, `${e.year} · ${e.type}`), h('span', { class: 'pill' }, word('sStatuses', e.status))),
          h('p', {}, h('span', { class: 'big', dataset: { grade: e.grade || '' } }, e.grade || '—'), ` ${t('sScore')} ${num(e.overall_score) ?? '—'}`),
          table([
            [t('sEvaluations'), (/** @type {[string, { weight: number, score: Dec | null }]} */ c) => word('sComponents', c[0])],
            [t('sWeight'), (c) => `${c[1].weight}%`, 'num'], [t('sScore'), (c) => num(c[1].score) ?? '—', 'num'],
          ], Object.entries(e.components)),
          evaluator && next ? h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', onclick: async () => {
            try { await sk(`/evaluations/${e.id}`, { method: 'PUT', body: { status: next } }); load(); } catch (err) { showError(err); }
          } }, `${t('sNextStatus')}: ${word('sStatuses', next)}`)) : null);
      }) : [h('p', { class: 'empty card' }, t('none'))]));
    } catch (err) { showError(err, slot); }
  };
  const pick = await pickers(load);
  root.replaceChildren(head(t('sEvaluations')), h('section', { class: 'card' }, pick.form),
    evaluator ? newEvaluation(() => ({ opd: Number(pick.opd.value), year: Number(pick.year.value) }), load) : '', slot);
  await load();
}

function newEvaluation(/** @type {() => { opd: number, year: number }} */ where, /** @type {() => void} */ reload) {
  const names = ['perencanaan_kinerja', 'pengukuran_kinerja', 'pelaporan_kinerja', 'evaluasi_akuntabilitas_kinerja_internal'];
  const type = h('select', { name: 'type' }, ['internal', 'external', 'self_assessment'].map((x) => h('option', { value: x }, x)));
  const scores = names.map((n) => h('input', { name: n, type: 'number', min: 0, max: 100, step: '0.01', required: true }));
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'settings', id: 'sakip-new-evaluation' }, h('label', {}, t('sType'), type),
    names.map((n, i) => h('label', {}, word('sComponents', n), scores[i])),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('create'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const { opd, year } = where();
    try {
      await sk('/evaluations', { method: 'POST', body: { opd_id: opd, year, type: type.value, components: Object.fromEntries(names.map((n, i) => [n, scores[i].value])) } });
      form.reset();
      out.replaceChildren();
      reload();
    } catch (err) { showError(err, out); }
  });
  return h('details', { class: 'card' }, h('summary', {}, t('sNewEvaluation')), form, out);
}

// ---------------------------------------------------------------- integrations
async function integrationsPage(/** @type {HTMLElement} */ root) {
  const slot = h('div', { id: 'sakip-integrations' }, h('p', { class: 'muted' }, t('loading')));
  const load = async () => {
    try {
      /** @type {Integration[]} */
      const rows = (await sk('/integrations?limit=50')).items;
      slot.replaceChildren(...(rows.length ? rows.map((i) => integrationCard(i, pick)) : [h('p', { class: 'empty card' }, t('none'))]));
    } catch (err) { showError(err, slot); }
  };
  const pick = await pickers(() => {});
  const name = h('input', { name: 'system_name', value: 'SIPD', required: true, size: 8 });
  const url = h('input', { name: 'endpoint_url', type: 'url', required: true, placeholder: 'https://sipd.example.go.id/api' });
  const key = h('input', { name: 'api_key', type: 'password', autocomplete: 'off' });
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'inline', id: 'sakip-new-integration' }, h('label', {}, t('sSystem'), name),
    h('label', {}, t('sEndpoint'), url), h('label', {}, t('sApiKey'), key), h('button', { type: 'submit' }, t('create')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await sk('/integrations', { method: 'POST', body: { system_name: name.value.trim(), system_type: 'budget', endpoint_url: url.value.trim(), api_key: key.value || null, sync_frequency: 'manual' } });
      form.reset();
      out.replaceChildren();
      load();
    } catch (err) { showError(err, out); }
  });
  root.replaceChildren(head(t('sIntegrations')),
    h('details', { class: 'card' }, h('summary', {}, t('sNewIntegration')), form, out),
    h('section', { class: 'card' }, pick.form), slot);
  await load();
}

/** One integration: its facts, "sync now" with the job's progress, and its sync logs. */
function integrationCard(/** @type {Integration} */ i, /** @type {{ opd: HTMLSelectElement, year: HTMLSelectElement }} */ pick) {
  const logs = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const drawFacts = (/** @type {Integration} */ x) => h('dl', { class: 'facts' }, h('dt', {}, t('sEndpoint')), h('dd', {}, x.endpoint_url || '—'),
    h('dt', {}, t('sLastSync')), h('dd', {}, fmtTime(x.last_sync)),
    h('dt', {}, t('sHealth')), h('dd', { dataset: { field: 'health' } }, x.health_score === null ? '—' : `${x.health_score}%`));
  const factsSlot = h('div', {}, drawFacts(i));
  /** The integration again after a sync: its last sync and health. */
  const facts = async () => {
    try { factsSlot.replaceChildren(drawFacts(await sk(`/integrations/${i.id}`))); } catch (err) { showError(err, factsSlot); }
  };
  const progress = h('div', { 'aria-live': 'polite', class: 'sync-progress' });
  const loadLogs = async () => {
    try {
      /** @type {SyncLog[]} */
      const rows = (await sk(`/integrations/${i.id}/sync-logs?limit=10`)).items;
      logs.replaceChildren(table([
        [t('time'), (l) => fmtTime(l.started_at), 'time'], [t('status'), (l) => h('span', { class: `pill ${l.status === 'completed' ? 'ok' : l.status === 'failed' ? 'bad' : ''}` }, word('sStatuses', l.status))],
        [t('sProcessed'), (l) => l.records_processed, 'num'], [t('sSucceeded'), (l) => l.records_success, 'num'],
        [t('error'), (l) => l.error_message || '—'],
      ], rows));
    } catch (err) { showError(err, logs); }
  };
  let alive = true;
  onLeave(() => { alive = false; });
  const follow = async (/** @type {number} */ job) => {
    while (alive) {
      /** @type {Job} */
      const j = await sk(`/jobs/${job}`);
      const done = j.status === 'completed' || j.status === 'failed';
      progress.replaceChildren(h('p', { dataset: { job: j.id, status: j.status } },
        `${t('sJob')} #${j.id}: `, h('span', { class: `pill ${j.status === 'completed' ? 'ok' : j.status === 'failed' ? 'bad' : 'warn'}` }, word('sStatuses', j.status)),
        ` ${t('sAttempts')} ${j.attempts}/${j.max_attempts}`, j.last_error ? h('span', { class: 'small muted' }, ` — ${j.last_error}`) : null),
      h('progress', { max: 3, value: done ? 3 : j.status === 'running' ? 2 : 1, 'aria-label': word('sStatuses', j.status) }));
      if (done) { loadLogs(); facts(); return; }
      await new Promise((r) => { setTimeout(r, 1000); });
    }
  };
  const sync = h('button', { type: 'button', class: 'secondary', id: `sakip-sync-${i.id}` }, t('sSyncNow'));
  sync.addEventListener('click', async () => {
    sync.disabled = true;
    try {
      /** @type {{ job_id: number }} */
      const queued = await sk(`/integrations/${i.id}/sync`, { method: 'POST', body: { opd_id: Number(pick.opd.value), year: Number(pick.year.value) } });
      await follow(queued.job_id);
    } catch (err) { showError(err, progress); } finally { sync.disabled = false; }
  });
  loadLogs();
  return h('section', { class: 'card', dataset: { integration: i.id } },
    h('div', { class: 'bar' }, h('h2', {}, i.system_name), h('span', { class: `pill ${i.status === 'active' ? 'ok' : ''}` }, word('sStatuses', i.status))),
    factsSlot,
    h('div', { class: 'actions' }, sync), progress,
    h('h3', {}, t('sSyncLogs')), logs);
}

// ---------------------------------------------------------------- report
/** @typedef {{ opd: { id: number, code: string, name: string }, indicators: number, achievements: number, average_achievement: Dec | null, budget: { allocation: Dec, realization: Dec, percentage: Dec | null }, latest_grade: string | null }} SummaryRow */

async function reportPage(/** @type {HTMLElement} */ root) {
  const slot = h('div', { id: 'sakip-summary' }, h('p', { class: 'muted' }, t('loading')));
  const out = h('div', { 'aria-live': 'polite' });
  const load = async () => {
    try {
      /** @type {{ opds: SummaryRow[] }} */
      const data = await sk(`/dashboard/summary?year=${pick.year.value}`);
      const rows = data.opds;
      slot.replaceChildren(h('div', { class: 'split' },
        h('section', { class: 'card' }, chart({ id: 'sakip-summary-chart', title: t('sSummary'), labels: rows.map((r) => r.opd.code), unit: '%',
          series: [{ label: t('sAverage'), data: rows.map((r) => num(r.average_achievement) ?? 0), color: 'brand' }, { label: t('sBudget'), data: rows.map((r) => num(r.budget.percentage) ?? 0), color: 'gold' }] })),
        h('section', { class: 'card' }, table([
          [t('sOpd'), (r) => r.opd.name], [t('sIndicators'), (r) => r.indicators, 'num'],
          [t('sAverage'), (r) => levelPill(r.average_achievement)], [t('sBudget'), (r) => levelPill(r.budget.percentage)],
          [t('sGrade'), (r) => r.latest_grade || '—'],
        ], rows))));
    } catch (err) { showError(err, slot); }
  };
  const pick = await pickers(load);
  const files = h('div', { class: 'actions' }, ['pdf', 'xlsx', 'csv'].map((format) => {
    const button = h('button', { type: 'button', class: 'secondary', id: `sakip-report-${format}` }, `${t('download')} ${format.toUpperCase()}`);
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await download(`${BASE}/reports/performance?opd_id=${pick.opd.value}&year=${pick.year.value}&format=${format}`, {}, `lkjip.${format}`);
        out.replaceChildren();
      } catch (err) { showError(err, out); } finally { button.disabled = false; }
    });
    return button;
  }));
  root.replaceChildren(head(t('sReport')), h('section', { class: 'card' }, pick.form, files, out), slot);
  await load();
}

addNav('sakip', '#/sakip/plan', 85, hasRole('sakip'));
addRoute(/^\/sakip$/, landing, 'sakip');
addRoute(/^\/sakip\/plan$/, planPage, 'sakip');
addRoute(/^\/sakip\/performance$/, performancePage, 'sakip');
addRoute(/^\/sakip\/budget$/, budgetPage, 'sakip');
addRoute(/^\/sakip\/evaluations$/, evaluationsPage, 'sakip');
addRoute(/^\/sakip\/integrations$/, integrationsPage, 'sakip');
addRoute(/^\/sakip\/report$/, reportPage, 'sakip');
