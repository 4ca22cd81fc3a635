// One task: its schedule, its next occurrences, and its run history with a small lateness chart.
import { actionButtons } from "./actions.js";
import { clear, h } from "./dom.js";
import { duration, fromNow, onClock } from "./format.js";
import { describeTask, expressionOf } from "./words.js";

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

// Lateness per run, oldest on the left. Bars of failed runs are red, runs later than a second amber.
export function latenessChart(runs) {
  const fired = runs.filter((run) => run.lateness_ms !== null && run.lateness_ms !== undefined).reverse();
  if (!fired.length) return h("p", { class: "muted" }, "No run has fired yet.");
  const values = fired.map((run) => Math.max(0, run.lateness_ms));
  const max = Math.max(...values, 1);
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const width = 600, height = 120, left = 44, bottom = 16;
  const step = (width - left) / fired.length;
  const label = `Lateness of the last ${fired.length} runs: median ${duration(median)}, worst ${duration(max)}.`;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height + bottom}`, role: "img", "aria-label": label,
    class: "chart", "data-chart": "lateness" },
  svg("title", {}, label),
  svg("text", { x: 0, y: 10 }, duration(max)),
  svg("text", { x: 0, y: height }, "0 ms"),
  svg("line", { x1: left - 2, y1: 0, x2: left - 2, y2: height, stroke: "#6b7280" }));
  fired.forEach((run, index) => {
    const barHeight = Math.max(1, (values[index] / max) * (height - 4));
    const kind = run.status === "failed" ? "failed" : values[index] > 1000 ? "late" : "";
    chart.append(svg("rect", { class: `bar-rect ${kind}`, x: left + index * step + 1, y: height - barHeight,
      width: Math.max(1, step - 2), height: barHeight },
    svg("title", {}, `${run.scheduled_for}: ${duration(run.lateness_ms)} (${run.status})`)));
  });
  return h("figure", { class: "plain" }, chart, h("figcaption", { class: "hint" }, label));
}

// Upcoming instants: intervals are exact arithmetic from next_run_at; a cron asks the API from now on.
async function upcoming(api, task) {
  if (!task.next_run_at) return [];
  if (task.at) return [task.next_run_at];
  if (task.every) {
    const seconds = { second: 1, minute: 60, hour: 3600, day: 86400, week: 604800 };
    const [count, unit] = task.every.split(" ");
    const step = Number(count) * seconds[unit.replace(/s$/, "")] * 1000;
    const first = new Date(task.next_run_at).getTime();
    const end = task.end_at ? new Date(task.end_at).getTime() : Infinity;
    return [0, 1, 2, 3, 4].map((k) => first + k * step).filter((t) => t <= end)
      .map((t) => new Date(t).toISOString().replace(".000Z", "Z"));
  }
  const answer = await api.preview({ cron: task.cron, timezone: task.timezone, end_at: task.end_at || undefined,
    start_at: task.start_at && task.start_at > new Date().toISOString() ? task.start_at : undefined }, 5);
  return answer.occurrences.map((occurrence) => occurrence.at);
}

export function detailView(root, { api, taskId, live }) {
  let runs = [];
  let runsCursor = null;

  async function load() {
    let task;
    try {
      task = await api.getTask(taskId);
    } catch (error) {
      clear(root).append(h("h1", {}, "Task"), h("p", { class: "error", role: "alert" }, error.message),
        h("a", { href: "#/tasks" }, "Back to tasks"));
      return;
    }
    const page = await api.listRuns(taskId, null, 50).catch(() => ({ runs: [], next_cursor: null }));
    runs = page.runs;
    runsCursor = page.next_cursor;
    render(task, await upcoming(api, task).catch(() => []));
  }

  function render(task, next) {
    const chips = Object.entries(task.metadata || {}).map(([key, value]) => h("span", { class: "chip" }, `${key}=${value}`));
    const facts = [
      ["Status", h("span", { class: `status status-${task.status}`, "data-status": "" }, task.status)],
      ["Schedule", describeTask(task)],
      ["As written", h("code", {}, expressionOf(task))],
      ["Time zone", task.timezone],
      ["Next run", task.next_run_at ? `${onClock(task.next_run_at, task.timezone)} (${fromNow(task.next_run_at)})` : "—"],
      ["Last run", task.last_run_at ? onClock(task.last_run_at, task.timezone) : "—"],
      ["Misfire", task.misfire],
      ["Metadata", chips.length ? chips : "—"],
      ["Created", onClock(task.created_at, task.timezone)],
      ["Id", h("code", {}, task.id)],
    ];
    if (task.start_at) facts.splice(4, 0, ["Starts", onClock(task.start_at, task.timezone)]);
    if (task.end_at) facts.splice(4, 0, ["Ends", onClock(task.end_at, task.timezone)]);
    const more = runsCursor ? h("button", { type: "button", onclick: async () => {
      const page = await api.listRuns(taskId, runsCursor, 50);
      runs = runs.concat(page.runs);
      runsCursor = page.next_cursor;
      render(task, next);
    } }, "Older runs") : null;
    clear(root).append(
      h("p", {}, h("a", { href: "#/tasks" }, "← Tasks")),
      h("h1", {}, task.name || "(unnamed task)"),
      actionButtons(task, { api, onChanged: () => load() }),
      h("div", { class: "grid" },
        h("section", { "aria-label": "Task" }, h("dl", { class: "facts" },
          facts.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])),
        h("h2", {}, "Message"), h("pre", { class: "json" }, JSON.stringify(task.message, null, 2))),
        h("section", { class: "panel", "aria-labelledby": "next-title" }, h("h2", { id: "next-title" }, "Next occurrences"),
          next.length ? h("ol", {}, next.map((at) => h("li", {}, onClock(at, task.timezone))))
            : h("p", { class: "muted" }, "None scheduled."))),
      h("h2", {}, "Lateness per run"),
      latenessChart(runs),
      h("h2", { id: "runs-title" }, "Runs"),
      runsTable(runs),
      more || "");
  }

  live.onChange(() => load());
  load();
}

function runsTable(runs) {
  if (!runs.length) return h("p", { class: "muted" }, "No runs yet.");
  return h("table", { "aria-labelledby": "runs-title" },
    h("thead", {}, h("tr", {}, ["Scheduled for", "Kind", "Status", "Fired at", "Completed at", "Lateness",
      "Attempt", "Error"].map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, runs.map((run) => h("tr", { "data-run": run.tracking_id },
      h("td", {}, onClock(run.scheduled_for)),
      h("td", {}, run.kind),
      h("td", {}, h("span", { class: `status status-${run.status}` }, run.status)),
      h("td", {}, onClock(run.fired_at)),
      h("td", {}, onClock(run.completed_at)),
      h("td", {}, duration(run.lateness_ms)),
      h("td", {}, run.attempt),
      h("td", {}, run.error || "")))));
}
