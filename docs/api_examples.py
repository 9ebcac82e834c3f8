#!/usr/bin/env python3
"""Writes docs/api.md: every Billing API endpoint with an example request and the response a real
`billdrop serve` gave to it, in this run (nothing is typed by hand but the requests).

Usage: docs/api_examples.py BUILD_DIR"""
import datetime
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
work = tempfile.mkdtemp(prefix="billdrop-api-doc-")
today = datetime.date.today().replace(day=1)
m0 = today.strftime("%Y-%m")
m1 = (today - datetime.timedelta(days=1)).strftime("%Y-%m")
with open(os.path.join(work, "acme.csv"), "w") as f:
    f.write(f"ts,service,amount\n{m1}-10T00:00:00Z,compute,4.5\n{m0}-01T00:00:00Z,compute,1.005\n"
            f"{m0}-01T00:00:00Z,compute,2.000\n{m0}-01T00:00:00Z,storage,0.125\n")
with open(os.path.join(work, "billdrop.toml"), "w") as f:
    f.write(f"""state_dir = "{work}/state"
[server]
listen = "127.0.0.1:0"
[connections.acme]
plugin = "custom"
account_id = "ca_acme"
schedule = "0 0 1 1 *"
[connections.acme.config]
path = "{work}/acme.csv"
[connections.acme.config.columns]
"time/usage_start" = "{{ts}}"
"cost/cost" = "{{amount}}"
"resource/service" = "{{service}}"
""")
out = open(os.path.join(work, "serve.out"), "w+")
proc = subprocess.Popen([os.path.join(build, "bin/billdrop"), "--no-progress", "--plugin-dir",
                         os.path.join(build, "lib/billdrop/plugins"), "--log-level", "warn", "serve",
                         "--config", os.path.join(work, "billdrop.toml")],
                        stdout=out, stderr=subprocess.DEVNULL)
port = None
for _ in range(300):
    out.seek(0)
    m = re.search(r"listening on http://[^ ]+:(\d+) ", out.read())
    if m:
        port = int(m.group(1))
        break
    time.sleep(0.05)
if port is None:
    proc.kill()
    sys.exit("billdrop serve did not start")

sections = []


def call(method, path, body=None, title=None, show=True):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    text = json.dumps(body, indent=2) if isinstance(body, (dict, list)) else body
    conn.request(method, path, text, {"Content-Type": "application/json"} if text else {})
    r = conn.getresponse()
    raw = r.read().decode()
    conn.close()
    data = json.loads(raw)
    if show:
        curl = f"curl"
        if method != "GET":
            curl += f" -X {method}"
        curl += f" \"http://localhost:7420{path}\""
        if text:
            curl += " \\\n  -H \"Content-Type: application/json\" \\\n  -d '" + text + "'"
        pretty = json.dumps(data, indent=2)
        if len(pretty) > 2500:  # long lists: the first entries
            if isinstance(data.get("data"), list):
                shown = dict(data)
                shown["data"] = data["data"][:2]
                pretty = json.dumps(shown, indent=2) + f"\n(first 2 of {len(data['data'])})"
        sections.append(f"### {title or method + ' ' + path.split('?')[0]}\n\n```sh\n{curl}\n```\n\n"
                        f"HTTP {r.status}\n\n```json\n{pretty}\n```\n")
    return data


try:
    # Wait for the first sync (its sync items).
    for _ in range(300):
        if len(call("GET", "/api/v1/billing/items?source=sync", show=False)["data"]) == 3:
            break
        time.sleep(0.1)
    sections.append("## Categories\n")
    infra = call("POST", "/api/v1/billing/categories",
                 {"name": "Infrastructure", "description": "Cloud infrastructure costs",
                  "color": "#4A90D9"}, "POST /categories")["data"]["id"]
    call("POST", "/api/v1/billing/categories", {"name": "Compute", "parentId": infra},
         "POST /categories (a subcategory)")
    call("GET", "/api/v1/billing/categories", title="GET /categories")
    call("GET", "/api/v1/billing/categories/infrastructure",
         title="GET /categories/:idOrName (by name, any case)")
    call("PUT", f"/api/v1/billing/categories/{infra}", {"description": "Cloud costs"},
         "PUT /categories/:id")
    spare = call("POST", "/api/v1/billing/categories", {"name": "Spare"}, show=False)["data"]["id"]
    call("DELETE", f"/api/v1/billing/categories/{spare}", title="DELETE /categories/:id")

    sections.append("## Items\n")
    item = call("POST", "/api/v1/billing/items", {
        "name": "GCP Compute Engine", "amount": 1050, "currency": "USD", "provider": "gcp",
        "providerRef": "gcp-inv-2026-03", "tags": ["compute", "production"],
        "description": "March compute costs", "recurring": True, "period": "monthly",
        "date": "2026-03-05T12:00:00.000Z", "category": "Infrastructure", "service": "compute",
        "stageApp": "prod", "author": "alice"}, "POST /items")["data"]["id"]
    for body in [
        {"name": "OpenAI API", "amount": 17500, "provider": "openai", "tags": ["ai"],
         "date": "2026-03-20", "service": "api"},
        {"name": "Tokyo hosting", "amount": 5000, "currency": "JPY", "provider": "sakura",
         "date": "2026-03-15", "service": "compute"},
        {"name": "GCP Cloud Storage", "amount": 2300, "provider": "gcp", "tags": ["storage"],
         "date": "2026-02-10", "category": "Compute", "service": "storage"}]:
        call("POST", "/api/v1/billing/items", body, show=False)
    call("GET", f"/api/v1/billing/items/{item}", title="GET /items/:id")
    call("GET", "/api/v1/billing/items?provider=gcp&from=2026-03-01&to=2026-03-31&limit=20",
         title="GET /items (filters)")
    page = call("GET", "/api/v1/billing/items?source=manual&limit=2", title="GET /items (paging: limit)")
    call("GET", f"/api/v1/billing/items?source=manual&limit=2&cursor={page['meta']['nextCursor']}",
         title="GET /items (paging: the next page, ?cursor= from meta.nextCursor)")
    call("GET", "/api/v1/billing/items/by-provider-ref?provider=gcp&providerRef=gcp-inv-2026-03",
         title="GET /items/by-provider-ref")
    call("PUT", f"/api/v1/billing/items/{item}", {"amount": 1100, "tags": ["compute"]},
         "PUT /items/:id (replaces the fields it names, keeps createdAt)")
    spare = call("POST", "/api/v1/billing/items", {"name": "spare", "amount": 1}, show=False)["data"]["id"]
    call("DELETE", f"/api/v1/billing/items/{spare}", title="DELETE /items/:id")

    sections.append("## Reports\n")
    call("GET", "/api/v1/billing/reports/summary?from=2026-03-01&to=2026-03-31&currency=USD",
         title="GET /reports/summary (one currency)")
    call("GET", "/api/v1/billing/reports/summary?from=2026-03-01&to=2026-03-31",
         title="GET /reports/summary (several currencies: byCurrency)")
    call("GET", "/api/v1/billing/reports/breakdown?by=provider&source=manual",
         title="GET /reports/breakdown?by=provider")
    call("GET", "/api/v1/billing/reports/breakdown?by=category&currency=USD",
         title="GET /reports/breakdown?by=category")
    call("GET", "/api/v1/billing/reports/trend?interval=month&from=2026-01-01&source=manual",
         title="GET /reports/trend?interval=month")
    call("GET", "/api/v1/billing/reports/trend?interval=week&provider=gcp",
         title="GET /reports/trend?interval=week")

    sections.append("## Search and status\n")
    call("GET", "/api/v1/billing/search?q=compute&limit=10", title="GET /search")
    call("GET", "/api/v1/billing/status", title="GET /status")

    sections.append("## Sync\n")
    call("POST", "/api/v1/billing/sync", {"provider": "custom", "from": f"{m1}-01",
                                          "to": f"{m0}-28"}, "POST /sync")
    jobs = call("GET", "/api/v1/billing/sync/jobs?provider=custom", title="GET /sync/jobs")
    call("GET", f"/api/v1/billing/sync/jobs/{jobs['data'][0]['id']}", title="GET /sync/jobs/:id")
    call("GET", "/api/v1/billing/sync/adapters", title="GET /sync/adapters")
    call("GET", f"/api/v1/billing/items/by-provider-ref?provider=custom&providerRef=acme/{m0}/compute",
         title="A sync item (GET /items/by-provider-ref)")

    sections.append("## Errors\n")
    call("POST", "/api/v1/billing/items", {"name": "x", "amount": 10.5},
         "VALIDATION_ERROR (fractional minor units)")
    call("GET", "/api/v1/billing/items?from=2026-03-31&to=2026-03-01",
         title="VALIDATION_ERROR (from after to)")
    call("POST", "/api/v1/billing/items", {"name": "dup", "amount": 1, "provider": "gcp",
                                           "providerRef": "gcp-inv-2026-03"},
         "CONFLICT (providerRef)")
    call("GET", "/api/v1/billing/items/abc123def456", title="NOT_FOUND")
finally:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)
    shutil.rmtree(work, ignore_errors=True)

header = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "api_intro.md")).read()
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "api.md"), "w") as f:
    f.write(header + "\n## Examples\n\nGenerated by `docs/api_examples.py build` against a real "
            "`billdrop serve` (" + time.strftime("%Y-%m-%d", time.gmtime()) +
            "); ids and times are those of that run.\n\n" + "\n".join(sections))
print("wrote docs/api.md:", len(sections), "sections")
