// Dialogs (the native <dialog>: modal, focus kept inside, Escape closes) and toasts (a polite live region).
import { clear, h } from "./dom.js";

const dialog = () => document.getElementById("dialog");

// A modal dialog. `content` builds the body; `onConfirm` may throw to keep the dialog open (it shows
// the error); resolves with what onConfirm returned, or null when cancelled.
export function openDialog({ title, content, confirmLabel = "Confirm", danger = false, onConfirm }) {
  const node = dialog();
  clear(node);
  const status = h("div", { class: "error", role: "alert" });
  const confirm = h("button", { type: "submit", class: danger ? "danger" : "primary" }, confirmLabel);
  const cancel = h("button", { type: "button", value: "cancel" }, "Cancel");
  const form = h("form", { method: "dialog" },
    h("h2", { id: "dialog-title" }, title),
    content,
    status,
    h("div", { class: "buttons" }, cancel, confirm));
  node.append(form);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (value) => {
      if (settled) return;
      settled = true;
      if (node.open) node.close();
      resolve(value);
    };
    cancel.addEventListener("click", () => finish(null));
    node.addEventListener("close", () => finish(null), { once: true });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      confirm.disabled = true;
      status.textContent = "";
      try {
        finish(onConfirm ? await onConfirm() : true);
      } catch (error) {
        status.textContent = error.message;
        confirm.disabled = false;
      }
    });
    node.showModal();
    const first = form.querySelector("input, select, textarea") || confirm;
    first.focus();
  });
}

export function confirmAction(title, text, { confirmLabel, danger } = {}) {
  return openDialog({ title, content: h("p", {}, text), confirmLabel, danger });
}

export function toast(text, { status, timeout = 5000 } = {}) {
  const region = document.getElementById("toasts");
  const label = h("span", {}, text);
  const badge = h("span", { class: status ? `status status-${status}` : "" }, status || "");
  const close = h("button", { type: "button", "aria-label": "Dismiss" }, "×");
  const node = h("div", { class: "toast", role: "status" }, label, badge, close);
  region.append(node);
  let timer = null;
  const handle = {
    node,
    update(newText, newStatus) {
      label.textContent = newText;
      badge.textContent = newStatus || "";
      badge.className = newStatus ? `status status-${newStatus}` : "";
    },
    close() { node.remove(); },
    expire(ms) {
      clearTimeout(timer);
      timer = setTimeout(() => node.remove(), ms);
    },
  };
  close.addEventListener("click", () => handle.close());
  if (timeout) handle.expire(timeout);
  return handle;
}
