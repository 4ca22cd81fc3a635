// The create form: one-time (date-time on a time zone), interval or cron; a preview of the next five
// occurrences before saving (POST /schedules/preview); a JSON message editor; metadata; misfire.
// The API's errors are shown beside their fields, from the error's details.
import { showDetails, zoneSelect } from "./actions.js";
import { ApiError } from "./api.js";
import { clear, field, h, setError } from "./dom.js";
import { browserZone, onClock, withSeconds } from "./format.js";
import { toast } from "./ui.js";

const MAX_METADATA = 5;

export function createView(root, { api, navigate }) {
  const slots = {};
  slots.name = field("Name", h("input", { type: "text", maxlength: "200" }), { name: "name", hint: "Optional" });
  const kinds = [["at", "One time"], ["every", "Interval"], ["cron", "Cron"]];
  const radios = kinds.map(([value, text], index) => h("label", {},
    h("input", { type: "radio", name: "kind", value, checked: index === 0 }), text));
  const kindGroup = h("fieldset", {}, h("legend", {}, "Schedule"), h("div", { class: "radios" }, radios));
  slots.at = field("Date and time", h("input", { type: "datetime-local", step: "1" }),
    { name: "at", hint: "On the clock of the time zone below" });
  slots.every = field("Every", h("input", { type: "text", placeholder: "5 minutes" }),
    { name: "every", hint: "A whole number and a unit: 30 seconds, 5 minutes, 1 hour, 2 days" });
  slots.cron = field("Cron expression", h("input", { type: "text", placeholder: "0 9 * * MON-FRI" }),
    { name: "cron", hint: "5 fields (Unix), 6 (EventBridge) or 7 (Quartz, with seconds)" });
  slots.timezone = field("Time zone", zoneSelect(browserZone()), { name: "timezone" });
  slots.start_at = field("Starts", h("input", { type: "datetime-local", step: "1" }),
    { name: "start_at", hint: "Optional: no occurrence before this time" });
  slots.end_at = field("Ends", h("input", { type: "datetime-local", step: "1" }),
    { name: "end_at", hint: "Optional: no occurrence after this time" });
  const bounds = h("div", { class: "row" }, slots.start_at.wrapper, slots.end_at.wrapper);
  kindGroup.append(slots.at.wrapper, slots.every.wrapper, slots.cron.wrapper, slots.timezone.wrapper, bounds);

  const previewList = h("ol", { "data-preview": "" });
  const previewNote = h("p", { class: "muted" }, "Fill in the schedule to see its next occurrences.");
  const preview = h("section", { class: "panel", "aria-live": "polite", "aria-labelledby": "preview-title" },
    h("h2", { id: "preview-title" }, "Next 5 occurrences"), previewNote, previewList);

  slots.message = field("Message (JSON)", h("textarea", { rows: "6", spellcheck: "false" }),
    { name: "message", hint: "Any JSON value; published as the event's message. Empty means null." });
  const messageOk = h("div", { class: "ok", "aria-live": "polite" });
  slots.message.wrapper.append(messageOk);

  const metadataRows = h("div", {});
  const metadataError = h("div", { class: "error", role: "alert" });
  slots.metadata = { input: metadataRows, error: metadataError };
  const addMetadata = h("button", { type: "button", onclick: () => addMetadataRow() }, "Add metadata");
  const metadataGroup = h("fieldset", {}, h("legend", {}, "Metadata"),
    h("p", { class: "hint" }, `Up to ${MAX_METADATA} key=value pairs; subscribers can filter on them.`),
    metadataRows, addMetadata, metadataError);

  slots.misfire = field("When occurrences were missed", h("select", {},
    h("option", { value: "fire_once" }, "Fire once, late (fire_once)"),
    h("option", { value: "skip" }, "Skip them (skip)")), { name: "misfire" });

  const formError = h("div", { class: "error", role: "alert", "data-form-error": "" });
  const submit = h("button", { type: "submit", class: "primary" }, "Create task");
  const form = h("form", { novalidate: true, "aria-labelledby": "create-title" },
    slots.name.wrapper, kindGroup, slots.message.wrapper, metadataGroup, slots.misfire.wrapper,
    formError, h("div", { class: "row" }, submit, h("a", { href: "#/tasks" }, "Cancel")));

  clear(root).append(h("h1", { id: "create-title" }, "New task"),
    h("div", { class: "grid" }, form, preview));

  function kind() {
    return radios.map((label) => label.querySelector("input")).find((input) => input.checked).value;
  }

  function showKind() {
    const current = kind();
    for (const name of ["at", "every", "cron"]) slots[name].wrapper.hidden = name !== current;
    bounds.hidden = current === "at";  // start and end bound recurring schedules only
  }

  // start_at / end_at of a recurring schedule, read on the chosen zone's clock like the one-time instant.
  function boundsOf(current) {
    const out = {};
    if (current === "at") return out;
    for (const name of ["start_at", "end_at"]) {
      if (slots[name].input.value) out[name] = withSeconds(slots[name].input.value);
    }
    return out;
  }

  function schedule() {
    const current = kind();
    const value = slots[current].input.value.trim();
    if (!value) return null;
    return { [current]: current === "at" ? withSeconds(value) : value, timezone: slots.timezone.input.value,
      ...boundsOf(current) };
  }

  function addMetadataRow(key = "", value = "") {
    if (metadataRows.children.length >= MAX_METADATA) return;
    const index = metadataRows.children.length + 1;
    const keyInput = h("input", { type: "text", value: key, "aria-label": `Metadata key ${index}`, "data-meta": "key" });
    const valueInput = h("input", { type: "text", value, "aria-label": `Metadata value ${index}`, "data-meta": "value" });
    const row = h("div", { class: "meta-row" }, keyInput, h("span", { "aria-hidden": "true" }, "="), valueInput,
      h("button", { type: "button", "aria-label": `Remove metadata ${index}`,
        onclick: () => { row.remove(); addMetadata.disabled = false; } }, "Remove"));
    metadataRows.append(row);
    addMetadata.disabled = metadataRows.children.length >= MAX_METADATA;
    keyInput.focus();
  }

  function metadata() {
    const pairs = {};
    for (const row of metadataRows.children) {
      const key = row.querySelector('[data-meta="key"]').value.trim();
      const value = row.querySelector('[data-meta="value"]').value;
      if (key) pairs[key] = value;
    }
    return pairs;
  }

  // JSON is checked as it is typed; the form is not sent while it is invalid.
  function message() {
    const text = slots.message.input.value.trim();
    messageOk.textContent = "";
    if (!text) { setError(slots.message, ""); return { ok: true, value: null }; }
    try {
      const value = JSON.parse(text);
      setError(slots.message, "");
      messageOk.textContent = "Valid JSON";
      return { ok: true, value };
    } catch (error) {
      setError(slots.message, `Not valid JSON: ${error.message}`);
      return { ok: false };
    }
  }

  let previewTimer = null;
  let previewSerial = 0;
  function schedulePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(runPreview, 250);
  }

  async function runPreview() {
    const serial = ++previewSerial;
    const given = schedule();
    for (const name of ["at", "every", "cron", "timezone", "start_at", "end_at"]) setError(slots[name], "");
    clear(previewList);
    if (!given) { previewNote.textContent = "Fill in the schedule to see its next occurrences."; return; }
    previewNote.textContent = "Computing…";
    try {
      const answer = await api.preview(given, 5);
      if (serial !== previewSerial) return;
      previewNote.textContent = answer.occurrences.length
        ? `On ${answer.schedule.timezone} time (UTC beside each):` : "No occurrence left.";
      for (const occurrence of answer.occurrences) {
        previewList.append(h("li", {}, onClock(occurrence.at, answer.schedule.timezone),
          h("span", { class: "hint" }, ` — ${occurrence.at}`)));
      }
    } catch (error) {
      if (serial !== previewSerial) return;
      const rest = error instanceof ApiError ? showDetails(error, slots) : [];
      previewNote.textContent = `No preview: ${rest.length ? rest.join("; ") : error.message}`;
    }
  }

  for (const label of radios) label.querySelector("input").addEventListener("change", () => { showKind(); schedulePreview(); });
  for (const name of ["at", "every", "cron", "start_at", "end_at"]) {
    slots[name].input.addEventListener("input", schedulePreview);
  }
  slots.timezone.input.addEventListener("change", schedulePreview);
  slots.message.input.addEventListener("input", message);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    formError.textContent = "";
    for (const slot of Object.values(slots)) setError(slot, "");
    for (const input of metadataRows.querySelectorAll("input")) input.removeAttribute("aria-invalid");
    const parsed = message();
    if (!parsed.ok) { slots.message.input.focus(); return; }
    const current = kind();
    const body = {
      [current]: current === "at" ? withSeconds(slots.at.input.value) : slots[current].input.value.trim(),
      timezone: slots.timezone.input.value,
      ...boundsOf(current),
      message: parsed.value,
      metadata: metadata(),
      misfire: slots.misfire.input.value,
    };
    if (!body[current]) body[current] = null;  // the API names what is missing, beside its field
    const name = slots.name.input.value.trim();
    if (name) body.name = name;
    submit.disabled = true;
    try {
      const task = await api.createTask(body);
      toast(`Created ${task.name ? `“${task.name}”` : "a task"}`, { status: task.status });
      navigate(`#/task/${encodeURIComponent(task.id)}`);
    } catch (error) {
      const keySlots = metadataSlots();
      const rest = error instanceof ApiError ? showDetails(error, { ...slots, ...keySlots }) : [];
      formError.textContent = `Not created (${error.status || "error"}): ${error.message}`
        + (rest.length ? ` — ${rest.join("; ")}` : "");
      const invalid = form.querySelector('[aria-invalid="true"]');
      if (invalid) invalid.focus();
    } finally {
      submit.disabled = false;
    }
  });

  // metadata.KEY errors land on that key's input.
  function metadataSlots() {
    const out = {};
    for (const row of metadataRows.children) {
      const input = row.querySelector('[data-meta="key"]');
      out[`metadata.${input.value.trim()}`] = { input, error: metadataError };
    }
    return out;
  }

  showKind();
  slots.name.input.focus();
}
