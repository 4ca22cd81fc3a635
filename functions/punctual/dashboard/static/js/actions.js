// What can be done to one task (reschedule, pause/resume, run now, delete), each behind a confirmation,
// and disabled with the reason where the API would answer 409. Shared by the table and the task page.
import { ApiError } from "./api.js";
import { field, h, setError, uid } from "./dom.js";
import { browserZone, localInputValue, withSeconds, zones } from "./format.js";
import { confirmAction, openDialog, toast } from "./ui.js";

export const TERMINAL = new Set(["completed", "cancelled", "failed"]);
const FINAL_RUN = new Set(["completed", "failed", "skipped"]);

export function blockedReason(task, action) {
  if (!TERMINAL.has(task.status)) return null;
  if (action === "run") return `Only scheduled or paused tasks can run now; this one is ${task.status}.`;
  return `The task is ${task.status}; it can no longer change.`;
}

export function zoneSelect(value) {
  const select = h("select", {});
  for (const zone of zones()) select.append(h("option", { value: zone, selected: zone === value }, zone));
  if (![...select.options].some((option) => option.selected)) {
    select.prepend(h("option", { value, selected: true }, value));
  }
  return select;
}

// Field errors from the API's details, beside their inputs; returns the messages nobody showed.
export function showDetails(error, slots) {
  const unplaced = [];
  for (const detail of error.details || []) {
    const name = detail.field || "";
    const slot = slots[name] || slots[name.split(".")[0]];
    if (slot) setError(slot, detail.message);
    else unplaced.push(`${name}: ${detail.message}`);
  }
  return unplaced;
}

function label(task) {
  return task.name ? `“${task.name}”` : `task ${task.id.slice(0, 8)}`;
}

export function actionButtons(task, { api, onChanged }) {
  const reasonId = uid("reason");
  const make = (text, action, handler, extra = {}) => {
    const reason = blockedReason(task, action);
    return h("button", {
      type: "button", disabled: Boolean(reason), "aria-describedby": reason ? reasonId : undefined,
      title: reason || undefined, dataset: { action }, onclick: handler, ...extra,
    }, text);
  };
  const paused = task.status === "paused";
  const buttons = [
    make("Reschedule", "reschedule", () => reschedule(api, task, onChanged)),
    make(paused ? "Resume" : "Pause", "pause", () => pauseOrResume(api, task, onChanged)),
    make("Run now", "run", () => runNow(api, task, onChanged)),
    make("Delete", "delete", () => remove(api, task, onChanged)),
  ];
  const reason = blockedReason(task, "delete");
  return h("div", {},
    h("div", { class: "actions", role: "group", "aria-label": `Actions for ${label(task)}` }, buttons),
    reason ? h("div", { class: "reason", id: reasonId }, reason) : null);
}

async function reschedule(api, task, onChanged) {
  const slots = {};
  let content;
  let read;
  if (task.at) {
    const zone = task.timezone || browserZone();
    slots.at = field("New time", h("input", { type: "datetime-local", step: "1", required: true,
      value: localInputValue(task.at, zone) }), { name: "at", hint: "On the clock of the time zone below" });
    slots.timezone = field("Time zone", zoneSelect(zone), { name: "timezone" });
    content = h("div", {}, slots.at.wrapper, slots.timezone.wrapper);
    read = () => ({ at: withSeconds(slots.at.input.value), timezone: slots.timezone.input.value });
  } else {
    const kind = task.every ? "every" : "cron";
    slots[kind] = field(kind === "every" ? "Every" : "Cron expression",
      h("input", { type: "text", required: true, value: task[kind] }), { name: kind });
    content = h("div", {}, slots[kind].wrapper);
    read = () => ({ [kind]: slots[kind].input.value.trim() });
  }
  const changed = await openDialog({
    title: `Reschedule ${label(task)}`, content, confirmLabel: "Reschedule",
    onConfirm: async () => {
      Object.values(slots).forEach((slot) => setError(slot, ""));
      try {
        return await api.updateTask(task.id, read());
      } catch (error) {
        if (error instanceof ApiError) {
          const rest = showDetails(error, slots);
          throw new Error(rest.length ? rest.join("; ") : error.message);
        }
        throw error;
      }
    },
  });
  if (changed) {
    toast(`Rescheduled ${label(task)}`, { status: changed.status });
    onChanged(changed);
  }
}

async function pauseOrResume(api, task, onChanged) {
  const pausing = task.status !== "paused";
  const verb = pausing ? "Pause" : "Resume";
  const text = pausing
    ? "It keeps its schedule but fires nothing until it is resumed."
    : "It fires again from its next occurrence after now.";
  if (!(await confirmAction(`${verb} ${label(task)}?`, text, { confirmLabel: verb }))) return;
  try {
    const changed = await api.updateTask(task.id, { paused: pausing });
    toast(`${pausing ? "Paused" : "Resumed"} ${label(task)}`, { status: changed.status });
    onChanged(changed);
  } catch (error) {
    toast(`${verb} failed: ${error.message}`, { status: "failed", timeout: 10000 });
  }
}

async function remove(api, task, onChanged) {
  const confirmed = await confirmAction(`Delete ${label(task)}?`,
    "The task is cancelled: nothing more fires. Its record and run history stay readable.",
    { confirmLabel: "Delete", danger: true });
  if (!confirmed) return;
  try {
    const changed = await api.deleteTask(task.id);
    toast(`Deleted ${label(task)}`, { status: changed.status });
    onChanged(changed);
  } catch (error) {
    toast(`Delete failed: ${error.message}`, { status: "failed", timeout: 10000 });
  }
}

async function runNow(api, task, onChanged) {
  const confirmed = await confirmAction(`Run ${label(task)} now?`,
    "Its message is published once, right away; its schedule does not change.", { confirmLabel: "Run now" });
  if (!confirmed) return;
  try {
    const run = await api.runNow(task.id);
    followRun(api, run, label(task), () => onChanged(null));
  } catch (error) {
    toast(`Run now failed: ${error.message}`, { status: "failed", timeout: 10000 });
  }
}

// A toast that follows a run until its status is final (polling GET /runs/{tracking_id}).
export function followRun(api, run, name, onFinal, { interval = 400, limitMs = 120000 } = {}) {
  const note = toast(`Run of ${name}:`, { status: run.status, timeout: 0 });
  note.node.dataset.trackingId = run.tracking_id;
  const started = Date.now();
  const poll = async () => {
    let current = run;
    try {
      current = await api.getRun(run.tracking_id);
    } catch (error) {
      if (error.status !== 404) note.update(`Run of ${name}: ${error.message}`, "pending");
    }
    if (FINAL_RUN.has(current.status)) {
      const suffix = current.error ? ` (${current.error})` : "";
      note.update(`Run of ${name}:${suffix}`, current.status);
      note.expire(15000);
      onFinal(current);
    } else if (Date.now() - started > limitMs) {
      note.update(`Run of ${name} is still ${current.status}; see the task's runs.`, current.status);
      note.expire(15000);
    } else {
      note.update(`Run of ${name}:`, current.status);
      setTimeout(poll, interval);
    }
  };
  setTimeout(poll, interval);
  return note;
}
