// Schedules in words: "every 5 minutes", "at 09:30 on Monday to Friday", "once, on Tue 1 Dec 2026 ...".
// Common cron shapes get a sentence; anything else is shown as written (the table shows both anyway).
import { onClock } from "./format.js";

const DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const DAY_CODES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
  "October", "November", "December"];
const MONTH_CODES = MONTHS.map((name) => name.slice(0, 3).toUpperCase());
const MACROS = {
  "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
};

export function describeTask(task) {
  if (task.at) return `once, ${onClock(task.at, task.timezone)}`;
  if (task.every) return `every ${task.every}`;
  if (task.cron) return describeCron(task.cron);
  return "";
}

export function expressionOf(task) {
  if (task.at) return task.at;
  if (task.every) return task.every;
  return task.cron || "";
}

function wild(value) {
  return value === "*" || value === "?";
}

function two(value) {
  return String(value).padStart(2, "0");
}

function dayName(token, sundayIsOne) {
  const upper = token.toUpperCase();
  const byCode = DAY_CODES.indexOf(upper.slice(0, 3));
  if (byCode >= 0 && !/^\d/.test(upper)) return DAY_NAMES[byCode];
  const number = Number(token);
  if (!Number.isInteger(number)) return null;
  return DAY_NAMES[(sundayIsOne ? number - 1 : number) % 7] || null;
}

function days(field, sundayIsOne) {
  const parts = field.split(",").map((part) => {
    const range = part.split("-");
    if (range.length === 2) {
      const [from, to] = range.map((token) => dayName(token, sundayIsOne));
      return from && to ? `${from} to ${to}` : null;
    }
    return dayName(part, sundayIsOne);
  });
  return parts.every(Boolean) ? parts.join(", ") : null;
}

function month(field) {
  const index = MONTH_CODES.indexOf(field.toUpperCase());
  const number = index >= 0 ? index + 1 : Number(field);
  return MONTHS[number - 1] || null;
}

export function describeCron(text) {
  const trimmed = text.trim();
  let fields = (MACROS[trimmed.toLowerCase()] || trimmed).split(/\s+/);
  let second = "0";
  let sundayIsOne = false;
  if (fields.length === 7) {  // Quartz: seconds first, a year last
    [second] = fields;
    fields = fields.slice(1, 6);
    sundayIsOne = true;
  } else if (fields.length === 6) {  // EventBridge: a year last
    fields = fields.slice(0, 5);
    sundayIsOne = true;
  }
  if (fields.length !== 5) return `cron ${text}`;
  const [minute, hour, dom, mon, dow] = fields;
  const simple = (value) => /^\d+$/.test(value);
  let when;
  if (simple(minute) && simple(hour)) when = `at ${two(hour)}:${two(minute)}${second !== "0" ? `:${two(second)}` : ""}`;
  else if (minute === "*" && wild(hour)) when = "every minute";
  else if (/^(\*|0)\/\d+$/.test(minute) && wild(hour)) when = `every ${minute.split("/")[1]} minutes`;
  else if (simple(minute) && wild(hour)) when = `at minute ${minute} of every hour`;
  else if (simple(minute) && /^(\*|0)\/\d+$/.test(hour)) when = `at minute ${minute} of every ${hour.split("/")[1]} hours`;
  else return `cron ${text}`;
  if (second !== "0" && !simple(second)) return `cron ${text}`;
  const scope = [];
  if (!wild(dow)) {
    const named = days(dow, sundayIsOne);
    if (!named) return `cron ${text}`;
    scope.push(`on ${named}`);
  }
  if (!wild(dom)) {
    if (!simple(dom)) return `cron ${text}`;
    scope.push(`on day ${dom} of the month`);
  }
  if (!wild(mon)) {
    const name = month(mon);
    if (!name) return `cron ${text}`;
    scope.push(`in ${name}`);
  }
  if (!scope.length && /^at \d/.test(when)) return `every day ${when}`;
  return [when, ...scope].join(" ");
}
