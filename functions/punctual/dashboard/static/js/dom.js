// Building DOM without innerHTML: every text goes through textContent, so API data cannot inject markup.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (name in element && typeof value !== "string") {
      element[name] = value;
    } else {
      element.setAttribute(name, value === true ? "" : value);
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

let counter = 0;
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

// A labelled input with an error slot: {wrapper, input, error}. The error is announced with the input.
export function field(label, control, { hint, name } = {}) {
  const id = control.id || uid(name || "field");
  control.id = id;
  if (name) control.name = name;
  const error = h("div", { class: "error", id: `${id}-error`, role: "alert" });
  const hintNode = hint ? h("div", { class: "hint", id: `${id}-hint` }, hint) : null;
  control.setAttribute("aria-describedby", [hintNode && hintNode.id, error.id].filter(Boolean).join(" "));
  const wrapper = h("div", { class: "field" }, h("label", { for: id }, label), control, hintNode, error);
  return { wrapper, input: control, error };
}

export function setError(slot, message) {
  slot.error.textContent = message || "";
  if (message) slot.input.setAttribute("aria-invalid", "true");
  else slot.input.removeAttribute("aria-invalid");
}

export function clear(element) {
  while (element.firstChild) element.firstChild.remove();
  return element;
}
