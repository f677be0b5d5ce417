// What a browser suite needs around its scenarios: Chromium with one context per signed-in
// user (each collecting its console errors), named steps that stop the run on the first
// failure with a screenshot, screenshots, the phone-width check, an API client for the
// "second user" that changes things behind a page's back, and file checks.
// Used by domains.mjs (dashboard.mjs keeps its own copies for now).
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

/** Reads the environment the Rust side passes; exits 2 when something is missing. */
export function env(names) {
  const out = {};
  for (const name of names) {
    out[name] = process.env[name];
    if (!out[name]) { console.error(`${name} is not set`); process.exit(2); }
  }
  return out;
}

export function check(condition, message) { if (!condition) throw new Error(message); }

/**
 * A run: a Chromium, its users' pages, steps and screenshots.
 * @param {{ artifacts: string, chromium?: string }} options
 */
export async function startRun({ artifacts, chromium: executable }) {
  fs.mkdirSync(artifacts, { recursive: true });
  const browser = await chromium.launch({
    executablePath: executable || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const problems = [];
  const pages = [];
  const results = [];
  let shot = 0;

  const run = {
    problems,
    /** A fresh context (its own session storage and cookies) and page for one user. */
    async page(label, viewport = { width: 1280, height: 860 }) {
      const context = await browser.newContext({ viewport, acceptDownloads: true, locale: 'id-ID' });
      const page = await context.newPage();
      page.setDefaultTimeout(15000);
      page.on('pageerror', (err) => problems.push(`${label}: page error: ${err.message}`));
      page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`${label}: console error: ${msg.text()}`); });
      pages.push(page);
      return page;
    },
    async screenshot(page, name) {
      shot += 1;
      const file = path.join(artifacts, `${String(shot).padStart(2, '0')}-${name}.png`);
      // From the top: the sticky header would otherwise be drawn over the page at the scroll offset.
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    /** Runs a scenario; the first failure ends the run (screenshots of every open page). */
    async step(name, fn) {
      const started = Date.now();
      try {
        await fn();
        results.push({ name, ms: Date.now() - started });
        console.log(`ok   ${name} (${Date.now() - started} ms)`);
      } catch (err) {
        for (const [i, page] of pages.entries()) {
          await page.screenshot({ path: path.join(artifacts, `FAILED-${name}-${i}.png`), fullPage: true }).catch(() => {});
        }
        console.error(`FAIL ${name}: ${err.stack || err}`);
        if (problems.length) console.error(problems.join('\n'));
        await browser.close();
        process.exit(1);
      }
    },
    /** Ends the run: fails on console errors (a missing resource aside). */
    async finish(label) {
      const hard = problems.filter((p) => !/Failed to load resource/.test(p));
      await browser.close();
      if (hard.length) {
        console.error(`browser reported errors:\n${hard.join('\n')}`);
        process.exit(1);
      }
      console.log(`${label}: ${results.length} scenarios passed`);
    },
  };
  return run;
}

/** Signs in through the dashboard's form and waits for the first page's heading. */
export async function signIn(page, base, login, password) {
  await page.goto(base);
  await page.getByLabel('Email').fill(login);
  await page.getByLabel('Kata sandi').fill(password);
  await page.getByRole('button', { name: 'Masuk' }).click();
  await page.locator('#top:not([hidden])').waitFor();
  await settled(page);
}

/** Waits until the page has a heading and no "loading" line left in it. */
export async function settled(page) {
  await page.waitForFunction(() => document.querySelector('main h1') && !document.querySelector('main .login')
    && !/Memuat…|Loading…/.test(document.querySelector('main')?.textContent || ''), null, { timeout: 20000 });
}

/** Goes to `hash` (no reload) and waits for the page. */
export async function visit(page, hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForTimeout(100);
  await settled(page);
}

/** How far the page pokes out of its viewport, and the first element that does. */
export async function overflow(page) {
  return page.evaluate(() => {
    const width = window.innerWidth;
    const excess = document.documentElement.scrollWidth - width;
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
}

/** Every form control in <main> has an accessible name (a label, aria-label or text). */
export async function unnamedControls(page) {
  return page.evaluate(() => [...document.querySelectorAll('main input, main select, main button, main textarea')]
    .filter((el) => !el.labels?.length && !el.getAttribute('aria-label') && !el.textContent.trim())
    .map((el) => el.outerHTML.slice(0, 80)));
}

/** Clicks `button` and saves the download; answers its path and first bytes. */
export async function downloadVia(page, button, artifacts) {
  const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
  const file = path.join(artifacts, download.suggestedFilename() || 'download.bin');
  await download.saveAs(file);
  const bytes = fs.readFileSync(file);
  return { file, bytes, name: download.suggestedFilename() };
}

/** The magic of each export format. */
export function looksLike(format, bytes) {
  if (format === 'pdf') return bytes.subarray(0, 5).toString('latin1') === '%PDF-';
  if (format === 'xlsx') return bytes[0] === 0x50 && bytes[1] === 0x4b && bytes.includes(Buffer.from('xl/'));
  if (format === 'csv') return bytes.length > 0 && bytes.includes(0x2c);
  return false;
}

/**
 * An API client signed in as someone else (the "second user"): `POST /api/auth/login` with
 * one identifier, then JSON calls with its bearer token.
 */
export async function client(base, login, password) {
  const r = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login, password }) });
  const body = await r.json();
  check(r.ok, `login as ${login}: ${r.status} ${JSON.stringify(body)}`);
  const token = body.accessToken;
  const call = async (method, url, data, headers = {}) => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers },
      body: data === undefined ? undefined : JSON.stringify(data),
    });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { json = text; }
    check(res.ok, `${method} ${url} as ${login}: ${res.status} ${text.slice(0, 300)}`);
    return json;
  };
  return { token, user: body.user, get: (u) => call('GET', u), post: (u, d, h) => call('POST', u, d ?? {}, h), patch: (u, d) => call('PATCH', u, d), put: (u, d) => call('PUT', u, d) };
}
