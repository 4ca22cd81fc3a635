// Bulk delete and reschedule, of the selected rows or of every task matching the filter, with progress
// and a summary (succeeded, failed, why). The API takes at most 100 ids per call, and a filtered delete
// cancels at most 100 tasks per call: it is repeated while a call answers a full page.
import { clear, h } from "./dom.js";
import { bulkFilter } from "./filters.js";

export const FULL_PAGE = 100;
const MAX_ROUNDS = 1000;  // 100,000 tasks: a guard against a loop that never ends, far above real use

function chunks(items, size) {
  const out = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

class Tally {
  constructor() { this.succeeded = 0; this.failed = 0; this.reasons = new Map(); }

  add(answer) {
    this.succeeded += answer.succeeded;
    this.failed += answer.failed;
    for (const result of answer.results) {
      if (result.status_code === 200) continue;
      const why = `${result.status_code}: ${(result.error && result.error.message) || "failed"}`;
      this.reasons.set(why, (this.reasons.get(why) || 0) + 1);
    }
  }

  get total() { return this.succeeded + this.failed; }
}

// The progress dialog: a live count while the work runs, then the summary and a Close button.
function progressDialog(title) {
  const node = document.getElementById("dialog");
  clear(node);
  const bar = h("progress", { "aria-label": title });
  const text = h("p", { role: "status" }, "Starting…");
  const summary = h("div", { class: "summary", "aria-live": "polite" });
  const close = h("button", { type: "button", class: "primary", disabled: true }, "Close");
  node.append(h("h2", { id: "dialog-title" }, title), bar, text, summary, h("div", { class: "buttons" }, close));
  node.showModal();
  close.focus();
  const closed = new Promise((resolve) => {
    close.addEventListener("click", () => { node.close(); resolve(); });
    node.addEventListener("close", () => resolve(), { once: true });
  });
  return {
    progress(done, total, verb) {
      if (total) { bar.max = total; bar.value = done; } else bar.removeAttribute("value");
      text.textContent = total ? `${verb} ${done} of ${total}…` : `${verb} ${done} so far…`;
    },
    finish(tally, verb, error) {
      bar.max = 1; bar.value = 1;
      text.textContent = error ? `Stopped: ${error.message}` : "Done.";
      summary.append(h("ul", { "data-summary": "" },
        h("li", { "data-count": "succeeded" }, `Succeeded: ${tally.succeeded} ${verb}`),
        h("li", { "data-count": "failed" }, `Failed: ${tally.failed}`),
        [...tally.reasons].map(([why, count]) => h("li", {}, `${count} × ${why}`))));
      close.disabled = false;
      close.focus();
      return closed;
    },
  };
}

async function run(title, verb, work) {
  const dialog = progressDialog(title);
  const tally = new Tally();
  let failure = null;
  try {
    await work(tally, (done, total) => dialog.progress(done, total, verb));
  } catch (error) {
    failure = error;
  }
  await dialog.finish(tally, verb.toLowerCase(), failure);
  return tally;
}

export function deleteIds(api, ids) {
  return run(`Deleting ${ids.length} tasks`, "Deleted", async (tally, progress) => {
    for (const part of chunks(ids, FULL_PAGE)) {
      tally.add(await api.bulkDelete({ ids: part }));
      progress(tally.total, ids.length);
    }
  });
}

export function deleteMatching(api, filters) {
  return run("Deleting every matching task", "Deleted", async (tally, progress) => {
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const answer = await api.bulkDelete({ filter: bulkFilter(filters) });
      tally.add(answer);
      progress(tally.total, 0);
      if (answer.results.length < FULL_PAGE) return;
      // A full page of failures would come back again on the next call: stop rather than loop.
      if (answer.succeeded === 0) throw new Error("a whole page failed; stopping");
    }
  });
}

export function rescheduleIds(api, ids, at) {
  return run(`Rescheduling ${ids.length} tasks`, "Rescheduled", async (tally, progress) => {
    for (const part of chunks(ids, FULL_PAGE)) {
      tally.add(await api.bulkReschedule(part.map((id) => ({ id, at }))));
      progress(tally.total, ids.length);
    }
  });
}

export async function matchingIds(api, filters) {
  const ids = [];
  let cursor = null;
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    const page = await api.listTasks(filters, cursor, FULL_PAGE);
    ids.push(...page.tasks.map((task) => task.id));
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return ids;
}
