#!/usr/bin/env python3
"""Measurements of one `billdrop serve` run for bench/serve/run_bench.sh (standard library only;
every request goes to 127.0.0.1).

  probe.py wait URL PID STARTED TIMEOUT INTERVAL N [status|metrics]
      polls GET URL/api/v1/billing/sync-status every INTERVAL s until N entries are all `ok`
      (exit 1 after TIMEOUT s, or at once when an entry is `error`, or when PID is gone); with
      `metrics`, polls /metrics instead until N syncs have run and none runs, then sync-status.
      Prints `wall` (seconds from STARTED, a time.time() value taken just before the daemon was
      started, to the start of the sync-status request that saw every entry `ok`), the slowest
      sync-status poll, the serve process's VmHWM / VmRSS and CPU seconds
  probe.py metrics URL
      sums every billdrop_*_total family of GET URL/metrics over connections
  probe.py rss PID
      VmRSS, VmHWM (kB) and CPU seconds of PID
  probe.py latency URL SEQUENTIAL CLIENTS PER_CLIENT
      SEQUENTIAL sync-status requests on one keep-alive connection, SEQUENTIAL/5 on a new
      connection each, then CLIENTS threads each making PER_CLIENT requests on its own keep-alive
      connection: p50/p99/max of each
  probe.py check EXPECTED STORE_ROWS STATUS_JSON
      compares the generator's exact per-month totals with what the emulator's store holds
      (STORE_ROWS: `connection|month|cost` lines from sqlite3) and with `billdrop status`
"""
import http.client
import json
import os
import sys
import threading
import time
from collections import defaultdict
from decimal import Decimal

TICKS = os.sysconf("SC_CLK_TCK")


def host_port(url):
    hp = url.split("://", 1)[1].rstrip("/")
    host, port = hp.rsplit(":", 1)
    assert host == "127.0.0.1", "loopback only"
    return host, int(port)


def get(conn, path):
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: HTTP {response.status}: {body[:200]!r}")
    return body


def proc_status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read().rsplit(")", 1)[1].split()
    cpu = (int(stat[11]) + int(stat[12])) / TICKS  # utime + stime
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0]), cpu


def metric_sums(conn):
    sums = defaultdict(float)
    for line in get(conn, "/metrics").decode().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name_labels, value = line.rsplit(" ", 1)
        sums[name_labels.split("{", 1)[0]] += float(value)
    return sums


def cmd_wait(url, pid, started, timeout, interval, n, gate="status"):
    """gate `status`: every poll is a sync-status request. gate `metrics`: polls /metrics (far
    cheaper) until N syncs have run and none runs, and only then sync-status."""
    pid, started, timeout, interval, n = int(pid), float(started), float(timeout), float(interval), int(n)
    deadline = started + timeout
    conn = None
    slowest = 0.0
    polls = 0
    last = ""
    while time.time() < deadline:
        if not os.path.exists(f"/proc/{pid}"):
            sys.exit(f"the serve process {pid} is gone")
        try:
            if conn is None:
                conn = http.client.HTTPConnection(*host_port(url), timeout=30)
            t_gate = time.time()
            if gate == "metrics":
                sums = metric_sums(conn)
                if sums["billdrop_sync_runs_total"] < n or sums["billdrop_connection_running"] > 0:
                    last = f"syncs run {sums['billdrop_sync_runs_total']:.0f}"
                    time.sleep(interval)
                    continue
            t0 = time.time()
            body = get(conn, "/api/v1/billing/sync-status")
            t1 = time.time()
        except (OSError, http.client.HTTPException):
            conn = None
            time.sleep(interval)
            continue
        slowest = max(slowest, t1 - t0)
        polls += 1
        data = json.loads(body)["data"]
        counts = defaultdict(int)
        for entry in data:
            counts[entry["status"]] += 1
        last = " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        if counts["error"]:
            bad = [e for e in data if e["status"] == "error"][:3]
            sys.exit(f"sync-status has errors: {json.dumps(bad)}")
        if len(data) == n and counts["ok"] == n:
            # The sync ended before the poll that first saw it end (the sync-status request, or
            # the /metrics one that let it through): the start of that poll bounds the wall time
            # from above, within one interval.
            wall = t_gate - started
            rss, hwm, cpu = proc_status(pid)
            print(f"wall {wall:.3f}")
            print(f"polls {polls}")
            print(f"slowest_poll {slowest:.4f}")
            print(f"hwm_kb {hwm}")
            print(f"rss_kb {rss}")
            print(f"cpu_s {cpu:.2f}")
            print(f"months_backfilled {sum(e['monthsBackfilled'] for e in data)}")
            return
        time.sleep(interval)
    sys.exit(f"timed out after {timeout:.0f} s; last: {last}")


def cmd_metrics(url):
    sums = metric_sums(http.client.HTTPConnection(*host_port(url), timeout=30))
    for name in sorted(sums):
        print(f"{name} {sums[name]:.10g}")


def cmd_rss(pid):
    rss, hwm, cpu = proc_status(int(pid))
    print(f"rss_kb {rss}")
    print(f"hwm_kb {hwm}")
    print(f"cpu_s {cpu:.2f}")


def percentile(sorted_values, p):
    # Nearest rank.
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def summary(label, samples, elapsed):
    s = sorted(samples)
    print(f"{label}_n {len(s)}")
    print(f"{label}_p50_ms {percentile(s, 50) * 1000:.2f}")
    print(f"{label}_p99_ms {percentile(s, 99) * 1000:.2f}")
    print(f"{label}_max_ms {s[-1] * 1000:.2f}")
    print(f"{label}_rps {len(s) / elapsed:.1f}")


def cmd_latency(url, sequential, clients, per_client):
    sequential, clients, per_client = int(sequential), int(clients), int(per_client)
    hp = host_port(url)
    path = "/api/v1/billing/sync-status"
    conn = http.client.HTTPConnection(*hp, timeout=30)
    size = len(get(conn, path))  # warm-up, and the answer's size
    print(f"body_bytes {size}")
    samples = []
    t_start = time.perf_counter()
    seq_retried = 0
    for _ in range(sequential):
        t0 = time.perf_counter()
        try:
            get(conn, path)
        except (http.client.RemoteDisconnected, ConnectionError):
            seq_retried += 1
            conn.close()
            get(conn, path)
        samples.append(time.perf_counter() - t0)
    summary("seq", samples, time.perf_counter() - t_start)
    print(f"seq_retried {seq_retried}")
    conn.close()

    # The same without keep-alive: a new connection per request (`Connection: close`), which
    # shows the server's own time apart from what the keep-alive connection adds.
    samples = []
    t_start = time.perf_counter()
    for _ in range(max(1, sequential // 5)):
        t0 = time.perf_counter()
        c = http.client.HTTPConnection(*hp, timeout=30)
        c.request("GET", path, headers={"Connection": "close"})
        response = c.getresponse()
        response.read()
        c.close()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status}")
        samples.append(time.perf_counter() - t0)
    summary("fresh", samples, time.perf_counter() - t_start)

    results = [[] for _ in range(clients)]
    retried = [0] * clients
    errors = []
    barrier = threading.Barrier(clients + 1)

    def client(i):
        # Connects at its first request (a warm-up before the barrier would leave the first
        # clients' connections idle while the others wait for a server thread, and the server
        # closes a connection idle for 5 s). A request on a connection that the server closed
        # is retried once on a new one; the retry is counted and its time included.
        c = http.client.HTTPConnection(*hp, timeout=60)
        try:
            barrier.wait()
            for _ in range(per_client):
                t0 = time.perf_counter()
                try:
                    get(c, path)
                except (http.client.RemoteDisconnected, ConnectionError):
                    retried[i] += 1
                    c.close()
                    get(c, path)
                results[i].append(time.perf_counter() - t0)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))
        finally:
            c.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    t_start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t_start
    if errors:
        sys.exit(f"concurrent clients failed: {errors[:3]}")
    print(f"conc_retried {sum(retried)}")
    summary("conc", [x for r in results for x in r], elapsed)


def cmd_check(expected_path, store_rows_path, status_path):
    with open(expected_path) as f:
        expected = json.load(f)
    landed = defaultdict(lambda: [0, Decimal(0)])
    with open(store_rows_path) as f:
        for line in f:
            connection, month, cost = line.rstrip("\n").split("|")
            slot = landed[(connection, month)]
            slot[0] += 1
            slot[1] += Decimal(cost)
    with open(status_path) as f:
        status = json.load(f)
    recorded = {}
    for c in status["connections"]:
        for m in c["months"]:
            recorded[(c["connection"], m["month"])] = m
    problems = []
    months = 0
    for connection, per_month in expected.items():
        for month, want in per_month.items():
            months += 1
            rows, cost = landed.get((connection, month), (0, Decimal(0)))
            if rows != want["rows"] or cost != Decimal(want["cost"]):
                problems.append(f"{connection} {month}: store has {rows} rows, {cost}; "
                                f"generated {want['rows']} rows, {want['cost']}")
            r = recorded.get((connection, month))
            if r is None or r["state"] != "synced" or r["rows"] != want["rows"] \
                    or Decimal(r["cost"]) != Decimal(want["cost"]):
                problems.append(f"{connection} {month}: billdrop status says {r}; "
                                f"generated {want['rows']} rows, {want['cost']}")
    extra = set(landed) - {(c, m) for c, pm in expected.items() for m in pm}
    for key in sorted(extra):
        problems.append(f"{key[0]} {key[1]}: in the store but not generated")
    total = sum(Decimal(m["cost"]) for pm in expected.values() for m in pm.values())
    print(f"check_months {months}")
    print(f"check_landed_months {len(landed)}")
    print(f"check_rows {sum(v[0] for v in landed.values())}")
    print(f"check_total_cost {total}")
    print(f"check_problems {len(problems)}")
    for p in problems[:10]:
        print("  " + p, file=sys.stderr)
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    commands = {"wait": cmd_wait, "metrics": cmd_metrics, "rss": cmd_rss,
                "latency": cmd_latency, "check": cmd_check}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](*sys.argv[2:])
