// The punctual API over fetch. Errors carry the API's envelope: {code, message, details: [{field, message}]}.

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || (body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "http_error";
    this.details = Array.isArray(error.details) ? error.details : [];
  }
}

export class Api {
  constructor({ apiUrl, apiKey, user }) {
    this.base = apiUrl.replace(/\/+$/, "");
    this.apiKey = apiKey;
    this.user = user || "";
  }

  async request(method, path, body) {
    const headers = { "x-api-key": this.apiKey };
    if (this.user) headers["X-Punctual-User"] = this.user;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response;
    try {
      response = await fetch(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError(0, { error: { code: "network", message: `Cannot reach ${this.base}: ${error.message}` } });
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = { message: text.slice(0, 200) };
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  listTasks(filters, cursor, limit = 25) {
    const query = new URLSearchParams();
    if (filters.status) query.set("status", filters.status);
    if (filters.name) query.set("name", filters.name);
    for (const [key, value] of filters.metadata) query.set(`metadata.${key}`, value);
    query.set("limit", String(limit));
    if (cursor) query.set("cursor", cursor);
    return this.request("GET", `/tasks?${query}`);
  }

  getTask(id) { return this.request("GET", `/tasks/${encodeURIComponent(id)}`); }
  createTask(body) { return this.request("POST", "/tasks", body); }
  updateTask(id, body) { return this.request("PATCH", `/tasks/${encodeURIComponent(id)}`, body); }
  deleteTask(id) { return this.request("DELETE", `/tasks/${encodeURIComponent(id)}`); }
  runNow(id) { return this.request("POST", `/tasks/${encodeURIComponent(id)}/runs`); }
  getRun(trackingId) { return this.request("GET", `/runs/${encodeURIComponent(trackingId)}`); }
  preview(schedule, count = 5) { return this.request("POST", "/schedules/preview", { ...schedule, count }); }
  bulkDelete(body) { return this.request("POST", "/tasks/bulk-delete", body); }
  bulkReschedule(updates) { return this.request("POST", "/tasks/bulk-reschedule", { updates }); }

  listRuns(id, cursor, limit = 50) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set("cursor", cursor);
    return this.request("GET", `/tasks/${encodeURIComponent(id)}/runs?${query}`);
  }
}
