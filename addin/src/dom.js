// Building the pane's DOM (the CRM's web client uses this module too).
// Everything that comes from a message, the CRM or
// the engine goes in as text (text nodes, `textContent`), never as markup:
// there is no innerHTML anywhere in the pane.

/**
 * Creates an element. `props` sets properties and attributes (`class`,
 * `hidden`, `aria-*`, `data-*`, ...); event handlers go through `on`.
 * Children are nodes or strings (strings become text nodes).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'on') {
      for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
    } else if (key === 'class') {
      el.className = value;
    } else if (key === 'text') {
      el.textContent = String(value);
    } else if (key.startsWith('on') || key === 'innerHTML' || key === 'outerHTML') {
      throw new Error(`h(): ${key} is not allowed; use \`on\``);
    } else if (key in el && typeof value !== 'string') {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** The element with this id (throws when the page lacks it: a bug in the pane or the web client). */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el;
}

/** Shows or hides an element. */
export function show(el, visible = true) {
  el.hidden = !visible;
}

/** Sets a message box: its text (or list of lines), its tone (`info`, `success`, `warning`, `error`). */
export function setMessage(el, tone, text, lines = []) {
  el.className = `message ${tone ?? ''}`.trim();
  replace(el, text, lines.length ? h('ul', {}, lines.map((l) => h('li', {}, l))) : null);
  el.hidden = !text && !lines.length;
}

/** "sender is registered" -> "Sender is registered." (the engine's sentences are lower case, without a period). */
export function sentence(text) {
  const s = String(text ?? '').trim();
  if (!s) return '';
  const first = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}
