// The dashboard in real headless Chromium (Debian's, driven by playwright-core) against a
// running all-in-one `gerbang`. Started by gerbang/tests/browser.rs, which passes:
//   GERBANG_URL, GERBANG_ADMIN_EMAIL, GERBANG_ADMIN_PASSWORD, ARTIFACTS (screenshot dir),
//   CHROMIUM (executable), FIXTURES (models/testdata).
// Every scenario saves a screenshot; a failing one also saves `FAILED-<step>.png`. Exits
// non-zero on the first failure, with the reason on stderr.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const base = process.env.GERBANG_URL;
const email = process.env.GERBANG_ADMIN_EMAIL;
const password = process.env.GERBANG_ADMIN_PASSWORD;
const artifacts = process.env.ARTIFACTS;
const fixtures = process.env.FIXTURES;
for (const [name, value] of Object.entries({ GERBANG_URL: base, GERBANG_ADMIN_EMAIL: email, GERBANG_ADMIN_PASSWORD: password, ARTIFACTS: artifacts, FIXTURES: fixtures })) {
  if (!value) { console.error(`${name} is not set`); process.exit(2); }
}
fs.mkdirSync(artifacts, { recursive: true });

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gerbang-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    // A fake camera and an auto-accepted permission prompt for the webcam enrolment path.
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
  viewport: { width: 1280, height: 860 },
  acceptDownloads: true,
  locale: 'id-ID',
});
const page = context.pages()[0] || await context.newPage();
page.setDefaultTimeout(15000);
const problems = [];
page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`); });

const results = [];
let shot = 0;
async function screenshot(name) {
  shot += 1;
  const file = path.join(artifacts, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
function check(condition, message) { if (!condition) throw new Error(message); }

/** Runs a scenario; a skipped one says why (a server route that does not exist yet). */
async function step(name, fn) {
  const started = Date.now();
  try {
    const outcome = await fn();
    const ms = Date.now() - started;
    if (outcome && outcome.skipped) {
      results.push({ name, ms, skipped: outcome.skipped });
      console.log(`SKIP ${name} (${ms} ms): ${outcome.skipped}`);
    } else {
      results.push({ name, ms });
      console.log(`ok   ${name} (${ms} ms)`);
    }
  } catch (err) {
    await page.screenshot({ path: path.join(artifacts, `FAILED-${name}.png`), fullPage: true }).catch(() => {});
    console.error(`FAIL ${name}: ${err.stack || err}`);
    if (problems.length) console.error(problems.join('\n'));
    await context.close();
    process.exit(1);
  }
}

/** Whether the server has a route (an unknown one is an empty 404/405). */
async function routeExists(method, url) {
  const status = await page.evaluate(async ([m, u]) => {
    const token = sessionStorage.getItem('gerbang.token');
    const r = await fetch(u, { method: m, headers: { Authorization: `Bearer ${token}` } });
    const json = (r.headers.get('content-type') || '').includes('json');
    return (r.status === 404 || r.status === 405) && !json ? 0 : r.status;
  }, [method, url]);
  return status !== 0;
}

const heading = () => page.locator('main h1').first();

await step('sign-in', async () => {
  await page.goto(base);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Kata sandi').fill('salah-sekali');
  await page.getByRole('button', { name: 'Masuk' }).click();
  await page.locator('.notice.error').waitFor();
  await screenshot('sign-in-refused');
  await page.getByLabel('Kata sandi').fill(password);
  await page.getByRole('button', { name: 'Masuk' }).click();
  await page.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Ringkasan');
  await page.locator('[data-device="door-1"]').waitFor();
  // The session cookie is httpOnly: page script cannot read it.
  check(!(await page.evaluate(() => document.cookie)).includes('refreshToken'), 'refresh token visible to script');
});

await step('overview-live-visit', async () => {
  // A marker that a reload would wipe: the event must arrive over the live channel.
  await page.evaluate(() => { window.noReload = true; });
  await page.locator('#live.on').waitFor({ timeout: 10000 });
  const visit = page.locator('#feed li[data-kind="access_decision"]').first();
  await visit.waitFor({ timeout: 45000 });
  const text = await visit.textContent();
  check(/Akses (diterima|ditolak)/.test(text) && /\((tombol keluar|wajah)/.test(text), `unexpected visit text: ${text}`);
  check(await page.evaluate(() => window.noReload === true), 'the page reloaded');
  await screenshot('overview');
});

await step('door-unlock', async () => {
  await page.locator('[data-device="door-1"] .title a').click();
  await page.locator('#unlock').waitFor();
  const lock = page.locator('main [data-field="lock"]');
  await page.waitForFunction(() => /Terkunci/.test(document.querySelector('[data-field="lock"]')?.textContent || ''), null, { timeout: 20000 });
  // Every state the lock field shows from here on, so a brief one cannot be missed between
  // two animation frames (a face visitor may release the door again right after it locks).
  await page.evaluate(() => {
    window.lockStates = [];
    const main = document.querySelector('main');
    // A redraw replaces the field, so watch what holds it.
    new MutationObserver(() => window.lockStates.push(main.querySelector('[data-field="lock"]')?.textContent || ''))
      .observe(main, { childList: true, subtree: true, characterData: true });
  });
  await page.locator('#unlock-seconds').fill('3');
  await page.locator('#unlock').click();
  // The device acknowledged with its relay released...
  await page.locator('#control-result .notice', { hasText: 'Pintu berhasil dibuka' }).waitFor();
  check(/Tidak terkunci/.test(await lock.first().textContent()), 'the lock did not show released');
  await screenshot('door-unlocked');
  // ...and the relay engaging again after 3 s arrives live, from the device's own event.
  await page.waitForFunction(() => {
    const released = window.lockStates.findIndex((s) => /Tidak terkunci/.test(s));
    return released >= 0 && window.lockStates.slice(released).some((s) => /^Terkunci/.test(s));
  }, null, { timeout: 15000 });
  // The cloud's own status agrees (a face visitor may hold the door released a few seconds).
  let status;
  for (let tries = 0; tries < 20; tries += 1) {
    status = await page.evaluate(async () => {
      const r = await fetch('/api/door/status?device_id=door-1', { headers: { Authorization: `Bearer ${sessionStorage.getItem('gerbang.token')}` } });
      return r.json();
    });
    if (status.locked === true) break;
    await page.waitForTimeout(500);
  }
  check(status.locked === true, `the cloud's door status says ${JSON.stringify(status)}`);
});

await step('door-camera-and-settings', async () => {
  if (!(await routeExists('POST', '/api/camera/capture'))) {
    await screenshot('door');
    return { skipped: 'POST /api/camera/capture does not exist on the server yet' };
  }
  await page.locator('#snapshot').click();
  await page.locator('#snapshot-image, #camera-result .notice.error').first().waitFor({ timeout: 20000 });
  const refused = page.locator('#camera-result .notice.error');
  check(await refused.count() === 0, `the snapshot failed: ${await refused.first().textContent().catch(() => '')}`);
  await screenshot('door-snapshot');
  return undefined;
});

await step('devices-enrol-code', async () => {
  await page.getByRole('link', { name: 'Perangkat' }).click();
  await page.getByLabel('ID perangkat').fill('door-9');
  await page.getByLabel('Nama perangkat').fill('Pintu Gudang');
  await page.getByRole('button', { name: 'Buat kode' }).click();
  const command = await page.locator('#enrol-command').textContent();
  const code = await page.locator('#enrol-code').textContent();
  check(command === `edge-daemon enroll --cloud ${base} --code ${code}`, `command was: ${command}`);
  await page.locator('table td', { hasText: 'door-9' }).first().waitFor();
  await screenshot('devices');
});

await step('notifications-and-badge', async () => {
  await page.getByRole('link', { name: /Notifikasi/ }).click();
  await page.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Notifikasi');
  // A notification an admin sends arrives live and raises the badge without a reload.
  const before = Number(await page.locator('#badge').textContent());
  await page.evaluate(async () => {
    const token = sessionStorage.getItem('gerbang.token');
    const me = await (await fetch('/api/auth/me', { headers: { Authorization: `Bearer ${token}` } })).json();
    await fetch('/api/notifications', { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ user_id: me.user.id, title: 'Uji dasbor', message: 'Pesan dari uji peramban' }) });
  });
  await page.locator('main td', { hasText: 'Uji dasbor' }).waitFor();
  await page.waitForFunction((n) => Number(document.querySelector('#badge')?.textContent) > n, before);
  await screenshot('notifications');
  // Marking it read: the server's unread count drops by one (device alerts may arrive too,
  // so compare with the count the page showed just before).
  const row = page.locator('main tr', { hasText: 'Uji dasbor' });
  await row.getByRole('button', { name: 'Tandai dibaca' }).click();
  await row.getByRole('button', { name: 'Tandai dibaca' }).waitFor({ state: 'detached' });
  check(!(await row.getAttribute('class') || '').includes('unread'), 'the notification still shows unread');
});

await step('audit-trail', async () => {
  await page.getByRole('link', { name: 'Jejak audit' }).click();
  await page.locator('main td code', { hasText: 'door_unlock' }).first().waitFor();
  await page.locator('main td code', { hasText: 'device_create' }).first().waitFor();
  await screenshot('audit');
});

// The person the dashboard enrols, and whom the door must then recognise by name.
const VISITOR = 'Tamu Uji Peramban';
let enrolled = false;

await step('users-and-face-enrolment', async () => {
  await page.getByRole('link', { name: 'Pengguna' }).click();
  await page.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Pengguna');
  if (!(await routeExists('GET', '/api/users'))) {
    await screenshot('users');
    return { skipped: 'GET /api/users does not exist on the server yet' };
  }
  await page.locator('main table, main .empty').first().waitFor();
  // The demo enrols Obama itself at start; remove him so that only the enrolment made here
  // can make the door recognise his face.
  page.on('dialog', (dialog) => dialog.accept());
  for (const row of await page.locator('main tr', { hasText: 'obama@demo.gerbang.local' }).all()) {
    await row.getByRole('button', { name: /^Hapus/ }).click();
    await page.locator('main tr', { hasText: 'obama@demo.gerbang.local' }).waitFor({ state: 'detached' });
  }
  await page.locator('#new-user').click();
  const dialog = page.locator('dialog[open]');
  await dialog.getByLabel('Nama', { exact: true }).fill(VISITOR);
  await dialog.getByLabel('Email').fill('tamu@gerbang.test');
  await dialog.getByRole('button', { name: 'Buat' }).click();
  const row = page.locator('main tr', { hasText: 'tamu@gerbang.test' });
  await row.waitFor();
  await screenshot('users');
  await row.getByRole('button', { name: /^Daftarkan wajah/ }).click();
  // No enrolment before the person's consent is ticked (UU PDP).
  await page.locator('#face-consent-text', { hasText: 'Pelindungan Data Pribadi' }).waitFor();
  await page.locator('#face-file').setInputFiles(path.join(fixtures, 'people', 'obama', 'obama.jpg'));
  await page.locator('#face-upload button').click();
  await page.locator('#face-result .notice.error', { hasText: 'persetujuan' }).waitFor();
  await page.locator('#face-consent').check();
  // A photo without a face is refused with the pipeline's reason.
  await page.locator('#face-file').setInputFiles(path.join(fixtures, 'nonfaces', 'coffee.jpg'));
  await page.locator('#face-upload button').click();
  const refusal = page.locator('#face-result .notice.error');
  await refusal.waitFor({ timeout: 60000 });
  console.log(`     refused photo: ${await refusal.textContent()}`);
  await screenshot('face-refused');
  await page.locator('#face-file').setInputFiles(path.join(fixtures, 'people', 'obama', 'obama.jpg'));
  await page.locator('#face-upload button').click();
  await page.locator('#face-result .notice:not(.error)').waitFor({ timeout: 60000 });
  await screenshot('face-enrolled');
  await page.keyboard.press('Escape');
  await row.locator('.pill.ok', { hasText: 'Terdaftar' }).waitFor();
  enrolled = true;
  return undefined;
});

await step('door-recognises-enrolled-face', async () => {
  if (!enrolled) return { skipped: 'no face was enrolled (the users API is missing)' };
  await page.getByRole('link', { name: 'Ringkasan' }).click();
  await page.locator('#live.on').waitFor({ timeout: 10000 });
  // The demo door's camera shows Obama every other visit; a face decision of any kind
  // shows the door's vision runs at all.
  const faceSeen = page.locator('#feed li[data-kind="access_decision"]', { hasText: /wajah/ }).first();
  try {
    await faceSeen.waitFor({ timeout: 45000 });
  } catch {
    return { skipped: 'the demo door made no face decision in 45 s (no visitors in front of its camera in this build)' };
  }
  await page.locator('#feed li', { hasText: `Akses diterima — ${VISITOR} (wajah)` }).first().waitFor({ timeout: 60000 });
  await screenshot('overview-recognised');
  return undefined;
});

await step('history-and-csv-export', async () => {
  await page.getByRole('link', { name: 'Riwayat akses' }).click();
  await page.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Riwayat akses');
  if (!(await routeExists('GET', '/api/history/access'))) {
    await screenshot('history');
    return { skipped: 'GET /api/history/access does not exist on the server yet' };
  }
  await page.locator('main table tbody tr').first().waitFor({ timeout: 20000 });
  await screenshot('history');
  if (!(await routeExists('POST', '/api/analytics/export'))) {
    return { skipped: 'POST /api/analytics/export does not exist on the server yet' };
  }
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-csv').click()]);
  const file = path.join(artifacts, download.suggestedFilename() || 'export.csv');
  await download.saveAs(file);
  const lines = fs.readFileSync(file, 'utf8').trim().split(/\r?\n/);
  check(lines.length >= 2, `the CSV has ${lines.length} lines`);
  check(lines[0].includes(','), `the CSV header is ${lines[0]}`);
  return undefined;
});

await step('attendance', async () => {
  await page.getByRole('link', { name: 'Kehadiran' }).click();
  await page.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Kehadiran');
  await page.waitForFunction(() => !/Memuat/.test(document.querySelector('main')?.textContent || ''));
  // Today's table: the administrator and the person made on the users page are expected
  // at work today (no access windows: every day); nobody checked in, so both are absent.
  const table = page.locator('main table');
  await table.waitFor();
  for (const name of ['Administrator', VISITOR]) {
    const row = table.locator('tbody tr', { hasText: name });
    await row.waitFor();
    check(await row.getAttribute('data-status') === 'absent', `${name} is not shown absent`);
    check((await row.locator('.pill.bad').textContent()) === 'Tidak hadir', `${name}'s status pill`);
  }
  check(/Tidak hadir [1-9]/.test(await page.locator('#attendance-totals').textContent()), 'the totals count nobody absent');
  await screenshot('attendance');
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#attendance-csv').click()]);
  const file = path.join(artifacts, download.suggestedFilename() || 'attendance.csv');
  check(/^kehadiran-\d{4}-\d{2}-\d{2}-/.test(download.suggestedFilename()), `the CSV is named ${download.suggestedFilename()}`);
  await download.saveAs(file);
  const lines = fs.readFileSync(file, 'utf8').trim().split(/\r?\n/);
  check(lines[0].startsWith('Nama,Departemen,Masuk,Pulang,Status'), `the CSV header is ${lines[0]}`);
  check(lines.some((l) => l.startsWith(`${VISITOR},`) && l.includes('Tidak hadir')), `the CSV lacks ${VISITOR}: ${lines.join(' | ')}`);
  // The department filter narrows the table (nobody is in this one).
  await page.locator('#attendance-day input[name=department]').fill('Departemen Kosong');
  await page.locator('#attendance-day button[type=submit]').click();
  await page.locator('main .empty').waitFor();
  return undefined;
});

await step('english-and-accessibility', async () => {
  await page.getByRole('link', { name: 'Jejak audit' }).click();
  await page.locator('#lang').click();
  await page.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Audit trail');
  check(await page.evaluate(() => document.documentElement.lang) === 'en', 'lang attribute not switched');
  // Every form control on every page has an accessible name.
  for (const link of ['Overview', 'Devices', 'Users', 'Access history', 'Attendance', 'Notifications', 'Audit trail']) {
    await page.getByRole('link', { name: new RegExp(`^${link}`) }).click();
    await page.waitForFunction((title) => document.querySelector('main h1')?.textContent === title, link);
    await page.waitForFunction(() => !/Loading/.test(document.querySelector('main')?.textContent || ''));
    const unnamed = await page.evaluate(() => [...document.querySelectorAll('main input, main select, main button, main textarea')]
      .filter((el) => !el.labels?.length && !el.getAttribute('aria-label') && !el.textContent.trim())
      .map((el) => el.outerHTML.slice(0, 80)));
    check(unnamed.length === 0, `${link}: controls without a name: ${unnamed.join(' | ')}`);
  }
  // Keyboard: after a fresh load the skip link is the first stop.
  await page.reload();
  await page.locator('main h1').waitFor();
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement?.className) === 'skip', 'the skip link is not the first tab stop');
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.locator('[data-device="door-1"]').waitFor();
  await screenshot('overview-english');
  await page.locator('#lang').click();
  await page.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Ringkasan');
});

await step('phone-screen', async () => {
  // Every page at a phone's width: nothing wider than the screen (wide tables scroll inside
  // their own frame), every page's heading and navigation reachable.
  await page.setViewportSize({ width: 390, height: 844 });
  const pages = [['overview', '#/'], ['door', '#/door/door-1'], ['devices', '#/devices'],
    ['users', '#/users'], ['history', '#/history'], ['attendance', '#/attendance'],
    ['notifications', '#/notifications'], ['audit', '#/audit']];
  for (const [name, hash] of pages) {
    await page.evaluate((h) => { location.hash = h; }, hash);
    await page.waitForTimeout(150);
    // Rendered: a heading, and no longer just the "loading" line.
    await page.waitForFunction(() => document.querySelector('main h1') && !document.querySelector('main > p.muted:only-child'));
    await page.waitForTimeout(300);
    const overflow = await page.evaluate(() => {
      const width = window.innerWidth;
      const excess = document.documentElement.scrollWidth - width;
      // Name the widest element that pokes out, so a failure says what to fix.
      let culprit = '';
      if (excess > 1) {
        for (const el of document.querySelectorAll('main *, header *')) {
          const r = el.getBoundingClientRect();
          if (r.right > width + 1 && !el.closest('.table-wrap, nav, pre')) {
            culprit = `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${[...el.classList].join('.')} right=${Math.round(r.right)}`;
            break;
          }
        }
      }
      return { excess, culprit };
    });
    check(overflow.excess <= 1, `the ${name} page is ${overflow.excess}px wider than a phone (${overflow.culprit})`);
    await screenshot(`${name}-phone`);
  }
  await page.setViewportSize({ width: 1280, height: 860 });
});

await step('sign-out', async () => {
  await page.locator('#logout').click();
  await page.getByLabel('Email').waitFor();
  check(await page.evaluate(() => sessionStorage.getItem('gerbang.token')) === null, 'the token survived sign-out');
});

const hard = problems.filter((p) => !/Failed to load resource/.test(p));
await context.close();
fs.rmSync(profile, { recursive: true, force: true });
if (hard.length) {
  console.error(`browser reported errors:\n${hard.join('\n')}`);
  process.exit(1);
}
console.log(`dashboard: ${results.filter((r) => !r.skipped).length} scenarios passed, ${results.filter((r) => r.skipped).length} skipped`);
