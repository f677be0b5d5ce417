// @ts-check
// What the modules register: hash routes, navigation entries and the parts other domains
// add to a page (the door page's settings, camera and history cards). main.js draws them.

/**
 * Draws a page into `root`; the arguments are the route pattern's captures.
 * @typedef {(root: HTMLElement, ...args: string[]) => Promise<void> | void} Render
 */

/** @typedef {{ pattern: RegExp, render: Render, nav: string }} Route */
/**
 * Who sees an entry: given the signed-in user's role in each domain (`UserView.roles`).
 * @typedef {(roles: Record<string, string>) => boolean} Allowed
 */
/** @typedef {{ key: string, href: string, order: number, allowed?: Allowed }} NavEntry */
/** @typedef {{ order: number, render: (subject: any) => Node }} Part */

/** @type {Route[]} */
export const routes = [];
/** @type {NavEntry[]} */
export const navigation = [];
/** @type {Map<string, Part[]>} */
const parts = new Map();

/** What the page on screen has to undo when the reader leaves it. */
export const page = {
  /** @type {(() => void)[]} */
  cleanups: [],
  generation: 0,
};

/**
 * Adds a page at `#…` paths matching `pattern`; `nav` is the menu entry it belongs to.
 * @param {RegExp} pattern
 * @param {Render} render
 * @param {string} nav
 */
export function addRoute(pattern, render, nav) {
  routes.push({ pattern, render, nav });
}

/**
 * Adds a menu entry: `key` is its word, `order` its place (10 overview … 70 audit, the
 * business domains after). `allowed` hides it from users without a role that may use it
 * (the server decides anyway; this only keeps the menu to what the reader can open).
 * @param {string} key
 * @param {string} href
 * @param {number} order
 * @param {Allowed} [allowed]
 */
export function addNav(key, href, order, allowed) {
  navigation.push({ key, href, order, allowed });
  navigation.sort((a, b) => a.order - b.order);
}

/** @type {Map<string, () => Node | null>} */
const extras = new Map();

/** Adds what follows a menu entry's word (a live badge), drawn with the menu. */
export function addNavExtra(/** @type {string} */ key, /** @type {() => Node | null} */ render) {
  extras.set(key, render);
}

/** What follows the menu entry `key`, if anything. */
export function navExtra(/** @type {string} */ key) {
  return extras.get(key)?.() ?? null;
}

/** Whether a user with `roles` may see the menu entry `key` (an unknown key: yes). */
export function navAllowed(/** @type {string} */ key, /** @type {Record<string, string>} */ roles) {
  const entry = navigation.find((n) => n.key === key);
  return !entry?.allowed || entry.allowed(roles);
}

/** A predicate for `addNav`: the user has one of `roles` in `domain` (any role without a list). */
export function hasRole(/** @type {string} */ domain, /** @type {string[]} */ ...roles) {
  return (/** @type {Record<string, string>} */ held) => {
    const role = held[domain];
    return Boolean(role) && (!roles.length || roles.includes(role));
  };
}

/**
 * Adds a part to the slot another module draws (e.g. `door`: cards on a door's page, given
 * the door); `order` places it.
 * @param {string} slot
 * @param {number} order
 * @param {(subject: any) => Node} render
 */
export function addPart(slot, order, render) {
  const list = parts.get(slot) || [];
  list.push({ order, render });
  list.sort((a, b) => a.order - b.order);
  parts.set(slot, list);
}

/** The parts registered for `slot`, drawn for `subject`. */
export function partsOf(/** @type {string} */ slot, /** @type {unknown} */ subject) {
  return (parts.get(slot) || []).map((part) => part.render(subject));
}

/** Runs `fn` when the reader leaves the current page. */
export function onLeave(/** @type {() => void} */ fn) {
  page.cleanups.push(fn);
}
