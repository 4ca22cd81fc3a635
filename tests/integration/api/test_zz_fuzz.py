import json, random
from tests.integration.api.harness import call_api

BODIES = ["null", "true", "1", "{}", '{"at": null}', '{"at": ""}', '{"every": ""}', '{"cron": ""}', '{"at": "2026-01-01T13:00:00Z", "message": NaN}',
          '{"at": "2026-01-01T13:00:00Z", "metadata": null}', '{"at": "2026-01-01T13:00:00Z", "metadata": []}', '{"every": "0 minutes"}', '{"every": "-5 minutes"}',
          '{"every": "99999999999999999999 seconds"}', '{"cron": "* * * * * * * *"}', '{"at": "9999-12-31T23:59:59Z"}', '{"at": "0001-01-01T00:00:00Z"}',
          '{"at": "2026-01-01T13:00:00Z", "timezone": "UTC", "start_at": "x"}', '{"cron": "0 9 * * *", "start_at": "2030-01-01T00:00:00Z"}',
          '{"cron": "0 9 30 2 *"}', '{"at": "2026-01-01T13:00:00Z", "name": ""}', '{"at": "2026-01-01T13:00:00Z", "idempotency_key": ""}',
          '{"ids": [null]}', '{"updates": [{"id": "", "at": ""}]}', '{"filter": {"metadata": {"": ""}}}', '\ud800', '{"at": "\\u0000"}']
PATHS = [("POST", "/tasks"), ("POST", "/schedule"), ("POST", "/cancel"), ("DELETE", "/cancel"), ("POST", "/tasks/bulk-delete"), ("POST", "/tasks/bulk-reschedule")]

def test_fuzz(stack):
    task = call_api("POST", "/tasks", body={"every": "1 hour"}).json["id"]
    PATHS.append(("PATCH", f"/tasks/{task}"))
    bad = []
    for method, path in PATHS:
        for body in BODIES:
            r = call_api(method, path, raw_body=body)
            if r.status >= 500:
                bad.append((method, path, body, r.status, r.raw_body))
    for q in [{"limit": "-1"}, {"limit": "1e3"}, {"cursor": "x"*5000}, {"metadata.a b": "c"}, {"status": ""}, {"name": ""}, {"cursor": "a.b"}, {"cursor": "."}]:
        for p in ["/tasks", f"/tasks/{task}/runs"]:
            r = call_api("GET", p, query=q)
            if r.status >= 500: bad.append(("GET", p, q, r.status, r.raw_body))
    for p in ["/tasks/%00", "/tasks/ü", "/runs/" + "x"*1000, "/tasks/a/b/c", "/tasks//runs", "//", ""]:
        for m in ["GET", "POST", "PATCH", "DELETE", "OPTIONS", "HEAD"]:
            r = call_api(m, p)
            if r.status >= 500: bad.append((m, p, r.status, r.raw_body))
    for u in ["", " ", "a"*200, "ü", "a/b"]:
        r = call_api("GET", "/tasks", user=u)
        if r.status >= 500: bad.append(("user", u, r.status))
    print(json.dumps(bad, indent=1, default=str)[:5000])
    assert not bad
