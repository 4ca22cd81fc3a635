// Boot and routing: #/signin, #/tasks?filters, #/new, #/task/<id>. Without a session, sign-in first.
import { Api } from "./api.js";
import { createView } from "./create_view.js";
import { detailView } from "./detail_view.js";
import { clear, field, h } from "./dom.js";
import { Live } from "./live.js";
import * as session from "./session.js";
import { tasksView } from "./tasks_view.js";

const main = document.getElementById("main");
const live = new Live(document.getElementById("live"));
let defaults = { apiUrl: location.origin };

// A stage deploys config.json beside the pages with its API's URL; punctual dev serves the API here.
async function loadConfig() {
  try {
    const response = await fetch("config.json", { cache: "no-store" });
    if (response.ok) defaults = { ...defaults, ...(await response.json()) };
  } catch {
    // No config: the API is on this origin.
  }
}

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function signIn() {
  const current = session.load() || {};
  const apiUrl = field("API URL", h("input", { type: "url", required: true, value: current.apiUrl || defaults.apiUrl }),
    { name: "apiUrl" });
  const apiKey = field("API key", h("input", { type: "password", required: true, autocomplete: "off" }),
    { name: "apiKey", hint: "Sent as x-api-key. Kept in this tab's session storage only." });
  const user = field("User", h("input", { type: "text", value: current.user || "" }),
    { name: "user", hint: "Optional: narrows the tenant to one user (X-Punctual-User)." });
  const status = h("div", { class: "error", role: "alert" });
  const form = h("form", { class: "signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in"), apiUrl.wrapper, apiKey.wrapper, user.wrapper, status,
    h("button", { type: "submit", class: "primary" }, "Sign in"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const candidate = { apiUrl: apiUrl.input.value.trim(), apiKey: apiKey.input.value, user: user.input.value.trim() };
    status.textContent = "";
    try {
      await new Api(candidate).listTasks({ status: "", name: "", metadata: [] }, null, 1);
    } catch (error) {
      status.textContent = `Sign-in failed: ${error.message}`;
      return;
    }
    session.save(candidate);
    navigate("#/tasks");
  });
  clear(main).append(form);
  apiUrl.input.value ? apiKey.input.focus() : apiUrl.input.focus();
}

function header(current) {
  const signedIn = Boolean(current);
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("signout").hidden = !signedIn;
  document.getElementById("who").textContent = signedIn
    ? `${current.user ? `${current.user} @ ` : ""}${current.apiUrl.replace(/^https?:\/\//, "")}` : "";
  for (const link of document.querySelectorAll("#nav a")) {
    const active = location.hash.startsWith(link.getAttribute("href"));
    if (active) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
}

let liveFor = null;

function route() {
  const current = session.load();
  const [path, queryText] = (location.hash.slice(1) || "/tasks").split("?");
  header(current);
  if (!current || path === "/signin") {
    live.stop();
    liveFor = null;
    signIn();
    return;
  }
  const api = new Api(current);
  if (liveFor !== current.apiUrl) {
    live.start(current.apiUrl);
    liveFor = current.apiUrl;
  }
  const query = new URLSearchParams(queryText || "");
  if (path === "/new") {
    live.onChange(() => {});
    createView(main, { api, navigate });
  } else if (path.startsWith("/task/")) {
    detailView(main, { api, taskId: decodeURIComponent(path.slice(6)), live });
  } else {
    tasksView(main, { api, query, navigate, live });
  }
  if (!main.contains(document.activeElement)) main.focus({ preventScroll: true });
}

document.getElementById("signout").addEventListener("click", () => {
  session.forget();
  navigate("#/signin");
});
window.addEventListener("hashchange", route);
loadConfig().then(route);
