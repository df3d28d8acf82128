// Small DOM helpers. Every text reaches the page through textContent or an
// attribute, never as markup, so nothing an API answer holds can become
// script or markup in the console.

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | boolean | number | null | undefined | EventListener>;

/** h creates an element: attributes ("on…" ones are listeners), then children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, ...children);
  return el;
}

/** append adds children, flattening lists and skipping empty ones. */
export function append(el: Node, ...children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  }
}

/** replace empties el and adds children. */
export function replace(el: Node, ...children: (Child | Child[])[]): void {
  while (el.firstChild) el.removeChild(el.firstChild);
  append(el, ...children);
}

let ids = 0;
/** uid returns a fresh element id with the given prefix. */
export function uid(prefix: string): string {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** when formats an ISO time for a person, in their locale and time zone. */
export function when(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** busy disables a button while work runs and says so to assistive technology. */
export async function busy<T>(button: HTMLButtonElement, work: () => Promise<T>): Promise<T> {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/**
 * confirmDialog asks a yes/no question in a modal <dialog>: the browser
 * moves focus into it, keeps it there and closes it on Escape.
 */
export function confirmDialog(title: string, text: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const titleId = uid("dialog-title");
    const textId = uid("dialog-text");
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-labelledby": titleId, "aria-describedby": textId },
      h("h2", { id: titleId }, title),
      h("p", { id: textId }, text),
    );
    const answer = (yes: boolean) => () => {
      dialog.close(yes ? "yes" : "no");
    };
    append(
      dialog,
      h(
        "p",
        { class: "buttons" },
        h("button", { type: "button", class: "danger", onclick: answer(true) }, confirmLabel),
        " ",
        h("button", { type: "button", onclick: answer(false) }, "Cancel"),
      ),
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "yes");
    });
    document.body.appendChild(dialog);
    dialog.showModal();
  });
}
