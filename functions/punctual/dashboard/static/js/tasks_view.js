// The tasks view: filters (in the URL), the table with row actions, selection and bulk actions, cursor
// pagination, and live refresh.
import { actionButtons, showDetails, zoneSelect } from "./actions.js";
import { deleteIds, deleteMatching, matchingIds, rescheduleIds } from "./bulk.js";
import { clear, field, h, setError } from "./dom.js";
import { browserZone, fromNow, onClock, withSeconds } from "./format.js";
import { describeFilters, filtersQuery, metadataText, parseMetadataText, readFilters } from "./filters.js";
import { confirmAction, openDialog } from "./ui.js";
import { describeTask, expressionOf } from "./words.js";

const STATUSES = [["", "Live (scheduled or paused)"], ["scheduled", "Scheduled"], ["paused", "Paused"],
  ["completed", "Completed"], ["cancelled", "Cancelled"], ["failed", "Failed"], ["all", "All"]];
const PAGE_SIZE = 25;

export function tasksView(root, { api, query, navigate, live }) {
  const filters = readFilters(query);
  const cursor = query.get("cursor") || "";
  const selected = new Set();
  let tasks = [];
  let previous = new Map();

  // --- filters --------------------------------------------------------------------------------
  const status = field("Status", h("select", {},
    STATUSES.map(([value, text]) => h("option", { value, selected: value === filters.status }, text))),
  { name: "status" });
  const name = field("Name", h("input", { type: "search", value: filters.name }), { name: "name" });
  const metadata = field("Metadata", h("input", { type: "text", value: metadataText(filters.metadata),
    placeholder: "key=value, key=value" }), { name: "metadata" });
  const form = h("form", { class: "filters", role: "search", "aria-label": "Filter tasks" },
    status.wrapper, name.wrapper, metadata.wrapper,
    h("button", { type: "submit", class: "primary" }, "Apply"),
    h("button", { type: "button", onclick: () => navigate("#/tasks") }, "Clear"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    let pairs;
    try {
      pairs = parseMetadataText(metadata.input.value);
    } catch (error) {
      setError(metadata, error.message);
      return;
    }
    const next = { status: status.input.value, name: name.input.value.trim(), metadata: pairs };
    navigate(`#/tasks?${filtersQuery(next)}`);
  });

  // --- toolbar --------------------------------------------------------------------------------
  const count = h("span", { class: "count", role: "status" });
  const deleteSelected = h("button", { type: "button", class: "danger", onclick: () => bulkDeleteSelected() },
    "Delete selected");
  const rescheduleSelected = h("button", { type: "button", onclick: () => bulkReschedule(false) },
    "Reschedule selected");
  const toolbar = h("div", { class: "toolbar", role: "toolbar", "aria-label": "Bulk actions" }, count,
    deleteSelected, rescheduleSelected,
    h("button", { type: "button", class: "danger", onclick: () => bulkDeleteMatching() }, "Delete all matching"),
    h("button", { type: "button", onclick: () => bulkReschedule(true) }, "Reschedule all matching"));

  // --- table ----------------------------------------------------------------------------------
  const selectAll = h("input", { type: "checkbox", "aria-label": "Select every task on this page",
    onchange: () => {
      for (const task of tasks) if (selectAll.checked) selected.add(task.id); else selected.delete(task.id);
      renderRows();
    } });
  const body = h("tbody", {});
  const table = h("table", { "aria-describedby": "tasks-caption" },
    h("caption", { id: "tasks-caption" }, `Showing ${describeFilters(filters)}`),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, selectAll),
      ["Name", "Schedule", "Time zone", "Next run", "Last run", "Status", "Metadata", "Actions"]
        .map((text) => h("th", { scope: "col" }, text)))),
    body);
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });
  const message = h("div", { role: "alert", class: "error" });

  clear(root).append(
    h("div", { class: "row" }, h("h1", {}, "Tasks"),
      h("a", { class: "button push", href: "#/new" }, "New task")),
    form, toolbar, message, table, pager);

  function updateToolbar() {
    count.textContent = `${selected.size} selected`;
    deleteSelected.disabled = rescheduleSelected.disabled = selected.size === 0;
    selectAll.checked = tasks.length > 0 && tasks.every((task) => selected.has(task.id));
  }

  function row(task) {
    const before = previous.get(task.id);
    const changed = before && (before.status !== task.status || before.next_run_at !== task.next_run_at
      || before.last_run_at !== task.last_run_at);
    const check = h("input", { type: "checkbox", checked: selected.has(task.id),
      "aria-label": `Select ${task.name || task.id}`,
      onchange: () => { if (check.checked) selected.add(task.id); else selected.delete(task.id); updateToolbar(); } });
    return h("tr", { "data-task-id": task.id, class: changed ? "changed" : undefined },
      h("td", {}, check),
      h("td", { "data-col": "name" }, h("a", { href: `#/task/${encodeURIComponent(task.id)}` },
        task.name || "(unnamed)"), h("div", { class: "hint" }, task.id.slice(0, 12))),
      h("td", { "data-col": "schedule" }, h("div", {}, describeTask(task)), h("code", {}, expressionOf(task))),
      h("td", { "data-col": "timezone" }, task.timezone),
      h("td", { "data-col": "next" }, task.next_run_at ? [onClock(task.next_run_at, task.timezone),
        h("div", { class: "hint" }, fromNow(task.next_run_at))] : "—"),
      h("td", { "data-col": "last" }, task.last_run_at ? [onClock(task.last_run_at, task.timezone),
        h("div", { class: "hint" }, fromNow(task.last_run_at))] : "—"),
      h("td", { "data-col": "status" }, h("span", { class: `status status-${task.status}` }, task.status)),
      h("td", { "data-col": "metadata" }, Object.entries(task.metadata || {})
        .map(([key, value]) => h("span", { class: "chip" }, `${key}=${value}`))),
      h("td", { "data-col": "actions" }, actionButtons(task, { api, onChanged: () => load() })));
  }

  function renderRows() {
    // A refresh rebuilds the rows: keep the keyboard focus on the same control of the same row.
    const focused = document.activeElement;
    const focusRow = focused && body.contains(focused) ? focused.closest("tr")?.dataset.taskId : null;
    const focusAction = focused?.dataset?.action || (focused?.type === "checkbox" ? "select" : null);
    clear(body);
    if (!tasks.length) body.append(h("tr", {}, h("td", { colspan: 9, class: "empty" }, "No tasks match.")));
    for (const task of tasks) body.append(row(task));
    updateToolbar();
    performance.mark("punctual:tasks-rendered");  // bench/bench_dashboard.py times the first one
    if (focusRow) {
      const again = body.querySelector(`tr[data-task-id="${CSS.escape(focusRow)}"]`);
      const target = again && (focusAction === "select" ? again.querySelector("input[type=checkbox]")
        : again.querySelector(`[data-action="${focusAction}"]`));
      if (target && !target.disabled) target.focus();
    }
  }

  async function load() {
    try {
      const page = await api.listTasks(filters, cursor, PAGE_SIZE);
      previous = new Map(tasks.map((task) => [task.id, task]));
      tasks = page.tasks;
      message.textContent = "";
      renderRows();
      clear(pager);
      if (cursor) pager.append(h("a", { class: "button", href: `#/tasks?${filtersQuery(filters)}` }, "First page"));
      if (page.next_cursor) {
        pager.append(h("a", { class: "button", href: `#/tasks?${filtersQuery(filters, page.next_cursor)}` },
          "Next page"));
      }
    } catch (error) {
      message.textContent = `Could not list tasks: ${error.message}`;
      if (error.details && error.details.length) {
        showDetails(error, { status, name, metadata });
      }
    }
  }

  // --- bulk -----------------------------------------------------------------------------------
  async function bulkDeleteSelected() {
    const ids = [...selected];
    if (!(await confirmAction(`Delete ${ids.length} selected tasks?`,
      "Each is cancelled: nothing more fires.", { confirmLabel: "Delete", danger: true }))) return;
    await deleteIds(api, ids);
    selected.clear();
    load();
  }

  async function bulkDeleteMatching() {
    const text = `Every task matching ${describeFilters(filters)} is cancelled, page after page, until none is left.`;
    if (!(await confirmAction("Delete all matching tasks?", text, { confirmLabel: "Delete all", danger: true }))) {
      return;
    }
    await deleteMatching(api, filters);
    selected.clear();
    load();
  }

  async function bulkReschedule(matching) {
    const zone = browserZone();
    const at = field("New time", h("input", { type: "datetime-local", step: "1", required: true }),
      { name: "at", hint: "One-time tasks move here; recurring ones are refused (change them one by one)." });
    const timezone = field("Time zone", zoneSelect(zone), { name: "timezone" });
    const what = matching ? `every task matching ${describeFilters(filters)}` : `${selected.size} selected tasks`;
    const instant = await openDialog({
      title: "Reschedule", content: h("div", {}, h("p", {}, `Move ${what} to:`), at.wrapper, timezone.wrapper),
      confirmLabel: "Reschedule",
      onConfirm: async () => {
        setError(at, "");
        try {  // The API reads the wall-clock time on the zone; one preview turns it into the instant.
          const preview = await api.preview({ at: withSeconds(at.input.value), timezone: timezone.input.value }, 1);
          return preview.occurrences[0].at;
        } catch (error) {
          const rest = showDetails(error, { at, timezone });
          throw new Error(rest.length ? rest.join("; ") : "Choose another time.");
        }
      },
    });
    if (!instant) return;
    const ids = matching ? await matchingIds(api, filters) : [...selected];
    await rescheduleIds(api, ids, instant);
    selected.clear();
    load();
  }

  live.onChange(() => load());
  load();
}
