// The sign-in lives in sessionStorage only: it ends with the tab, and never reaches localStorage or a cookie.
const KEY = "punctual.session";

export function load() {
  try {
    const value = JSON.parse(sessionStorage.getItem(KEY) || "null");
    return value && value.apiUrl && value.apiKey ? value : null;
  } catch {
    return null;
  }
}

export function save(session) {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function forget() {
  sessionStorage.removeItem(KEY);
}
