// @ts-check
// The JSON API: the session's access token, its single-flight refresh, errors in the
// server's own words, downloads.
import { h, notice, toast } from './dom.js';
import { lang, t } from './i18n.js';

/** The signed-in user as `POST /api/auth/login` answers it (`UserView`). */
/** @typedef {{ id: string, name: string, email?: string | null, roles?: Record<string, string> }} SessionUser */

/** A route this server does not have (yet): pages show what exists and say so. */
export class Missing extends Error {}

/** The API refused: `status` and the server's localized `message`. */
export class ApiFailure extends Error {
  /** @param {number} status @param {string} message @param {unknown} [data] */
  constructor(status, message, data) { super(message); this.status = status; this.data = data; }
}

export const session = {
  /** @returns {string | null} */
  get token() { return sessionStorage.getItem('gerbang.token'); },
  set token(v) { if (v) sessionStorage.setItem('gerbang.token', v); else sessionStorage.removeItem('gerbang.token'); },
  /** @returns {SessionUser | null} */
  get user() { try { return JSON.parse(sessionStorage.getItem('gerbang.user') || 'null'); } catch { return null; } },
  set user(v) { if (v) sessionStorage.setItem('gerbang.user', JSON.stringify(v)); else sessionStorage.removeItem('gerbang.user'); },
};

/** What the shell does when the session ends or is renewed (set by main.js). */
export const hooks = {
  /** @type {(message?: string) => void} */
  signedOut: () => {},
  /** @type {() => void} */
  refreshed: () => {},
};

/** @type {Promise<boolean> | null} */
let refreshing = null;

/** Trades the httpOnly refresh cookie for a new access token, once for all callers. */
export function refresh() {
  refreshing ??= fetch('/api/auth/refresh', { method: 'POST', credentials: 'same-origin', headers: { 'Accept-Language': lang } })
    .then(async (r) => {
      if (!r.ok) return false;
      /** @type {{ accessToken: string, user: SessionUser }} */
      const data = await r.json();
      session.token = data.accessToken;
      session.user = data.user;
      hooks.refreshed();
      return true;
    })
    .catch(() => false)
    .finally(() => { setTimeout(() => { refreshing = null; }, 0); });
  return refreshing;
}

/**
 * @typedef {object} CallOptions
 * @property {string} [method]
 * @property {unknown} [body] sent as JSON
 * @property {FormData} [form] sent as multipart
 * @property {boolean} [retry] refresh the token once on a 401
 */

/**
 * Calls the API and answers the parsed JSON (the caller names its type). Throws `Missing`
 * for a route the server lacks and `ApiFailure` with the server's own message otherwise.
 * @param {string} path
 * @param {CallOptions} [options]
 * @returns {Promise<any>}
 */
export async function api(path, options = {}) {
  const response = await call(path, options);
  const type = response.headers.get('content-type') || '';
  return type.includes('json') ? response.json() : response.text();
}

/**
 * Like `api`, but answers the Response itself (images, downloads).
 * @param {string} path
 * @param {CallOptions} [options]
 * @returns {Promise<Response>}
 */
export async function call(path, { method = 'GET', body, form, retry = true } = {}) {
  /** @type {Record<string, string>} */
  const headers = { 'Accept-Language': lang, Accept: 'application/json' };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  /** @type {BodyInit | undefined} */
  let payload;
  if (form) payload = form;
  else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  const response = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  if (response.status === 401 && retry && path !== '/api/auth/login') {
    if (await refresh()) return call(path, { method, body, form, retry: false });
    hooks.signedOut(t('sessionEnded'));
    throw new ApiFailure(401, t('sessionEnded'));
  }
  if (response.ok) return response;
  const type = response.headers.get('content-type') || '';
  // axum answers an unknown route with an empty 404 / 405; the API's own errors are JSON.
  if ((response.status === 404 || response.status === 405) && !type.includes('json')) {
    throw new Missing(path);
  }
  /** @type {{ message?: string, error?: string | { message?: string } } | null} */
  let data = null;
  try { data = type.includes('json') ? await response.json() : null; } catch { /* empty */ }
  // The platform answers `{message}`; SAKIP's envelope `{success: false, error: {message}}`.
  const nested = typeof data?.error === 'object' ? data.error?.message : data?.error;
  const message = data?.message || nested || `${t('error')} (${response.status})`;
  throw new ApiFailure(response.status, message, data);
}

/** Shows an error in `slot` (or a toast): "not available" for a missing route. */
export function showError(/** @type {unknown} */ err, /** @type {Element | null} */ slot = null) {
  const message = err instanceof Error ? err.message : String(err);
  const el = err instanceof Missing ? notice(t('notAvailable'), 'missing') : notice(message || t('error'), 'error');
  if (slot) slot.replaceChildren(el); else toast(message || t('error'), 'error');
  if (!(err instanceof Missing) && !(err instanceof ApiFailure)) console.error(err);
}

/**
 * Downloads an API answer as a file (exports).
 * @param {string} path
 * @param {CallOptions} options
 * @param {string} fallbackName
 */
export async function download(path, options, fallbackName) {
  const response = await call(path, options);
  const blob = await response.blob();
  const disposition = response.headers.get('content-disposition') || '';
  const name = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition)?.[1] || fallbackName;
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: decodeURIComponent(name) });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
