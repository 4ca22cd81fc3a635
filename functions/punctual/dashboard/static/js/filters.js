// The tasks view's filters live in the URL (#/tasks?status=all&name=x&metadata.customer=c-1&cursor=...),
// so a filtered view can be shared and the browser's Back button walks back through pages.

export function readFilters(query) {
  const metadata = [];
  for (const [key, value] of query.entries()) {
    if (key.startsWith("metadata.") && key.length > 9) metadata.push([key.slice(9), value]);
  }
  return { status: query.get("status") || "", name: query.get("name") || "", metadata };
}

export function filtersQuery(filters, cursor) {
  const query = new URLSearchParams();
  if (filters.status) query.set("status", filters.status);
  if (filters.name) query.set("name", filters.name);
  for (const [key, value] of filters.metadata) query.set(`metadata.${key}`, value);
  if (cursor) query.set("cursor", cursor);
  return query;
}

// "customer=c-1, team=ops" <-> [["customer", "c-1"], ["team", "ops"]]
export function parseMetadataText(text) {
  const pairs = [];
  for (const part of text.split(",")) {
    const trimmed = part.trim();
    if (!trimmed) continue;
    const at = trimmed.indexOf("=");
    if (at <= 0) throw new Error(`“${trimmed}” is not key=value`);
    pairs.push([trimmed.slice(0, at).trim(), trimmed.slice(at + 1).trim()]);
  }
  return pairs;
}

export function metadataText(pairs) {
  return pairs.map(([key, value]) => `${key}=${value}`).join(", ");
}

export function describeFilters(filters) {
  const parts = [filters.status ? `status ${filters.status}` : "live tasks (scheduled or paused)"];
  if (filters.name) parts.push(`name “${filters.name}”`);
  for (const [key, value] of filters.metadata) parts.push(`${key}=${value}`);
  return parts.join(", ");
}

// The body's filter for POST /tasks/bulk-delete.
export function bulkFilter(filters) {
  const filter = { metadata: Object.fromEntries(filters.metadata) };
  if (filters.status) filter.status = filters.status;
  if (filters.name) filter.name = filters.name;
  return filter;
}
