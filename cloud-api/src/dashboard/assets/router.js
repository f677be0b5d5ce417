// @ts-check
// What the modules register: hash routes, navigation entries and the parts other domains
// add to a page (the door page's settings, camera and history cards). main.js draws them.

/**
 * Draws a page into `root`; the arguments are the route pattern's captures.
 * @typedef {(root: HTMLElement, ...args: string[]) => Promise<void> | void} Render
 */

/** @typedef {{ pattern: RegExp, render: Render, nav: string }} Route */
/** @typedef {{ key: string, href: string, order: number }} NavEntry */
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

/** Adds a menu entry: `key` is its word, `order` its place (10 overview … 70 audit). */
export function addNav(/** @type {string} */ key, /** @type {string} */ href, /** @type {number} */ order) {
  navigation.push({ key, href, order });
  navigation.sort((a, b) => a.order - b.order);
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
