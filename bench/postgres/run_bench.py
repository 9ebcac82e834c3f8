#!/usr/bin/env python3
"""Several `billdrop serve` hosts on one PostgreSQL store: the figures of issue 17.

  run_bench.py BUILD_DIR [--hosts 3] [--connections 300] [--ttl 10] [--runs 3] [--work DIR]

Each run: a fresh database in a throwaway cluster (tests/support/postgres-cluster.sh, a unix
socket only), an external `billdrop emulator`, HOSTS `billdrop serve` processes with the same
CONNECTIONS `custom` connections (two months of a few rows each) and `[store] kind = "postgres"`.
It measures:

  connections per host   leases held by each live host once every month has landed and the
                         fair share has settled (min / max over hosts)
  claim latency          the `claim_us` of every `serve.leases_claimed` log line (the claim
                         statement: SELECT ... FOR UPDATE SKIP LOCKED + UPDATE), median and p95
  heartbeat load         transactions per second the cluster commits while every host is idle
                         (heartbeats, claims, the daemons' other reads), over 20 s, from
                         pg_stat_database.xact_commit
  move time              seconds from `kill -9` of one host until no lease is its own any more
                         (its connections claimed by the others), against the bound TTL + 1 s

and prints the medians over RUNS runs. Standard library only, plus `psql`.
"""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLUSTER = os.path.join(ROOT, "tests", "support", "postgres-cluster.sh")


def psql(url, sql):
    out = subprocess.run(["psql", url, "-At", "-c", sql], check=True, capture_output=True,
                         text=True)
    return out.stdout.strip()


def month_text(back):
    t = time.gmtime()
    y, m = t.tm_year, t.tm_mon
    for _ in range(back):
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return "%04d-%02d" % (y, m)


def write_inputs(work, hosts, connections, ttl, base_url):
    with open(os.path.join(work, "key.txt"), "w") as f:
        f.write("bench-key\n")
    for c in range(connections):
        rows = ["ts,id,amount"]
        for back in range(2):
            for hour in range(3):
                rows.append("%s-02T%02d:00:00Z,r%d,%d.%02d" % (month_text(back), hour,
                                                               len(rows), (c * 7 + hour) % 1000,
                                                               (c + back) % 100))
        with open(os.path.join(work, "c%04d.csv" % c), "w") as f:
            f.write("\n".join(rows) + "\n")
    for h in range(hosts):
        toml = ['state_dir = "host%d"' % h, "[server]", 'listen = "127.0.0.1:0"',
                "max_parallel_connections = 6", "[store]", 'kind = "postgres"',
                'url_file = "pg.url"', "lease_ttl_seconds = %d" % ttl]
        for c in range(connections):
            n = "c%04d" % c
            toml += ["[connections.%s]" % n, 'plugin = "custom"', 'destination = "anycost"',
                     "backfill_months = 3", "[connections.%s.anycost]" % n,
                     'base_url = "%s"' % base_url, 'api_key_file = "key.txt"',
                     "[connections.%s.config]" % n, 'path = "%s.csv"' % n,
                     "[connections.%s.config.columns]" % n, '"time/usage_start" = "{ts}"',
                     '"lineitem/id" = "{id}"', '"cost/cost" = "{amount}"']
        with open(os.path.join(work, "host%d.toml" % h), "w") as f:
            f.write("\n".join(toml) + "\n")


def start_host(billdrop, work, h, n):
    log = open(os.path.join(work, "host%d-%d.err" % (h, n)), "w")
    out = open(os.path.join(work, "host%d-%d.out" % (h, n)), "w")
    return subprocess.Popen([billdrop, "--no-progress", "--log-format", "json", "--log-level", "info", "serve",
                             "--config", os.path.join(work, "host%d.toml" % h)],
                            cwd=work, stdout=out, stderr=log, stdin=subprocess.DEVNULL)


def wait_for(predicate, timeout, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def one_run(args, run):
    work = tempfile.mkdtemp(prefix="billdrop-pg-bench-")
    cluster = work + "-cluster"
    billdrop = os.path.join(os.path.abspath(args.build), "bin", "billdrop")
    subprocess.run([CLUSTER, "start", cluster], check=True)
    procs = []
    try:
        admin = "host=%s port=5432 user=billdrop dbname=postgres" % cluster
        psql(admin, "CREATE DATABASE bench")
        url = "host=%s port=5432 user=billdrop dbname=bench" % cluster
        with open(os.path.join(work, "pg.url"), "w") as f:
            f.write(url + "\n")
        emu_out = open(os.path.join(work, "emulator.out"), "w")
        emulator = subprocess.Popen([billdrop, "emulator", "--listen", "127.0.0.1:0", "--store",
                                     os.path.join(work, "emulator.db")], stdout=emu_out,
                                    stderr=subprocess.DEVNULL, cwd=work)
        procs.append(emulator)
        port = None

        def emulator_port():
            nonlocal port
            m = re.search(r"127\.0\.0\.1:(\d+)", open(os.path.join(work, "emulator.out")).read())
            port = m and int(m.group(1))
            return port is not None
        assert wait_for(emulator_port, 30)
        write_inputs(work, args.hosts, args.connections, args.ttl,
                     "http://127.0.0.1:%d" % port)
        hosts = [start_host(billdrop, work, h, 0) for h in range(args.hosts)]
        procs += hosts
        months = 2 * args.connections
        def all_synced():
            try:  # the first host creates the schema
                return psql(url, "SELECT COUNT(*) FROM month_sync WHERE state = 'synced'") == \
                    str(months)
            except subprocess.CalledProcessError:
                return False
        landed = wait_for(all_synced, 600, 0.5)
        assert landed, "not every month landed"
        share = -(-args.connections // args.hosts)

        def settled():
            rows = psql(url, "SELECT COUNT(*) FROM leases WHERE expires_at > now() GROUP BY owner")
            counts = [int(x) for x in rows.split()] if rows else []
            return len(counts) == args.hosts and max(counts) <= share and sum(counts) == \
                args.connections
        wait_for(settled, 10 * args.ttl, 0.5)
        counts = [int(x) for x in psql(url, "SELECT COUNT(*) FROM leases WHERE expires_at > "
                                            "now() GROUP BY owner").split()]
        # Heartbeat load: every host idle (no sync due until tomorrow's slot).
        before = int(psql(admin, "SELECT xact_commit FROM pg_stat_database WHERE datname = "
                                 "'bench'"))
        t0 = time.time()
        time.sleep(20)
        after = int(psql(admin, "SELECT xact_commit FROM pg_stat_database WHERE datname = "
                                "'bench'"))
        tps = (after - before - 2) / (time.time() - t0)  # less this script's own two reads
        # Move time: kill -9 one host.
        victim = hosts[run % args.hosts]
        owner = psql(url, "SELECT owner FROM hosts WHERE pid = %d" % victim.pid)
        held = int(psql(url, "SELECT COUNT(*) FROM leases WHERE owner = '%s'" % owner))
        victim.send_signal(signal.SIGKILL)
        killed = time.time()
        victim.wait()
        moved = wait_for(lambda: psql(url, "SELECT COUNT(*) FROM leases WHERE owner = '%s'" %
                                      owner) == "0", 10 * args.ttl, 0.05)
        move = time.time() - killed if moved else float("nan")
        claims = []
        for name in os.listdir(work):
            if name.endswith(".err"):
                for line in open(os.path.join(work, name)):
                    m = re.search(r'"claim_us":(\d+)', line)
                    if m:
                        claims.append(int(m.group(1)) / 1000.0)
        claims.sort()
        result = {
            "per_host_min": min(counts), "per_host_max": max(counts),
            "claim_ms_median": statistics.median(claims),
            "claim_ms_p95": claims[int(len(claims) * 0.95) - 1] if claims else float("nan"),
            "claims": len(claims), "heartbeat_tps": tps, "moved": held, "move_s": move,
        }
        print("run %d: %s" % (run + 1, result), flush=True)
        return result
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
        subprocess.run([CLUSTER, "stop", cluster])
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build")
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--connections", type=int, default=300)
    parser.add_argument("--ttl", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    results = [one_run(args, r) for r in range(args.runs)]
    print("\nmedians over %d runs (%d hosts, %d connections, TTL %d s):" %
          (args.runs, args.hosts, args.connections, args.ttl))
    for key in results[0]:
        print("  %-16s %s" % (key, statistics.median(r[key] for r in results)))


if __name__ == "__main__":
    sys.exit(main())
