#!/usr/bin/env python3
"""A real-shaped CUR for the aws benchmark: the public koku sample's report
(../shared/samples/aws_cur/koku/koku-local, 13,380 lines, 130 columns) with its lines repeated
REPEATS times (75: 1,003,500 lines, about 750 MB raw), written twice:

  <out>/tree/koku-local/20180801-20180901/<assembly>/koku-local-1.csv.gz   with both manifests
  <out>/single/koku-local-1m.csv.gz                                        the same bytes, alone

Prints `file`, `single`, `tree`, `rows` and `unblended_total`: the exact sum of
lineItem/UnblendedCost over every line written, summed here with Python's Decimal (not by
billdrop), for the run to check the converted month against.

  koku_cur.py <out dir> [repeats=75] [samples dir=<repo>/../shared/samples]
"""
import csv
import gzip
import io
import os
import shutil
import subprocess
import sys
from decimal import Decimal

out = sys.argv[1]
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 75
here = os.path.dirname(os.path.abspath(__file__))
samples = sys.argv[3] if len(sys.argv) > 3 else os.path.join(here, "..", "..", "..", "shared",
                                                             "samples")
report = os.path.join(samples, "aws_cur", "koku", "koku-local")
period = "20180801-20180901"
assembly = "16e57707-f9e3-49be-8be6-b84e684b5194"
sample = os.path.join(report, period, assembly, "koku-local-1.csv.gz")
if not os.path.exists(sample):
    sys.exit(f"koku sample not found: {sample} (pass the samples folder as the third argument)")

with gzip.open(sample, "rb") as f:
    raw = f.read()
header_end = raw.index(b"\n") + 1
header, body = raw[:header_end], raw[header_end:]
if not body.endswith(b"\n"):
    body += b"\n"
reader = csv.reader(io.StringIO(raw.decode("utf-8")))
columns = next(reader)
cost_column = columns.index("lineItem/UnblendedCost")
sample_total = Decimal(0)
sample_rows = 0
for record in reader:
    if not record:
        continue
    sample_rows += 1
    cell = record[cost_column].strip()
    if cell:
        sample_total += Decimal(cell)

tree_dir = os.path.join(out, "tree", "koku-local", period)
os.makedirs(os.path.join(tree_dir, assembly), exist_ok=True)
os.makedirs(os.path.join(out, "single"), exist_ok=True)
shutil.copy(os.path.join(report, period, "koku-local-Manifest.json"), tree_dir)
shutil.copy(os.path.join(report, period, assembly, "koku-local-Manifest.json"),
            os.path.join(tree_dir, assembly))
file = os.path.join(tree_dir, assembly, "koku-local-1.csv.gz")
# gzip -6 (the tool, in C): the way AWS delivers CUR files, and faster than Python's zlib here.
with open(file, "wb") as target:
    gz = subprocess.Popen(["gzip", "-6", "-c"], stdin=subprocess.PIPE, stdout=target)
    gz.stdin.write(header)
    for _ in range(repeats):
        gz.stdin.write(body)
    gz.stdin.close()
    if gz.wait() != 0:
        sys.exit("gzip failed")
single = os.path.join(out, "single", "koku-local-1m.csv.gz")
shutil.copy(file, single)
print(f"file {file}")
print(f"single {single}")
print(f"tree {os.path.join(out, 'tree')}")
print(f"rows {sample_rows * repeats}")
print(f"raw_bytes {len(header) + len(body) * repeats}")
print(f"unblended_total {sample_total * repeats}")
