// Live refresh: the events stream (GET /events, punctual dev only) when it answers, else polling.
// Views subscribe with onChange; each fired event, or each poll, calls them (debounced).

const POLL_MS = 5000;
const SAFETY_POLL_MS = 30000;  // with the stream, a slow poll still catches changes that fire no event

export class Live {
  constructor(indicator) {
    this.indicator = indicator;
    this.listeners = new Set();
    this.source = null;
    this.timer = null;
    this.pending = null;
  }

  onChange(listener) {
    this.listeners.clear();  // one view at a time
    this.listeners.add(listener);
  }

  notify() {
    // A fire is published before its task is saved: refresh now and once more shortly after.
    clearTimeout(this.pending);
    this.pending = setTimeout(() => {
      for (const listener of this.listeners) listener();
      this.pending = setTimeout(() => { for (const listener of this.listeners) listener(); }, 1200);
    }, 250);
  }

  start(apiUrl) {
    this.stop();
    let opened = false;
    try {
      this.source = new EventSource(`${apiUrl.replace(/\/+$/, "")}/events`);
    } catch {
      this.poll(POLL_MS, `Refreshing every ${POLL_MS / 1000} s`);
      return;
    }
    this.source.onopen = () => {
      opened = true;
      this.poll(SAFETY_POLL_MS, "Live: events stream");
    };
    this.source.onmessage = () => this.notify();
    this.source.onerror = () => {
      if (opened) { this.indicator.textContent = "Live: reconnecting…"; return; }
      this.source.close();
      this.source = null;
      this.poll(POLL_MS, `Refreshing every ${POLL_MS / 1000} s`);
    };
  }

  poll(interval, text) {
    clearInterval(this.timer);
    this.indicator.textContent = text;
    this.timer = setInterval(() => { for (const listener of this.listeners) listener(); }, interval);
  }

  stop() {
    if (this.source) this.source.close();
    this.source = null;
    clearInterval(this.timer);
    this.indicator.textContent = "";
  }
}
