// @ts-check
// The dashboard shell: sign-in, the menu, the language switch and the hash router. The
// pages come from modules: the platform's (platform.js) and one per business domain, served
// at /assets/domains/{name}.js and listed by /assets/domains.json. Each registers its routes,
// menu entries and words when imported.
import { api, hooks, session, showError } from './api.js';
import { $, h, notice } from './dom.js';
import { lang, t, toggleLang } from './i18n.js';
import { loadBadge, setBadge } from './platform.js';
import { realtime } from './realtime.js';
import { navAllowed, navExtra, navigation, page, routes } from './router.js';

let focusMain = false;

function drawShell() {
  document.documentElement.lang = lang;
  document.title = 'Gerbang';
  $('.skip').textContent = t('skip');
  $('#nav').setAttribute('aria-label', t('menu'));
  const roles = session.user?.roles || {};
  $('#nav').replaceChildren(...navigation.filter((n) => navAllowed(n.key, roles))
    .map(({ key, href }) => h('a', { href, dataset: { key } }, t(key), navExtra(key))));
  $('#lang').textContent = t('other');
  $('#lang').setAttribute('lang', lang === 'id' ? 'en' : 'id');
  $('#logout').textContent = t('signOut');
  realtime.draw();
}

async function route() {
  page.cleanups.splice(0).forEach((fn) => fn());
  // A newer navigation (or a sign-out) wins over a slower, older page still loading.
  const generation = ++page.generation;
  const path = decodeURIComponent(location.hash.replace(/^#/, '').split('?')[0]) || '/';
  if (!session.token) { $('#top').hidden = true; return loginPage(); }
  $('#top').hidden = false;
  drawShell();
  realtime.connect();
  const found = routes.find((r) => r.pattern.test(path)) || routes.find((r) => r.pattern.test('/'));
  const roles = session.user?.roles || {};
  // The start page belongs to the doors; someone who only orders meals or runs SAKIP starts
  // on the first page of the menu they may open.
  if (found && path === '/' && !navAllowed(found.nav, roles)) {
    // A page of one of the reader's roles first (the notifications are everybody's).
    const first = navigation.find((n) => n.allowed && n.allowed(roles)) || navigation.find((n) => navAllowed(n.key, roles));
    if (first && first.href !== '#/') { location.replace(first.href); return; }
  }
  const nav = found?.nav || '';
  for (const a of document.querySelectorAll('#nav a')) {
    if (a instanceof HTMLElement && a.dataset.key === nav) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const root = $('#main');
  root.replaceChildren(h('p', { class: 'muted' }, t('loading')));
  const holder = h('div');
  try {
    if (!found) throw new Error(t('none'));
    await found.render(holder, ...(found.pattern.exec(path) || []).slice(1));
  } catch (err) {
    showError(err, holder);
  }
  if (generation !== page.generation) return;
  const view = document.createDocumentFragment();
  view.append(...holder.childNodes);
  root.replaceChildren(view);
  document.title = `${root.querySelector('h1')?.textContent || t(nav)} · Gerbang`;
  if (focusMain) root.focus();
  focusMain = true;
}

/** @type {string | null} */
let loginMessage = null;

/** @param {string} [message] */
function signedOut(message) {
  session.token = null;
  session.user = null;
  realtime.close();
  setBadge(0);
  loginMessage = message || null;
  if (location.hash !== '#/') location.hash = '#/'; else route();
}

function loginPage() {
  const root = $('#main');
  const error = h('div', { 'aria-live': 'assertive' });
  if (loginMessage) { error.append(notice(loginMessage)); loginMessage = null; }
  // One field for every identifier the platform knows: email, phone, NIK, employee number
  // (the meals portal's ADM001) or username (SAKIP); the server reads which it is.
  const email = h('input', { name: 'login', type: 'text', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true, autofocus: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const button = h('button', { type: 'submit' }, t('signIn'));
  const form = h('form', { class: 'stack', novalidate: true },
    h('label', {}, t('loginId'), email), h('label', {}, t('password'), password), button);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    try {
      /** @type {{ accessToken: string, user: import('./api.js').SessionUser }} */
      const answer = await api('/api/auth/login', { method: 'POST', body: { login: email.value.trim(), password: password.value } });
      session.token = answer.accessToken;
      session.user = answer.user;
      location.hash = '#/';
      route();
      loadBadge();
    } catch (err) {
      error.replaceChildren(notice(err instanceof Error ? err.message : String(err), 'error'));
    } finally {
      button.disabled = false;
    }
  });
  root.replaceChildren(h('section', { class: 'login card', 'aria-labelledby': 'login-title' },
    h('div', { class: 'brand' }, h('img', { src: '/assets/icon.svg', alt: '', width: 40, height: 40 }), 'Gerbang'),
    h('h1', { id: 'login-title' }, t('signInTitle')),
    h('p', { class: 'muted' }, t('signInLead')),
    error, form,
    h('p', { class: 'lang' }, h('button', { type: 'button', class: 'link', lang: lang === 'id' ? 'en' : 'id', onclick: switchLanguage }, t('other')))));
  document.title = `${t('signIn')} · Gerbang`;
  email.focus();
}

function switchLanguage() {
  toggleLang();
  focusMain = false;
  route();
}

/** Imports every domain's module; each registers its pages as it loads. */
async function loadDomains() {
  /** @type {string[]} */
  const names = await (await fetch('/assets/domains.json', { credentials: 'same-origin' })).json();
  await Promise.all(names.map((name) => import(`./domains/${encodeURIComponent(name)}.js`)
    .catch((err) => console.error(`dashboard module ${name}:`, err))));
}

hooks.signedOut = signedOut;
hooks.refreshed = () => realtime.reconnect();
$('#lang').addEventListener('click', switchLanguage);
$('#logout').addEventListener('click', async () => {
  try { await api('/api/auth/logout', { method: 'POST', retry: false }); } catch { /* signed out anyway */ }
  signedOut();
});
await loadDomains();
window.addEventListener('hashchange', route);
route();
if (session.token) loadBadge();
