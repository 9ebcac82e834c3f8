#!/usr/bin/env python3
"""The `layering` test: every #include "<layer>/..." in host/src/<layer>/ must name its own layer
or one the table in docs/architecture.md ("Layers and their arrows") allows; no header in
host/src may include a heavy third-party header (httplib.h, simdjson.h, Boost.Asio), so that
builds stay sane. Prints every breach with file:line and exits 1 when there is one."""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
doc = (root / "docs/architecture.md").read_text(encoding="utf-8")
section = doc.split("## Layers and their arrows", 1)
if len(section) != 2:
    sys.exit("docs/architecture.md has no '## Layers and their arrows' section")
allowed = {}
table = section[1][: section[1].find("\nOutside")]
for line in table.splitlines():
    m = re.match(r"\|\s*`([a-z_]+)/`\s*\|\s*([^|]*)\|", line)
    if m:
        allowed[m.group(1)] = set(re.findall(r"`([a-z_]+)`", m.group(2)))
if not allowed:
    sys.exit("docs/architecture.md: the layer table is empty")

src = root / "host/src"
problems = []
layers_on_disk = {p.name for p in src.iterdir() if p.is_dir()}
for layer in sorted(layers_on_disk - set(allowed)):
    problems.append(f"host/src/{layer}/ is not in the layer table of docs/architecture.md")
heavy_headers = []  # (header, line, what): allowed only as a layer's private header
include = re.compile(r'^\s*#\s*include\s*"([a-z_]+)/')
heavy = re.compile(r'^\s*#\s*include\s*<(httplib\.h|simdjson\.h|boost/asio[^>]*)>')
for path in sorted(src.rglob("*")):
    if path.suffix not in (".cpp", ".hpp", ".in"):
        continue
    layer = path.relative_to(src).parts[0]
    ok = allowed.get(layer, set()) | {layer}
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = include.match(text)
        if m and m.group(1) in layers_on_disk and m.group(1) not in ok:
            problems.append(f"{path.relative_to(root)}:{number}: layer '{layer}' may not include "
                            f"'{m.group(1)}/' (allowed: {', '.join(sorted(ok))})")
        if path.suffix == ".hpp" and heavy.match(text):
            heavy_headers.append((path, number, heavy.match(text).group(1)))
# A header may include a heavy header only when it is private to its layer: included by that
# layer's .cpp files alone, never by another header nor from another layer.
for header, number, what in heavy_headers:
    name = header.relative_to(src).as_posix()
    layer = header.relative_to(src).parts[0]
    for path in sorted(src.rglob("*")) + sorted((root / "tests").rglob("*")) + sorted((root / "bench").rglob("*")):
        if path.suffix not in (".cpp", ".hpp") or path == header:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if f'#include "{name}"' not in text:
            continue
        in_layer = src in path.parents and path.relative_to(src).parts[0] == layer
        if path.suffix == ".hpp" or not in_layer:
            problems.append(f"{header.relative_to(root)}:{number}: includes {what}, and "
                            f"{path.relative_to(root)} includes it: keep {what} in .cpp files "
                            "or in a header private to its layer")
for problem in problems:
    print(problem)
print(f"layering: {len(allowed)} layers, {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
