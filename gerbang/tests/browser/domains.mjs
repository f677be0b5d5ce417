// The business domains' dashboard pages in real headless Chromium against a running
// all-in-one `gerbang` (its demo data: meals seed 003 accounts, SAKIP's testuser and demo
// OPD, ChatMe's agency, hosts and viewers). Started by gerbang/tests/browser.rs, which passes
// GERBANG_URL, GERBANG_ADMIN_EMAIL, GERBANG_ADMIN_PASSWORD, ARTIFACTS, CHROMIUM and, when the
// Socket.IO client is installed, SOCKETIO_MODULES (cloud-api/tests/socketio/node_modules).
//
// Every role of every domain signs in through the dashboard's one sign-in field and walks
// its pages: no console error, nothing wider than a 390 px screen, every control named; the
// live parts change without a reload while a second client (this script, with another
// user's token) changes something; downloads are real files (%PDF, PK…xl/, CSV). Every page
// is saved as a screenshot.
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  check, client, downloadVia, env, looksLike, overflow, settled, signIn, startRun, unnamedControls, visit,
} from './harness.mjs';

const { GERBANG_URL: base, GERBANG_ADMIN_EMAIL: adminEmail, GERBANG_ADMIN_PASSWORD: adminPassword, ARTIFACTS: artifacts } =
  env(['GERBANG_URL', 'GERBANG_ADMIN_EMAIL', 'GERBANG_ADMIN_PASSWORD', 'ARTIFACTS']);
const run = await startRun({ artifacts, chromium: process.env.CHROMIUM });
const step = run.step;

/** A marker a reload would wipe. */
const mark = (page) => page.evaluate(() => { window.noReload = true; });
const notReloaded = async (page, what) => check(await page.evaluate(() => window.noReload === true), `${what}: the page reloaded`);
const live = (page) => page.locator('#live.on').waitFor({ timeout: 15000 });

/** Each page of a role at a phone's width: no overflow, named controls, a screenshot. */
async function phoneWalk(page, name, hashes) {
  await page.setViewportSize({ width: 390, height: 844 });
  for (const hash of hashes) {
    await visit(page, hash);
    await page.waitForTimeout(300);
    const { excess, culprit } = await overflow(page);
    check(excess <= 1, `${name} ${hash} is ${excess}px wider than a phone (${culprit})`);
    const unnamed = await unnamedControls(page);
    check(unnamed.length === 0, `${name} ${hash}: controls without a name: ${unnamed.join(' | ')}`);
    await run.screenshot(page, `${name}-${hash.replace(/^#\//, '').replace(/\//g, '-')}-phone`);
  }
  await page.setViewportSize({ width: 1280, height: 860 });
}

/** Checks a page's CSV/XLSX/PDF buttons (`${prefix}-${format}`) give real files. */
async function files(page, prefix, formats = ['csv', 'xlsx', 'pdf']) {
  for (const format of formats) {
    const { bytes, name } = await downloadVia(page, page.locator(`#${prefix}-${format}`), artifacts);
    check(looksLike(format, bytes), `${prefix} ${format}: ${name} is not a ${format} file (${bytes.subarray(0, 8).toString('hex')})`);
  }
}

/** A chart drawn by Chart.js (or drawn as "nothing here" when there is no data). */
async function chartDrawn(page, selector) {
  await page.locator(`${selector}[data-ready]`).waitFor({ timeout: 15000 });
  const state = await page.locator(selector).getAttribute('data-ready');
  if (state === 'true') {
    const painted = await page.locator(`${selector} canvas`).evaluate((c) => {
      const ctx = c.getContext('2d');
      const { data } = ctx.getImageData(0, 0, c.width, c.height);
      for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
      return false;
    });
    check(painted, `${selector}: the canvas is blank`);
  }
}

// ================================================================ meals
const employee = await run.page('EMP001');
const kitchen = await run.page('KIT001');
const delivery = await run.page('DEL001');
const mealsAdmin = await run.page('ADM001');
let firstCode = '';
let second = null;

await step('meals-employee-order', async () => {
  await signIn(employee, base, 'EMP001', 'emp123');
  check(await employee.evaluate(() => location.hash) === '#/meals/order', `EMP001 landed on ${await employee.evaluate(() => location.hash)}`);
  const menu = (await employee.locator('#nav a').allTextContents()).join(' | ');
  check(!/Ringkasan|Perangkat|SAKIP|ChatMe/.test(menu), `an employee's menu: ${menu}`);
  await employee.getByLabel('Jumlah porsi').fill('2');
  await employee.getByRole('button', { name: 'Pesan', exact: true }).click();
  const placed = await employee.locator('#meals-order-result .notice').textContent();
  firstCode = /PM-\d{8}-\d+/.exec(placed)?.[0] || '';
  check(firstCode, `no order code in ${placed}`);
  await employee.locator(`#meals-my-orders tr[data-order="${firstCode}"][data-status="MENUNGGU"]`).waitFor();
  await live(employee);
  await mark(employee);
  await run.screenshot(employee, 'meals-employee-order');
});

await step('meals-kitchen-queue-live', async () => {
  await signIn(kitchen, base, 'KIT001', 'kitchen123');
  check(await kitchen.evaluate(() => location.hash) === '#/meals/kitchen', 'KIT001 did not land on the kitchen queue');
  await kitchen.locator(`#kitchen-queue [data-order="${firstCode}"]`).waitFor();
  await live(kitchen);
  await mark(kitchen);
  // A second client: EMP001 orders over the API; the kitchen sees it without a reload.
  const emp = await client(base, 'EMP001', 'emp123');
  const shifts = await emp.get('/meals/api/shifts');
  second = await emp.post('/meals/api/orders', { shiftId: shifts[0].id, jumlahPesanan: 3 });
  await kitchen.locator(`#kitchen-queue [data-order="${second.kodePesanan}"]`).waitFor();
  await notReloaded(kitchen, 'kitchen');
  await run.screenshot(kitchen, 'meals-kitchen-queue');
  // The kitchen starts the first order: the employee's "my orders" follows, live.
  await kitchen.locator(`#kitchen-queue [data-order="${firstCode}"]`).getByRole('button', { name: 'Mulai' }).click();
  await employee.locator(`#meals-my-orders tr[data-order="${firstCode}"][data-status="IN_PROGRESS"]`).waitFor();
  await notReloaded(employee, 'my orders');
  await run.screenshot(employee, 'meals-my-orders-live');
});

await step('meals-approval-centre-live', async () => {
  await signIn(mealsAdmin, base, 'ADM001', 'admin123');
  await visit(mealsAdmin, '#/meals/approvals');
  await live(mealsAdmin);
  await mark(mealsAdmin);
  const before = Number(await mealsAdmin.locator('#meals-badge').textContent());
  // The kitchen asks (over the API) to reject the second order: the request and the badge arrive live.
  const kit = await client(base, 'KIT001', 'kitchen123');
  await kit.post(`/meals/api/orders/${second.id}/request-rejection`, { catatanDapur: 'Bahan untuk pesanan ini habis' });
  const card = mealsAdmin.locator(`#approvals [data-order="${second.kodePesanan}"]`);
  await card.waitFor();
  await mealsAdmin.waitForFunction((n) => Number(document.querySelector('#meals-badge')?.textContent) > n, before);
  await notReloaded(mealsAdmin, 'approvals');
  await run.screenshot(mealsAdmin, 'meals-approvals');
  await card.getByLabel('Catatan admin').fill('Disetujui, bahan memang habis');
  await card.getByRole('button', { name: 'Setujui' }).click();
  await card.waitFor({ state: 'detached' });
  await employee.locator(`#meals-my-orders tr[data-order="${second.kodePesanan}"][data-status="DITOLAK"]`).waitFor();
});

await step('meals-delivery-board-live', async () => {
  await signIn(delivery, base, 'DEL001', 'delivery123');
  check(await delivery.evaluate(() => location.hash) === '#/meals/delivery', 'DEL001 did not land on the delivery board');
  await live(delivery);
  await mark(delivery);
  // The kitchen marks the first order ready in its page; the board shows it without a reload.
  await kitchen.locator(`#kitchen-queue [data-order="${firstCode}"]`).getByRole('button', { name: 'Tandai siap' }).click();
  const ready = delivery.locator(`#delivery-ready [data-order="${firstCode}"]`);
  await ready.waitFor();
  await notReloaded(delivery, 'delivery board');
  await ready.getByRole('button', { name: 'Antar' }).click();
  const onTheWay = delivery.locator(`#delivery-on-the-way [data-order="${firstCode}"]`);
  await onTheWay.waitFor();
  await employee.locator(`#meals-my-orders tr[data-order="${firstCode}"][data-status="ON_DELIVERY"]`).waitFor();
  await run.screenshot(delivery, 'meals-delivery');
  await onTheWay.getByRole('button', { name: 'Selesai diantar' }).click();
  await onTheWay.waitFor({ state: 'detached' });
  await employee.locator(`#meals-my-orders tr[data-order="${firstCode}"][data-status="COMPLETE"]`).waitFor();
});

await step('meals-admin-pages', async () => {
  await visit(mealsAdmin, '#/meals/orders');
  await mealsAdmin.locator(`main tr[data-order="${firstCode}"][data-status="COMPLETE"]`).waitFor();
  await run.screenshot(mealsAdmin, 'meals-all-orders');
  await visit(mealsAdmin, '#/meals/master');
  const form = mealsAdmin.locator('#master-departments');
  await form.getByLabel('Nama').fill('Logistik Uji');
  await form.getByRole('button', { name: 'Tambah' }).click();
  await mealsAdmin.locator('main td', { hasText: 'Logistik Uji' }).waitFor();
  await run.screenshot(mealsAdmin, 'meals-master');
  await visit(mealsAdmin, '#/meals/reports');
  for (const id of ['consumption', 'department', 'performance']) await chartDrawn(mealsAdmin, `#meals-report-${id} figure.chart`);
  await run.screenshot(mealsAdmin, 'meals-reports');
  await files(mealsAdmin, 'meals-consumption');
  await files(mealsAdmin, 'meals-rejections', ['pdf']);
  await visit(mealsAdmin, '#/meals/audit');
  await mealsAdmin.locator('main td code', { hasText: 'ORDER_CREATED' }).first().waitFor();
  await mealsAdmin.getByLabel('Kode').fill(firstCode);
  await mealsAdmin.locator('#meals-order-lookup button').click();
  await mealsAdmin.locator('#meals-order-history td code', { hasText: 'ORDER_STATUS_CHANGED' }).first().waitFor();
  await run.screenshot(mealsAdmin, 'meals-audit');
  await files(mealsAdmin, 'meals-trail', ['xlsx', 'pdf']);
});

await step('meals-english-and-phone', async () => {
  await mealsAdmin.locator('#lang').click();
  await mealsAdmin.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Meals audit log');
  await mealsAdmin.locator('#lang').click();
  await mealsAdmin.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Riwayat audit makan');
  await phoneWalk(employee, 'meals-employee', ['#/meals/order']);
  await phoneWalk(kitchen, 'meals-kitchen', ['#/meals/kitchen']);
  await phoneWalk(delivery, 'meals-delivery', ['#/meals/delivery']);
  await phoneWalk(mealsAdmin, 'meals-admin', ['#/meals/approvals', '#/meals/orders', '#/meals/master', '#/meals/reports', '#/meals/audit']);
});

// ================================================================ SAKIP
const sakip = await run.page('testuser');
const sipd = http.createServer((req, res) => {
  // A stand-in SIPD: the budget of the asked OPD and year.
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ data: [{ code: 'SIPD-UJI-1', category: 'belanja_bantuan', amount: '2500000.00' }] }));
});
await new Promise((resolve) => { sipd.listen(0, '127.0.0.1', resolve); });
const sipdUrl = `http://127.0.0.1:${sipd.address().port}`;
let sakipApi = null;
let opdId = 0;

await step('sakip-planning-tree', async () => {
  await signIn(sakip, base, 'testuser', 'testpass');
  await visit(sakip, '#/sakip/plan');
  await sakip.locator('#sakip-tree li[data-level="kegiatan"]').first().waitFor();
  check(await sakip.locator('#sakip-tree li.ind').count() >= 3, 'the tree shows no indicators');
  // Editable: a new programme under the demo's sasaran.
  const sasaran = await sakip.locator('#sakip-tree li[data-level="sasaran"]').first().getAttribute('data-id');
  const adder = sakip.locator('#sakip-tree details').first();
  await adder.locator('summary').click();
  await adder.getByLabel('Induk').selectOption(`sasaran:${sasaran}`);
  await adder.getByLabel('Kode').fill('P9');
  await adder.getByLabel('Nama').fill('Program uji peramban');
  await adder.locator('button[type=submit]').click();
  await sakip.locator('#sakip-tree li[data-level="program"]', { hasText: 'Program uji peramban' }).waitFor();
  await run.screenshot(sakip, 'sakip-plan');
  sakipApi = await client(base, 'testuser', 'testpass');
  opdId = (await sakipApi.get('/sakip/api/v1/opd')).data.items[0].id;
});

await step('sakip-achievement-entry', async () => {
  await visit(sakip, '#/sakip/performance');
  await sakip.locator('#sakip-achievements tr[data-achievement]').first().waitFor();
  check(await sakip.locator('#sakip-achievements .pill[data-level]').count() > 0, 'no coloured percentages');
  await sakip.locator('#sakip-entry select[name=month]').selectOption('12');
  await sakip.locator('#sakip-entry input[name=achievement_value]').fill('60');
  await sakip.locator('#sakip-entry button[type=submit]').click();
  await sakip.locator('#sakip-entry-result .pill[data-level]').waitFor();
  // The same indicator's December target down to 50: 60 of 50 is 120 %, recomputed.
  await sakip.locator('#sakip-target select[name=month]').selectOption('12');
  await sakip.locator('#sakip-target input[name=target_value]').fill('50');
  await sakip.locator('#sakip-target button[type=submit]').click();
  await sakip.locator('#sakip-entry-result .notice', { hasText: 'Target tersimpan' }).waitFor();
  await sakip.locator('#sakip-achievements .pill[data-level="a"]', { hasText: '120.00%' }).waitFor();
  await run.screenshot(sakip, 'sakip-performance');
});

await step('sakip-budget-evaluations-report', async () => {
  await visit(sakip, '#/sakip/budget');
  await chartDrawn(sakip, '#sakip-absorption');
  await run.screenshot(sakip, 'sakip-budget');
  await visit(sakip, '#/sakip/evaluations');
  const grade = await sakip.locator('[data-grade]').first().textContent();
  check(/^(AA|A|BB|B|CC|C|D)$/.test(grade), `the demo evaluation's grade: ${grade}`);
  await run.screenshot(sakip, 'sakip-evaluations');
  await visit(sakip, '#/sakip/report');
  await chartDrawn(sakip, '#sakip-summary-chart');
  await files(sakip, 'sakip-report', ['pdf', 'xlsx', 'csv']);
  await run.screenshot(sakip, 'sakip-report');
});

await step('sakip-sync-now-progress', async () => {
  await visit(sakip, '#/sakip/integrations');
  await sakip.locator('main details.card summary').click();
  await sakip.getByLabel('Alamat API').fill(sipdUrl);
  await sakip.getByLabel('Kunci API').fill('kunci-uji');
  await sakip.locator('#sakip-new-integration button[type=submit]').click();
  const card = sakip.locator('[data-integration]').last();
  await card.waitFor();
  await mark(sakip);
  await card.getByRole('button', { name: 'Sinkron sekarang' }).click();
  await card.locator('.sync-progress [data-status]').waitFor();
  await card.locator('.sync-progress [data-status="completed"]').waitFor({ timeout: 30000 });
  await card.locator('tbody tr').first().waitFor();
  const [processed, succeeded] = await card.locator('tbody tr').first().locator('td.num').allTextContents();
  check(processed === '1' && succeeded === '1', `the sync log says ${processed} processed, ${succeeded} succeeded`);
  await card.locator('[data-field="health"]', { hasText: '100%' }).waitFor();
  await notReloaded(sakip, 'integrations');
  await run.screenshot(sakip, 'sakip-integrations');
  // The synchronised allocation is in the budget now.
  await visit(sakip, '#/sakip/budget');
  await sakip.locator('#sakip-budget tr', { hasText: 'Belanja bantuan' }).locator('td', { hasText: '2.500.000,00' }).waitFor();
});

await step('sakip-other-roles', async () => {
  const users = [
    ['penilai', 'evaluator', null], ['pemantau', 'viewer', null], ['admin-dinkes', 'admin_opd', opdId],
  ];
  for (const [username, role, opd] of users) {
    await sakipApi.post('/sakip/api/v1/users', { username, email: `${username}@sakip.test`, name: `Uji ${role}`, password: `${username}-rahasia`, role, opd_id: opd });
  }
  // The evaluator verifies an achievement someone else entered.
  const evaluator = await run.page('penilai');
  await signIn(evaluator, base, 'penilai', 'penilai-rahasia');
  await visit(evaluator, '#/sakip/performance');
  const row = evaluator.locator('#sakip-achievements tr[data-achievement]', { has: evaluator.getByRole('button', { name: 'Verifikasi' }) }).first();
  const id = await row.getAttribute('data-achievement');
  await row.getByRole('button', { name: 'Verifikasi' }).click();
  await evaluator.locator(`#sakip-achievements tr[data-achievement="${id}"] .pill.ok`).waitFor();
  check(await evaluator.locator('#sakip-entry').count() === 0, 'an evaluator sees the entry form');
  await run.screenshot(evaluator, 'sakip-evaluator');
  // A viewer reads, edits nothing; an OPD admin enters its own OPD's achievements.
  const viewer = await run.page('pemantau');
  await signIn(viewer, base, 'pemantau', 'pemantau-rahasia');
  await visit(viewer, '#/sakip/plan');
  await viewer.locator('#sakip-tree li[data-level="tujuan"]').first().waitFor();
  check(await viewer.locator('#sakip-tree details').count() === 0, 'a viewer may add to the tree');
  check(await viewer.locator('nav.tabs a', { hasText: 'Integrasi' }).count() === 0, 'a viewer sees integrations');
  const opdAdmin = await run.page('admin-dinkes');
  await signIn(opdAdmin, base, 'admin-dinkes', 'admin-dinkes-rahasia');
  await visit(opdAdmin, '#/sakip/performance');
  await opdAdmin.locator('#sakip-entry').waitFor();
  await run.screenshot(opdAdmin, 'sakip-admin-opd');
  await phoneWalk(viewer, 'sakip-viewer', ['#/sakip/plan', '#/sakip/budget']);
  await phoneWalk(sakip, 'sakip-super-admin', ['#/sakip/plan', '#/sakip/performance', '#/sakip/budget', '#/sakip/evaluations', '#/sakip/integrations', '#/sakip/report']);
  await sakip.locator('#lang').click();
  await sakip.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Performance report');
  await sakip.locator('#lang').click();
});
sipd.close();

// ================================================================ ChatMe
const chat = await run.page('chatme-admin');
const agencyOwner = await run.page('081211110000');

await step('chatme-on-air-live', async () => {
  await signIn(chat, base, adminEmail, adminPassword);
  await visit(chat, '#/chatme/live');
  const card = chat.locator('#chatme-on-air [data-session]').first();
  await card.waitFor();
  await mark(chat);
  const admin = await client(base, adminEmail, adminPassword);
  const [onAir] = (await admin.get('/chatme/api/admin/live-sessions')).sessions;
  const income = () => card.locator('[data-field="income"]').textContent();
  const before = await income();
  // A viewer (another client) sends a gift into the live session: the income follows.
  const budi = await client(base, '081211110003', 'chatme123');
  await budi.post('/chatme/api/gifts/send', { receiver_id: onAir.host_id, gift_name: 'Love', quantity: 2, live_session_id: onAir.id }, { 'Idempotency-Key': `uji-${Date.now()}` });
  await chat.waitForFunction(([b]) => document.querySelector('#chatme-on-air [data-field="income"]')?.textContent !== b, [before], { timeout: 10000 });
  // …and joining the room over Socket.IO counts as a viewer.
  const modules = process.env.SOCKETIO_MODULES;
  if (modules) {
    const { io } = createRequire(path.join(modules, 'index.js'))('socket.io-client');
    const socket = io(`${base}/chatme`, { auth: { token: budi.token }, transports: ['websocket'] });
    await new Promise((resolve, reject) => { socket.on('connect', resolve); socket.on('connect_error', reject); });
    await new Promise((resolve) => { socket.emit('live:join', { roomId: onAir.room_id }, resolve); });
    await chat.waitForFunction(() => document.querySelector('#chatme-on-air [data-field="viewers"]')?.textContent === '1', null, { timeout: 10000 });
    await run.screenshot(chat, 'chatme-on-air');
    socket.close();
  } else {
    console.log('     (no socket.io-client: viewer count not exercised)');
    await run.screenshot(chat, 'chatme-on-air');
  }
  await notReloaded(chat, 'on air');
});

await step('chatme-gifts-coins-agencies-rankings', async () => {
  await visit(chat, '#/chatme/gifts');
  const gift = chat.locator('#chatme-gift-form');
  await gift.getByLabel('Nama').fill('Bintang Uji');
  await gift.getByLabel('Nilai koin').fill('20');
  await gift.getByRole('button', { name: 'Tambah hadiah' }).click();
  await chat.locator('main tr[data-gift="Bintang Uji"]').waitFor();
  await run.screenshot(chat, 'chatme-gifts');
  await visit(chat, '#/chatme/coins');
  await chat.getByLabel('Cari akun').fill('Sari');
  await chat.getByRole('button', { name: 'Cari' }).click();
  await chat.locator('main tr', { hasText: 'Viewer Sari' }).waitFor();
  await chat.locator('#chatme-credit-account').selectOption({ label: 'Viewer Sari (+6281211110004)' });
  await chat.getByLabel('Jumlah koin').fill('100');
  await chat.getByLabel('Referensi pembayaran').fill('INV-UJI-0001');
  await chat.getByRole('button', { name: 'Kreditkan' }).click();
  await chat.locator('#chatme-credit-result .notice', { hasText: '10.100' }).waitFor();
  await run.screenshot(chat, 'chatme-coins');
  // Sari applies for an agency (another client); the admin approves it here.
  const sari = await client(base, '081211110004', 'chatme123');
  await sari.post('/chatme/api/agency/apply', { family_name: 'Keluarga Uji', region: 'Bandung', phone: '081211110004' });
  await visit(chat, '#/chatme/agencies');
  await chat.locator('#chatme-agency-status').selectOption('pending');
  const row = chat.locator('main tr[data-agency="Keluarga Uji"]');
  await row.getByRole('button', { name: /^Setujui/ }).click();
  await row.waitFor({ state: 'detached' });
  await chat.locator('#chatme-agency-status').selectOption('approved');
  await chat.locator('main tr[data-agency="Keluarga Uji"] .pill.ok').waitFor();
  await run.screenshot(chat, 'chatme-agencies');
  await visit(chat, '#/chatme/rankings');
  await chartDrawn(chat, '#chatme-hosts');
  await chartDrawn(chat, '#chatme-fans');
  await run.screenshot(chat, 'chatme-rankings');
  await phoneWalk(chat, 'chatme-admin', ['#/chatme/live', '#/chatme/gifts', '#/chatme/coins', '#/chatme/agencies', '#/chatme/rankings']);
});

await step('chatme-host-income-and-salary', async () => {
  const rina = await run.page('081211110001');
  await signIn(rina, base, '081211110001', 'chatme123');
  await visit(rina, '#/chatme/host');
  await rina.locator('#chatme-host-income .stat').first().waitFor();
  await chartDrawn(rina, '#chatme-host-gifts');
  await rina.getByRole('button', { name: 'Minta gaji' }).click();
  await rina.locator('#chatme-salary-result .notice').waitFor();
  await run.screenshot(rina, 'chatme-host');
  await phoneWalk(rina, 'chatme-host', ['#/chatme/host', '#/chatme/rankings']);
});

await step('chatme-agency-owner', async () => {
  await signIn(agencyOwner, base, '081211110000', 'chatme123');
  await visit(agencyOwner, '#/chatme/agency');
  const owner = await client(base, '081211110000', 'chatme123');
  const { agency } = await owner.get('/chatme/api/agency/profile');
  const budi = await client(base, '081211110003', 'chatme123');
  await budi.post(`/chatme/api/agency/${agency.id}/host-applications`, { name: 'Budi Calon Host', gender: 'male', id_number: '3201010101010001' });
  await agencyOwner.reload();
  await settled(agencyOwner);
  const application = agencyOwner.locator('main tr', { hasText: 'Budi Calon Host' });
  check((await application.locator('code').textContent()).endsWith('0001'), 'the ID number is not masked to its last digits');
  await application.getByRole('button', { name: /^Setujui/ }).click();
  await agencyOwner.locator('main tr', { hasText: 'Budi Calon Host' }).locator('.pill.ok').waitFor();
  await chartDrawn(agencyOwner, '#chatme-agency-hosts');
  // Rina's salary request (the step before) is decided here.
  const salary = agencyOwner.locator('main tr', { has: agencyOwner.getByRole('button', { name: /^Setujui: \d{4}-W/ }) }).first();
  await salary.getByRole('button', { name: /^Setujui/ }).click();
  await agencyOwner.locator('main tr', { hasText: /\d{4}-W\d{2}/ }).locator('.pill.ok').first().waitFor();
  await run.screenshot(agencyOwner, 'chatme-agency');
  await phoneWalk(agencyOwner, 'chatme-agency', ['#/chatme/agency', '#/chatme/rankings']);
  // The walk ended on the rankings: in English, its heading and tabs.
  await agencyOwner.locator('#lang').click();
  await agencyOwner.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Rankings');
  await agencyOwner.locator('nav.tabs a', { hasText: 'My agency' }).waitFor();
  await run.screenshot(agencyOwner, 'chatme-rankings-english');
});

await run.finish('domains');
