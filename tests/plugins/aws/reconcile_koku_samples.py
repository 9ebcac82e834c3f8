#!/usr/bin/env python3
"""The independent computation behind KokuSamplesReconcileWithTheirBilledColumn
(aws_plugin_test.cpp): per file and usage month, the line count and the exact sum of the billed
column, with nothing but the standard library (csv + decimal). The test's constants are its output.

    python3 tests/plugins/aws/reconcile_koku_samples.py [FILE...]

Without arguments it reads the koku samples in fixtures/koku. Billed cost is
lineItem/NetUnblendedCost when the file has that column and the line fills it, else
lineItem/UnblendedCost; snake_case headers (line_item_unblended_cost) are matched by their
letters and digits, as the plugin's README says. The month is the first seven characters of the
usage start date.
"""
import collections
import csv
import decimal
import gzip
import io
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = ["test_cur.csv.gz", "2023-06-01.csv", "2022-07-01-alt-columns.csv"]


def canonical(name):
    return re.sub(r"[^a-z0-9]", "", name.lower())


def open_text(path):
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def reconcile(path):
    rows = collections.Counter()
    totals = collections.defaultdict(decimal.Decimal)
    with open_text(path) as text:
        reader = csv.reader(text)
        columns = {}
        for i, name in enumerate(next(reader)):
            columns.setdefault(canonical(name), i)

        def cell(line, name):
            i = columns.get(name)
            return line[i].strip() if i is not None and i < len(line) else ""

        for line in reader:
            net = cell(line, "lineitemnetunblendedcost")
            billed = net if net else cell(line, "lineitemunblendedcost")
            month = cell(line, "lineitemusagestartdate")[:7]
            rows[month] += 1
            totals[month] += decimal.Decimal(billed)
    return rows, totals


def main(paths):
    decimal.getcontext().prec = 60  # exact for every sample: more digits than any sum has
    for path in paths or [os.path.join(HERE, "fixtures", "koku", name) for name in SAMPLES]:
        rows, totals = reconcile(path)
        for month in sorted(rows):
            print(f"{os.path.basename(path)} {month}: {rows[month]} rows, billed {totals[month]}")


if __name__ == "__main__":
    main(sys.argv[1:])
