// Instants as people read them: on a given time zone's clock, and relative to now.

const formatters = new Map();

function formatter(timeZone) {
  if (!formatters.has(timeZone)) {
    let format;
    try {
      format = new Intl.DateTimeFormat(undefined, {
        timeZone, weekday: "short", year: "numeric", month: "short", day: "numeric",
        hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "short",
      });
    } catch {
      format = formatter("UTC");
    }
    formatters.set(timeZone, format);
  }
  return formatters.get(timeZone);
}

export function onClock(iso, timeZone = "UTC") {
  if (!iso) return "—";
  return formatter(timeZone).format(new Date(iso));
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const UNITS = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];

export function fromNow(iso, now = Date.now()) {
  if (!iso) return "";
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === "second") return relative.format(Math.round(seconds / size), unit);
  }
  return "";
}

export function duration(ms) {
  if (ms === null || ms === undefined) return "—";
  if (Math.abs(ms) < 1000) return `${ms} ms`;
  if (Math.abs(ms) < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60000).toFixed(1)} min`;
}

export function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

export function zones() {
  try {
    const all = Intl.supportedValuesOf("timeZone");
    return all.includes("UTC") ? all : ["UTC", ...all];
  } catch {
    return ["UTC", "Europe/London", "Europe/Paris", "America/New_York", "America/Los_Angeles", "Asia/Tokyo"];
  }
}

// "2026-12-01T09:00:00Z" as the value of a datetime-local input on a zone's clock ("2026-12-01T10:00:00").
export function localInputValue(iso, timeZone) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      timeZone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    }).formatToParts(new Date(iso)).map((part) => [part.type, part.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
}

// datetime-local gives "YYYY-MM-DDTHH:MM" when the seconds are zero; the API takes either.
export function withSeconds(value) {
  return /T\d\d:\d\d$/.test(value) ? `${value}:00` : value;
}
