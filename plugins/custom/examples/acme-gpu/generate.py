#!/usr/bin/env python3
"""Generates the bundled "Acme GPU Cloud" example export and its expected totals.

Acme GPU Cloud is a made-up GPU cloud whose billing console exports one CSV per billing account
family: hourly GPU instance, storage and network usage, plus monthly tax and support rows, a
promotional credit, an SLA credit and a few negative metering corrections. The file exercises what
real vendor exports do to a reader: quoted descriptions with commas, doubled quotes and an embedded
newline, US-style "MM/DD/YYYY HH:MM" timestamps, costs with up to 8 decimals, negative values,
blank and NULL cells, and tag columns (tag_team, tag_env, ...).

The output is deterministic (fixed seed, no clock, no set iteration): running this script again
writes byte-identical files. Standard library only.

    python3 generate.py            # writes acme_usage.csv and expected_totals.json next to it

expected_totals.json holds, per month of the usage hour, the row count and the exact sum of the
Cost column computed with decimal.Decimal by re-reading the written CSV, so that billdrop's tests
compare the plugin's output against numbers that owe nothing to billdrop's own C++.
"""

import csv
import datetime as dt
import decimal
import json
import os
import random
from decimal import Decimal

SEED = 20260801
START = dt.datetime(2026, 8, 1)
END = dt.datetime(2026, 11, 1)  # exclusive: August, September and October 2026
HERE = os.path.dirname(os.path.abspath(__file__))

CENT = Decimal("0.01")
EIGHT = Decimal("0.00000001")

HEADER = [
    "Invoice ID",
    "Account ID",
    "Account Name",
    "Project",
    "Region",
    "Usage Hour",
    "Usage Hour End",
    "Charge Type",
    "Product",
    "SKU",
    "Resource Type",
    "Resource ID",
    "Description",
    "Usage Quantity",
    "Usage Unit",
    "Unit Price",
    "Cost",
    "List Cost",
    "Currency",
    "tag_team",
    "tag_env",
    "tag_cost-center",
    "tag_owner",
]

ACCOUNTS = {
    "ACME-100234": ("Nimbus Robotics - Research", "7.25"),
    "ACME-100587": ("Nimbus Robotics - Production", "7.25"),
    "ACME-101002": ("Nimbus Robotics - Shared Services", "7.25"),
}

# project -> (account, team, env, cost center, owner)
PROJECTS = {
    "llm-pretrain": ("ACME-100234", "ml-research", "dev", "CC-4410", "maria.kovacs@nimbus.example"),
    "vision-lab": ("ACME-100234", "perception", "dev", "CC-4420", "j.okafor@nimbus.example"),
    "inference-api": ("ACME-100587", "platform", "prod", "CC-5100", "oncall-platform@nimbus.example"),
    "batch-scoring": ("ACME-100587", "platform", "prod", "CC-5100", ""),
    "data-platform": ("ACME-101002", "data-eng", "NULL", "CC-6000", "li.wei@nimbus.example"),
}


def fmt_time(t):
    return t.strftime("%m/%d/%Y %H:%M")


def q8(value):
    return value.quantize(EIGHT, rounding=decimal.ROUND_HALF_EVEN)


def q2(value):
    return value.quantize(CENT, rounding=decimal.ROUND_HALF_EVEN)


def invoice_id(account, t):
    return "INV-%04d%02d-%s" % (t.year, t.month, account.split("-")[1])


def hours():
    t = START
    while t < END:
        yield t
        t += dt.timedelta(hours=1)


class Export:
    def __init__(self):
        self.rows = []

    def add(self, project, account, region, start, end, charge, product, sku, rtype, rid,
            description, quantity, unit, price, cost, list_cost):
        if project:
            _, team, env, center, owner = PROJECTS[project]
        else:
            team = env = center = owner = ""
        self.rows.append([
            invoice_id(account, start),
            account,
            ACCOUNTS[account][0],
            project,
            region,
            fmt_time(start),
            fmt_time(end),
            charge,
            product,
            sku,
            rtype,
            rid,
            description,
            quantity,
            unit,
            price,
            cost,
            list_cost,
            "USD",
            team,
            env,
            center,
            owner,
        ])


def gpu_instances(export, rng):
    # (project, region, resource id, sku, gpus, on-demand price per GPU-hour, description, schedule)
    instances = [
        ("inference-api", "acme-us-east-1", "gi-4f8a21c0", "gpu.h100.1x", 1, Decimal("2.49"),
         "NVIDIA H100 80GB SXM, 1x GPU, on-demand", "always"),
        ("inference-api", "acme-eu-central-1", "gi-4f8a21c1", "gpu.l40s.2x", 2, Decimal("0.86"),
         "NVIDIA L40S 48GB, 2x GPU, on-demand", "always"),
        ("llm-pretrain", "acme-us-east-1", "gi-9b03e7d2", "gpu.a100.8x", 8, Decimal("1.29"),
         "NVIDIA A100 80GB, 8x GPU, \"reserved-burst\" pool", "bursts"),
        ("vision-lab", "acme-ap-northeast-1", "gi-2c7d55a9", "gpu.l40s.1x", 1, Decimal("0.94"),
         "NVIDIA L40S 48GB, 1x GPU, on-demand (Tokyo)", "weekdays-tokyo"),
        ("batch-scoring", "acme-us-east-1", "gi-71e0b3f4", "gpu.a100.1x.spot", 1, Decimal("1.29"),
         "NVIDIA A100 80GB, 1x GPU, spot, interruptible", "nightly-spot"),
        ("data-platform", "acme-eu-central-1", "gi-0d9e6a18", "gpu.h100.1x", 1, Decimal("2.69"),
         "NVIDIA H100 80GB SXM, 1x GPU, on-demand, EU", "weekdays-eu"),
    ]
    for project, region, rid, sku, gpus, price, description, schedule in instances:
        account = PROJECTS[project][0]
        burst_left = 0
        for t in hours():
            quantity = Decimal(gpus)
            unit_price = price
            if schedule == "bursts":
                # Training runs of 1-6 days separated by idle gaps.
                if burst_left == 0 and t.hour == 0 and rng.random() < 0.35:
                    burst_left = rng.randint(24, 144)
                if burst_left == 0:
                    continue
                burst_left -= 1
            elif schedule == "weekdays-tokyo":
                if t.weekday() >= 5 or not 0 <= t.hour < 10:  # 09:00-19:00 JST
                    continue
            elif schedule == "weekdays-eu":
                if t.weekday() >= 5 or not 7 <= t.hour < 17:
                    continue
            elif schedule == "nightly-spot":
                if not 1 <= t.hour < 6:
                    continue
                # Spot capacity: sometimes interrupted part-way through the hour; price floats.
                if rng.random() < 0.12:
                    quantity = Decimal(rng.randint(5, 55)) / Decimal(60)
                    quantity = q8(quantity)
                unit_price = Decimal("0.61") + Decimal(rng.randint(-900, 1500)) / Decimal(100000)
            cost = q8(quantity * unit_price)
            list_cost = q8(quantity * price)
            export.add(project, account, region, t, t + dt.timedelta(hours=1), "usage",
                       "GPU Compute", sku, "instance", rid, description, str(quantity),
                       "GPU-Hours", str(unit_price), str(cost), str(list_cost))


def storage_volumes(export, rng):
    volumes = [
        ("llm-pretrain", "acme-us-east-1", "vol-3a9f1e22", "storage.nvme.tb-hr",
         Decimal("0.096"), Decimal("12.5"), "NVMe block storage, 3x replicated"),
        ("data-platform", "acme-eu-central-1", "vol-8c11d0b7", "storage.object.tb-hr",
         Decimal("0.0285"), Decimal("48.2"), "Object storage, standard tier, EU"),
    ]
    for project, region, rid, sku, price, size, description in volumes:
        account = PROJECTS[project][0]
        for t in hours():
            # Volumes grow a little most days at midnight.
            if t.hour == 0 and rng.random() < 0.6:
                size += Decimal(rng.randint(1, 400)) / Decimal(1000)
            cost = q8(size * price)
            export.add(project, account, region, t, t + dt.timedelta(hours=1), "usage",
                       "Block Storage" if "nvme" in sku else "Object Storage", sku, "volume", rid,
                       description, str(size), "TB-Hours", str(price), str(cost), str(cost))


def network_egress(export, rng):
    price = Decimal("0.0825")
    for t in hours():
        # Egress follows the daily traffic curve of the inference API; quiet hours are skipped.
        busy = 8 <= t.hour < 23
        if not busy and rng.random() < 0.55:
            continue
        gigabytes = Decimal(rng.randint(200_000, 95_000_000 if busy else 9_000_000)) / Decimal(
            1_000_000)
        cost = q8(gigabytes * price)
        export.add("inference-api", "ACME-100587", "acme-us-east-1", t, t + dt.timedelta(hours=1),
                   "usage", "Network Egress", "egress.internet.gb", "gateway", "egw-5510aa3e",
                   "Internet egress, Americas, tier 1 (0-10 TB)", str(gigabytes), "GB", str(price),
                   str(cost), str(cost))


def month_starts():
    return [dt.datetime(2026, 8, 1), dt.datetime(2026, 9, 1), dt.datetime(2026, 10, 1)]


def next_month(t):
    return dt.datetime(t.year + (t.month == 12), t.month % 12 + 1, 1)


def corrections(export):
    # Metering corrections: a duplicated hour is reversed with negative quantity and cost.
    for when, rid, sku, project, quantity, price, what in [
        (dt.datetime(2026, 8, 19, 14), "gi-4f8a21c0", "gpu.h100.1x", "inference-api", "-1",
         "2.49", "duplicated metering record 08/19/2026 14:00"),
        (dt.datetime(2026, 9, 3, 2), "gi-71e0b3f4", "gpu.a100.1x.spot", "batch-scoring",
         "-0.41666667", "0.61", "spot interruption billed as a full hour, 09/03/2026 02:00"),
        (dt.datetime(2026, 10, 22, 9), "egw-5510aa3e", "egress.internet.gb", "inference-api",
         "-3.125", "0.0825", "egress counted twice after collector restart, 10/22/2026 09:00"),
    ]:
        cost = q8(Decimal(quantity) * Decimal(price))
        export.add(project, PROJECTS[project][0], "acme-us-east-1", when,
                   when + dt.timedelta(hours=1), "adjustment",
                   "Network Egress" if sku.startswith("egress") else "GPU Compute", sku,
                   "gateway" if sku.startswith("egress") else "instance", rid,
                   "Usage correction: " + what, quantity,
                   "GB" if sku.startswith("egress") else "GPU-Hours", price, str(cost), "")


def monthly_rows(export):
    # Support plan, promotional credit and SLA credit, then tax on each account's month.
    for start in month_starts():
        end = next_month(start)
        export.add("", "ACME-101002", "", start, end, "support", "Support", "support.business",
                   "", "", "Business Support plan, monthly fee (24x7, 1h response)", "1", "Month",
                   "500.00", "500.00", "")
    export.add("", "ACME-100234", "", dt.datetime(2026, 9, 1), dt.datetime(2026, 10, 1), "credit",
               "Credits", "credit.promo", "", "",
               "Promotional credit, Startup Program \"Launchpad\"\nReference: PROMO-2026-0193",
               "", "", "", "-250.00", "")
    export.add("inference-api", "ACME-100587", "acme-us-east-1", dt.datetime(2026, 10, 7, 13),
               dt.datetime(2026, 10, 7, 16), "SLA Credit", "GPU Compute", "gpu.h100.1x",
               "instance", "gi-4f8a21c0",
               "SLA credit: GPU capacity incident in acme-us-east-1, 10/07/2026, 3 hours", "", "",
               "", "-7.47000000", "")
    for start in month_starts():
        end = next_month(start)
        for account, (_, rate) in ACCOUNTS.items():
            taxable = sum(
                (Decimal(row[16]) for row in export.rows
                 if row[1] == account and row[7] not in ("tax",)
                 and dt.datetime.strptime(row[5], "%m/%d/%Y %H:%M").month == start.month),
                Decimal(0))
            tax = q2(taxable * Decimal(rate) / Decimal(100))
            export.add("", account, "", start, end, "tax", "Tax", "tax.sales.us-oh", "", "",
                       "Sales tax, Ohio, %s%% of taxable charges" % rate, "", "",
                       "", str(tax), "")


def expected_totals(path):
    # Re-read the file we wrote, independently of how it was generated.
    totals = {}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        for row in reader:
            month = dt.datetime.strptime(row["Usage Hour"], "%m/%d/%Y %H:%M").strftime("%Y-%m")
            entry = totals.setdefault(month, {"rows": 0, "cost": Decimal(0)})
            entry["rows"] += 1
            entry["cost"] += Decimal(row["Cost"])
    return {
        month: {"rows": entry["rows"], "cost": str(entry["cost"])}
        for month, entry in sorted(totals.items())
    }


def main():
    decimal.getcontext().prec = 60  # far more than any sum here needs: every addition is exact
    rng = random.Random(SEED)
    export = Export()
    gpu_instances(export, rng)
    storage_volumes(export, rng)
    network_egress(export, rng)
    corrections(export)
    monthly_rows(export)
    # The console sorts the export by hour, then account and resource.
    export.rows.sort(key=lambda row: (dt.datetime.strptime(row[5], "%m/%d/%Y %H:%M"), row[1],
                                      row[11], row[7]))

    csv_path = os.path.join(HERE, "acme_usage.csv")
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(export.rows)

    totals = expected_totals(csv_path)
    with open(os.path.join(HERE, "expected_totals.json"), "w", encoding="utf-8") as f:
        json.dump({"file": "acme_usage.csv", "months": totals}, f, indent=2)
        f.write("\n")
    for month, entry in totals.items():
        print("%s  %6d rows  cost %s" % (month, entry["rows"], entry["cost"]))


if __name__ == "__main__":
    main()
