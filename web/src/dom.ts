/**
 * DOM building without HTML parsing: the site's CSP requires Trusted Types with no policy, so
 * `innerHTML`, `insertAdjacentHTML` and `document.write` would throw. Everything is made with
 * `createElement`, attributes and text nodes.
 */

export type Child = Node | string | null | undefined | false;
/** Attribute values: a string is set as is, `true` sets an empty (boolean) attribute, `false`/`undefined` leave it out. */
export type Attributes = Record<string, string | number | boolean | undefined>;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

/** Replaces every child of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** Text that screen readers read but that is not shown, e.g. the item title inside an "Edit" button. */
export function visuallyHidden(text: string): HTMLSpanElement {
  return el('span', { class: 'visually-hidden' }, text);
}

export function byId<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`#${id} is missing from index.html`);
  return found as T;
}

let idCounter = 0;
/** A document-unique id for label/description links. */
export function uniqueId(prefix: string): string {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}
