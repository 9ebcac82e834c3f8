#!/usr/bin/env python3
"""Writes the inputs of bench/serve/run_bench.sh into a work folder:

  data/conn-NNNN.csv  one small CSV per connection: ROWS rows in each of the current UTC month
                  and the two before it (hour, amount, service, resource), exact decimal costs
  billdrop.toml   N `custom` connections, each reading its own CSV, sent to DESTINATION
                  (`local`: the embedded emulator; `anycost`: an external `billdrop emulator`
                  at BASE_URL with the API key in api-key.txt)
  expected.json   {connection: {month: {"rows": n, "cost": "exact sum"}}}, computed here with
                  decimal.Decimal from the values written

Standard library only; deterministic for a given (N, ROWS, today's UTC month).

  gen_config.py WORK N ROWS_PER_MONTH BODY_BYTES PARALLEL local
  gen_config.py WORK N ROWS_PER_MONTH BODY_BYTES PARALLEL anycost BASE_URL
"""
import datetime
import json
import os
import random
import sys
from decimal import Decimal


def months_back(today, count):
    """The current month and the count-1 before it, oldest first, as (year, month)."""
    out = []
    y, m = today.year, today.month
    for _ in range(count):
        out.append((y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


def days_in(y, m):
    nxt = datetime.date(y + (m == 12), 1 if m == 12 else m + 1, 1)
    return (nxt - datetime.date(y, m, 1)).days


def main():
    work, n, rows, body_bytes, parallel, destination = sys.argv[1:7]
    n, rows, body_bytes, parallel = int(n), int(rows), int(body_bytes), int(parallel)
    base_url = sys.argv[7] if destination == "anycost" else ""
    os.makedirs(os.path.join(work, "data"), exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    today = now.date()
    months = months_back(today, 3)
    # Daily, as the default schedule, at the hour 12 hours from now: no second sync within the
    # benchmark. backfill_months and reprocess_months keep their defaults (13 and 3): the source
    # holds 3 months, so 3 are sent.
    schedule = f"0 {(now.hour + 12) % 24} * * *"
    services = ["Compute", "Storage", "Network", "Database", "Support"]
    expected = {}
    toml = [
        f'state_dir = "{work}/state"',
        "",
        "[server]",
        'listen = "127.0.0.1:0"',
        "jitter_seconds = 0",
        f"max_parallel_connections = {parallel}",
        "",
        "[limits]",
        f"max_body_bytes = {body_bytes}",
        "",
    ]
    if destination == "anycost":
        with open(os.path.join(work, "api-key.txt"), "w") as f:
            f.write("bench-serve-key\n")
    for i in range(n):
        name = f"conn-{i:04d}"
        rng = random.Random(i)
        lines = ["hour,amount,service,resource"]
        per_month = {}
        for (y, m) in months:
            # Rows on distinct hours of the month (the current month: the hours begun so far, so
            # no row is in the future; on its first day hours repeat).
            if (y, m) == (today.year, today.month):
                span = (today.day - 1) * 24 + now.hour + 1
            else:
                span = days_in(y, m) * 24
            hours = rng.sample(range(span), min(rows, span))
            total = Decimal(0)
            count = 0
            for k in range(rows):
                h = hours[k % len(hours)]
                day, hour = divmod(h, 24)
                cents = rng.randrange(-500, 2_000_000)  # a few negative corrections
                amount = Decimal(cents) / Decimal(10**6)  # six decimals, exact
                text = f"{amount:f}"
                total += Decimal(text)
                count += 1
                lines.append(f"{y:04d}-{m:02d}-{day + 1:02d}T{hour:02d}:00:00Z,{text},"
                             f"{services[k % len(services)]},{name}/r{k % 7}")
            per_month[f"{y:04d}-{m:02d}"] = {"rows": count, "cost": str(total)}
        expected[name] = per_month
        with open(os.path.join(work, "data", f"{name}.csv"), "w") as f:
            f.write("\n".join(lines) + "\n")
        toml += [
            f"[connections.{name}]",
            'plugin = "custom"',
            f'destination = "{destination}"',
            f'schedule = "{schedule}"',
        ]
        if destination == "anycost":
            toml += [
                f"[connections.{name}.anycost]",
                f'base_url = "{base_url}"',
                f'api_key_file = "{work}/api-key.txt"',
            ]
        toml += [
            f"[connections.{name}.config]",
            f'path = "{work}/data/{name}.csv"',
            f"[connections.{name}.config.columns]",
            '"time/usage_start" = "{hour}"',
            '"cost/cost" = "{amount}"',
            '"resource/service" = "{service}"',
            '"resource/id" = "{resource}"',
            "",
        ]
    with open(os.path.join(work, "billdrop.toml"), "w") as f:
        f.write("\n".join(toml))
    with open(os.path.join(work, "expected.json"), "w") as f:
        json.dump(expected, f)
    print(f"connections {n} months {','.join(f'{y:04d}-{m:02d}' for y, m in months)} "
          f"rows_per_month {rows}")


if __name__ == "__main__":
    main()
