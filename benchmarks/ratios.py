"""Prints evaluation cost ratios from a pytest-benchmark JSON file.

    pytest benchmarks/ --benchmark-json=benchmarks.json [--privacy-dataset=imagefolder:DIR]
    python benchmarks/ratios.py benchmarks.json
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict


def main(path: str) -> None:
    means: dict[str, dict[str, float]] = defaultdict(dict)
    for bench in json.load(open(path))["benchmarks"]:
        kind, profile = re.match(r"test_(\w+)\[(.+)\]", bench["name"]).groups()
        means[profile][kind] = bench["stats"]["mean"]
    print("| profile | codelab evaluation (s) | suite evaluation (s) | speed-up | one epoch (s) | evaluation / epoch |")
    print("| --- | --- | --- | --- | --- | --- |")
    for profile, m in sorted(means.items()):
        print(
            f"| {profile} | {m['tutorial']:.2f} | {m['suite']:.2f} | {m['tutorial'] / m['suite']:.2f}x "
            f"| {m['epoch']:.2f} | {m['suite'] / m['epoch']:.2f} |"
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "benchmarks.json")
