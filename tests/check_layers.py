#!/usr/bin/python3
"""The one-way rule of docs/architecture.md: a file in one of cowprof's
folders includes headers of its own folder and of folders earlier in
LAYERS, never of a later one; preload/ (what runs inside the target) is
included by nothing outside it but its tests. Prints each breach and a
summary line; exits 1 if there is any."""
import os
import re
import sys

LAYERS = ["common", "collectors", "preload", "measure", "faults", "record",
          "store", "analysis", "report", "tui", "cli"]
RANK = {d: i for i, d in enumerate(LAYERS)}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(root):
    for layer in LAYERS:
        for dirpath, _, files in os.walk(os.path.join(root, layer)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.join(dirpath, f)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    breaches = checked = 0
    for path in sources(root):
        rel = os.path.relpath(path, root)
        layer = rel.split(os.sep)[0]
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for inc in INCLUDE.findall(text):
            checked += 1
            target = inc.split("/")[0]
            if "/" not in inc or target not in RANK:
                print("%s: includes \"%s\": not a path from the root" % (rel, inc))
                breaches += 1
            elif RANK[target] > RANK[layer]:
                print("%s: includes %s, of a later layer" % (rel, inc))
                breaches += 1
            elif target == "preload" and layer != "preload":
                print("%s: includes %s: preload/ runs in the target only" % (rel, inc))
                breaches += 1
    print("layers: %d includes checked, %d against the order" % (checked, breaches))
    return 1 if breaches else 0


if __name__ == "__main__":
    sys.exit(main())
