#!/usr/bin/env python3
"""What a pass on a task's own asserts is worth: P(passes MBPP+'s extended tests | passes MBPP's asserts), per model
and by model strength, from the 49 models' outcomes in ../shared/data/outcomes/mbpp-plus-greedy.jsonl.

Usage: python3 scripts/bench-pass-precision.py [OUTCOMES.jsonl]   (default: $COMPLEXITYNET_SHARED_DATA or
../shared/data). Prints a table for BENCHMARKS.md; exits 1 when the file is missing.
"""
import collections
import json
import os
import statistics
import sys


def main() -> int:
    base = os.environ.get("COMPLEXITYNET_SHARED_DATA") or os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(base, "outcomes", "mbpp-plus-greedy.jsonl")
    if not os.path.isfile(path):
        print(f"error: {path} not found (set COMPLEXITYNET_SHARED_DATA or pass the file)", file=sys.stderr)
        return 1
    by_model = collections.defaultdict(list)
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            by_model[r["model"]].append((bool(r["passed"]), bool(r["passed_plus"])))
    models = []
    for m, rs in by_model.items():
        passed = sum(p for p, _ in rs)
        both = sum(p and q for p, q in rs)
        models.append((passed / len(rs), both / max(passed, 1), m, len(rs)))
    models.sort()
    k = len(models)
    print(f"{k} models, {sum(n for *_, n in models)} outcomes")
    print("| models (by base pass rate) | base pass rate | precision of a pass: mean [min, max] |")
    print("| --- | ---: | ---: |")
    for lo, hi, name in [(0, k // 3, "weakest third"), (k // 3, 2 * k // 3, "middle third"), (2 * k // 3, k, "strongest third")]:
        g = models[lo:hi]
        precision = [x[1] for x in g]
        print(
            f"| {name} ({len(g)}) | {100 * g[0][0]:.1f}–{100 * g[-1][0]:.1f}% | "
            f"{statistics.mean(precision):.3f} [{min(precision):.3f}, {max(precision):.3f}] |"
        )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.exit(0)
