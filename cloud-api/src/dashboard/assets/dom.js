// @ts-check
// Building the page. Every value from the server goes in as text (never as HTML), so
// nothing a device or user sends can inject markup or script.
import { locale, t } from './i18n.js';

/** @typedef {Node | string | number | null | undefined | false} Leaf */
/** @typedef {Leaf | Leaf[] | Leaf[][]} Child */
/** @typedef {Record<string, any>} Attrs */

/**
 * Builds an element; strings become text nodes, never HTML. `on…` attributes are event
 * listeners, `class` the class name, `dataset` the data attributes, `true` an empty one.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs | null} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(2)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/**
 * The first element matching `selector` (the page's own markup: it must be there).
 * @template {Element} [E=HTMLElement]
 * @param {string} selector
 * @param {ParentNode} [root]
 * @returns {E}
 */
export function $(selector, root = document) {
  const el = root.querySelector(selector);
  if (!el) throw new Error(`${selector} is missing`);
  return /** @type {E} */ (/** @type {unknown} */ (el));
}

/** A time from the API (RFC 3339) in the reader's language; `—` when there is none. */
export function fmtTime(/** @type {string | null | undefined} */ v, withDate = true) {
  if (!v) return '—';
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return String(v);
  return d.toLocaleString(locale(), withDate
    ? { dateStyle: 'medium', timeStyle: 'medium' } : { timeStyle: 'medium' });
}

/** A message that goes away by itself. */
export function toast(/** @type {string} */ message, /** @type {string} */ kind = '') {
  const el = h('div', { class: `toast ${kind}` }, message);
  $('#toasts').append(el);
  setTimeout(() => el.remove(), 5000);
}

/** A message in the page; `error` ones are alerts. */
export function notice(/** @type {string} */ message, /** @type {string} */ kind = '') {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : null }, message);
}

/**
 * @template T
 * @typedef {[label: string, cell: (row: T) => Child, cls?: string]} Column
 */

/**
 * A table in a frame that scrolls on narrow screens; "nothing here" without rows.
 * @template T
 * @param {(Column<T> | null)[]} columns
 * @param {T[]} rows
 * @param {(row: T) => Attrs} [rowAttrs]
 */
export function table(columns, rows, rowAttrs) {
  const cols = /** @type {Column<T>[]} */ (columns.filter(Boolean));
  if (!rows.length) return h('div', { class: 'table-wrap' }, h('p', { class: 'empty' }, t('none')));
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, cols.map(([label, , cls]) => h('th', { scope: 'col', class: cls }, label)))),
    h('tbody', {}, rows.map((row) => h('tr', rowAttrs ? rowAttrs(row) : {}, cols.map(([, cell, cls]) => h('td', { class: cls }, cell(row))))))));
}

/** A date field (`YYYY-MM-DD`). */
export function dateInput(/** @type {string} */ name, value = '') {
  return h('input', { type: 'date', name, value });
}

/** A form's named control (typed for the checker). */
export function field(/** @type {HTMLFormElement} */ form, /** @type {string} */ name) {
  return /** @type {HTMLInputElement} */ (form.elements.namedItem(name));
}

/**
 * A row of links between the pages of one domain (tabs); the current one is marked. Entries
 * the reader may not open are left out by the caller.
 * @param {string} label what the row is, for screen readers
 * @param {{ href: string, text: string }[]} entries
 */
export function subnav(label, entries) {
  if (entries.length < 2) return null;
  const here = location.hash.split('?')[0];
  return h('nav', { class: 'tabs', 'aria-label': label }, entries.map(({ href, text }) =>
    h('a', { href, 'aria-current': here === href ? 'page' : null }, text)));
}

/**
 * A domain's own pages, each for some of its roles (none listed: every role): the ones the
 * reader may open, the heading with their tabs, and the domain's start (its first page).
 * @param {string} label the domain's word (the tabs' name for screen readers)
 * @param {{ href: string, key: string, roles: string[] }[]} pages
 * @param {() => string} role the reader's role in the domain
 */
export function domainPages(label, pages, role) {
  const mine = () => pages.filter((p) => !p.roles.length || p.roles.includes(role()));
  return {
    mine,
    /** The heading (with `aside` beside it) and the tabs. */
    head(/** @type {string} */ title, /** @type {Node | null} */ aside = null) {
      return h('div', {}, h('div', { class: 'head' }, h('h1', {}, title), aside),
        subnav(t(label), mine().map((p) => ({ href: p.href, text: t(p.key) }))));
    },
    /** Goes to the reader's first page (a route that draws nothing itself). */
    landing() {
      const first = mine()[0];
      location.replace(first ? first.href : '#/');
    },
  };
}
