#!/usr/bin/env python3
"""Billing API benchmark (issue 13): 100,000 items in a real `billdrop serve`, then
reports/summary, reports/breakdown, reports/trend and search under 50 concurrent keep-alive
clients on loopback, measured with wrk (Debian package `wrk`); each figure is the median of
RUNS runs of DURATION seconds. Two cases per endpoint:
  repeated  the same query again and again (a dashboard refreshing): served from the report cache
  varied    a different query per request (wrk Lua script: reports over a random from..to range,
            half of them also for one random provider; searches for a random prefix of one or
            two words with a random limit), so nearly every request misses the cache
Search is also measured with 10 clients.

Usage: bench/billing/run_bench.py BUILD_DIR [--items N] [--runs R] [--duration S] [--state DIR]
                                  [--postgres-url-file FILE --results NAME]
--state DIR keeps the state directory (the items) between runs: a DIR that already holds
billing.db is used as it is, without creating items.
Prints a Markdown table and writes it to bench/billing/results.md (or NAME). With
--postgres-url-file, serve runs with [store] kind = "postgres" on the database that file names
(bench/billing/run_postgres.sh starts a throwaway cluster for it)."""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

PROVIDERS = ["gcp", "aws", "azure", "openai", "datadog", "github", "slack", "atlassian",
             "snowflake", "cloudflare"]
SERVICES = ["compute", "storage", "network", "database", "api", "monitoring", "support",
            "analytics", "ml", "cdn"]
WORDS = ["engine", "instance", "bucket", "cluster", "license", "seat", "plan", "tokens",
         "egress", "backup", "replica", "warehouse", "pipeline", "queue", "cache"]
TAGS = ["production", "staging", "dev", "team-a", "team-b", "team-c", "gpu", "eu", "us", "batch"]


def start_serve(build, work, state, postgres_url_file=None):
    csv = os.path.join(work, "empty.csv")
    with open(csv, "w") as f:
        f.write("ts,amount\n2026-01-01T00:00:00Z,1.00\n")
    config = os.path.join(work, "billdrop.toml")
    with open(config, "w") as f:
        f.write(f"""state_dir = "{state}"
[server]
listen = "127.0.0.1:0"
[connections.bench]
plugin = "custom"
enabled = false
[connections.bench.config]
path = "{csv}"
[connections.bench.config.columns]
"time/usage_start" = "{{ts}}"
"cost/cost" = "{{amount}}"
""")
        if postgres_url_file:
            f.write(f'[store]\nkind = "postgres"\nurl_file = "{os.path.abspath(postgres_url_file)}"\n')
    out = open(os.path.join(work, "serve.out"), "w+")
    proc = subprocess.Popen([os.path.join(build, "bin/billdrop"), "--no-progress",
                             "--plugin-dir", os.path.join(build, "lib/billdrop/plugins"), "--log-level", "warn",
                             "serve", "--config", config],
                            stdout=out, stderr=open(os.path.join(work, "serve.err"), "w"))
    for _ in range(300):
        out.seek(0)
        m = re.search(r"listening on http://[^ ]+:(\d+) ", out.read())
        if m:
            return proc, int(m.group(1))
        time.sleep(0.05)
    proc.kill()
    sys.exit("billdrop serve did not start: " + open(os.path.join(work, "serve.err")).read())


def load_items(port, count, threads=4):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    categories = []
    for i in range(20):
        conn.request("POST", "/api/v1/billing/categories", json.dumps({"name": f"Category {i}"}),
                     {"Content-Type": "application/json"})
        categories.append(json.loads(conn.getresponse().read())["data"]["id"])
    conn.close()

    def worker(seed, n):
        rng = random.Random(seed)
        c = http.client.HTTPConnection("127.0.0.1", port)
        for _ in range(n):
            service = rng.choice(SERVICES)
            day = rng.randrange(0, 730)
            body = {
                "name": f"{rng.choice(PROVIDERS)} {service} {rng.choice(WORDS)}",
                "amount": rng.randrange(1, 500_000),
                "provider": rng.choice(PROVIDERS),
                "service": service,
                "category": rng.choice(categories),
                "tags": rng.sample(TAGS, rng.randrange(0, 4)),
                "date": time.strftime("%Y-%m-%d", time.gmtime(1704067200 + day * 86400)),
                "description": " ".join(rng.choice(WORDS) for _ in range(6)),
            }
            if rng.random() < 0.2:
                body["recurring"] = True
                body["period"] = "monthly"
            c.request("POST", "/api/v1/billing/items", json.dumps(body),
                      {"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            if r.status != 201:
                raise SystemExit(f"create failed: {r.status}")
        c.close()

    per = count // threads
    ts = [threading.Thread(target=worker, args=(i, per + (count % threads if i == 0 else 0)))
          for i in range(threads)]
    started = time.time()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.time() - started


VARY_LUA = """
local base = "%s"
local words = {%s}
math.randomseed(os.time() + os.clock() * 1e6)
local function word()
  local w = words[math.random(1, #words)]
  return string.sub(w, 1, math.random(2, #w))
end
request = function()
  local path = base
  if string.find(base, "search") then
    local q = word()
    if math.random(1, 2) == 1 then q = q .. "+" .. word() end
    path = path .. q .. "&limit=" .. math.random(1, 50)
  else
    local a, b = math.random(0, 729), math.random(0, 729)
    if a > b then a, b = b, a end
    path = path .. string.format("&from=%%s&to=%%s", os.date("!%%Y-%%m-%%d", 1704067200 + a * 86400),
                                 os.date("!%%Y-%%m-%%d", 1704067200 + b * 86400))
    if math.random(1, 2) == 1 then
      path = path .. "&provider=" .. providers[math.random(1, #providers)]
    end
  end
  return wrk.format("GET", path)
end
"""


def wrk(url, duration, script=None, clients=50):
    cmd = ["wrk", "-t2", f"-c{clients}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    def ms(text):
        value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    p50 = ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"{url}: {non2xx.group(1)} error responses\n{out}")
    return p50, p99, rps


def median(values):
    return sorted(values)[len(values) // 2]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--state", help="a state directory to keep (and reuse) the items in")
    parser.add_argument("--postgres-url-file")
    parser.add_argument("--results", default="results.md")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk; install-deps.sh has it)")
    work = tempfile.mkdtemp(prefix="billdrop-billing-bench-")
    state = os.path.abspath(args.state) if args.state else os.path.join(work, "state")
    # With PostgreSQL the items live in the database: --state does not say whether it has them.
    reuse = os.path.exists(os.path.join(state, "billing.db")) and not args.postgres_url_file
    started = time.time()
    proc, port = start_serve(os.path.abspath(args.build), work, state, args.postgres_url_file)
    startup = time.time() - started
    try:
        seconds = None if reuse else load_items(port, args.items)
        base = f"http://127.0.0.1:{port}/api/v1/billing"
        endpoints = [
            ("reports/summary", "/reports/summary?to=2025-12-31", "/reports/summary?to=2025-12-31"),
            ("reports/breakdown", "/reports/breakdown?by=provider", "/reports/breakdown?by=provider"),
            ("reports/trend", "/reports/trend?interval=month", "/reports/trend?interval=month"),
            ("search", "/search?q=compute&limit=10", "/search?q="),
            ("search, 10 clients", "/search?q=compute&limit=10", "/search?q="),
        ]
        rows = []
        for name, repeated, varied in endpoints:
            results = {}
            script = os.path.join(work, name.replace("/", "_") + ".lua")
            with open(script, "w") as f:
                f.write("local providers = {%s}\n" % ", ".join(f'"{p}"' for p in PROVIDERS))
                f.write(VARY_LUA % ("/api/v1/billing" + varied,
                                    ", ".join(f'"{w}"' for w in WORDS + SERVICES + PROVIDERS)))
            clients = 10 if "10 clients" in name else 50
            for case, path, lua in (("repeated", repeated, None), ("varied", varied, script)):
                runs = [wrk(base + (path if lua is None else "/reports/summary"), args.duration, lua,
                            clients)
                        for _ in range(args.runs)]
                results[case] = (median([r[0] for r in runs]), median([r[1] for r in runs]),
                                 median([r[2] for r in runs]), [r[1] for r in runs])
            rows.append((name, results))
        status = json.loads(subprocess.run(["curl", "-s", base + "/status"], capture_output=True,
                                           text=True).stdout)["data"]
        created = (f"{seconds:.0f} s to create through POST /items, 4 clients" if seconds
                   else "reused from --state")
        load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
        lines = [f"Billing API ({status['storageType']} store), {status['totalItems']:,} items "
                 f"({created}; serve ready in {startup:.2f} s); wrk -t2 -c50 (search also -c10) "
                 f"-d{args.duration}s, median of {args.runs} runs; {os.cpu_count()} CPUs; load "
                 f"average at the end {load}; "
                 f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
                 "",
                 "| endpoint | case | p50 ms | p99 ms | req/s | p99 of each run (ms) |",
                 "|---|---|---|---|---|---|"]
        for name, results in rows:
            for case, (p50, p99, rps, all99) in results.items():
                lines.append(f"| {name} | {case} | {p50:.2f} | {p99:.2f} | {rps:,.0f} | "
                             f"{', '.join(f'{v:.2f}' for v in all99)} |")
        text = "\n".join(lines)
        print(text)
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), args.results), "w") as f:
            f.write(text + "\n")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
