#!/usr/bin/env python3
"""What a pass is worth, learned and scored with models and tasks held out (issue 26, item 1).

Usage: python3 scripts/bench-trust.py APP [--per-assert FILE] [--out FILE]
  APP: the complexitynet binary (e.g. $CARGO_TARGET_DIR/debug/complexitynet). Data from $COMPLEXITYNET_SHARED_DATA
  (default ../shared/data). --per-assert reuses a file this script wrote before (the sandbox run takes minutes).

Two sources, because neither has everything:
- The paper's recorded answers (3 models x 974 MBPP tasks) are run by the app against each of their task's
  asserts alone: how often an answer that is wrong (fails one of the three) still passes one or two of them.
- The 49 models' MBPP+ outcomes (378 tasks): whether a pass on the three MBPP asserts survives EvalPlus's
  stronger tests (the truth here). A pass on one or two checks is built from them: an answer that passed all three
  passes any subset; one that failed passes a k-subset as often as the paper's answers of like strength do.

The trust model is the one the router ships (router::trust): logit P(right | passed k checks) = b0 + b1*logit(rate)
+ c_k, rate being the tier's pass rate. It is fitted on some models and tasks and scored on others: five folds of
models x five folds of tasks; every tier triple in a test fold is drawn from its held-out models, in order of
strength, at the paper's costs (1 : 10 : 100). The cascade with learned trust starts at the first tier whose pass
would be trusted, accepts a pass only at or above the threshold, and returns the best passing answer when none
is trusted; the threshold is the one the training folds chose (the cheapest within 1 point of always-top).
"""
import collections
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile

COSTS = (1.0, 10.0, 100.0)
KS = (1, 2, 3)
THRESHOLDS = [x / 100 for x in range(50, 100, 2)]
# Fixed bars, for the table of what each costs and buys (held out; one, two and three checks pooled).
SWEEP = (0.5, 0.7, 0.75, 0.78, 0.8, 0.82, 0.84, 0.86)


def logit(p):
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def shared():
    return os.environ.get("COMPLEXITYNET_SHARED_DATA") or os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")


def per_assert(app, path):
    """{(model, task): [bool per assert]} from the app run on each assert alone (written to `path`)."""
    tasks = [json.loads(line) for line in open(os.path.join(shared(), "mbpp.jsonl"), encoding="utf-8")]
    ntests = {t["task_id"]: len(t["test_list"]) for t in tasks}
    with tempfile.TemporaryDirectory() as tmp:
        split, answers = os.path.join(tmp, "split.jsonl"), os.path.join(tmp, "answers.jsonl")
        with open(split, "w", encoding="utf-8") as f:
            for t in tasks:
                for j, a in enumerate(t["test_list"]):
                    f.write(json.dumps(dict(t, task_id=t["task_id"] * 10 + j, test_list=[a], challenge_test_list=[])) + "\n")
        with open(answers, "w", encoding="utf-8") as f:
            for line in open(os.path.join(shared(), "recorded", "complexitynet-mbpp-outputs.jsonl"), encoding="utf-8"):
                r = json.loads(line)
                for j in range(ntests[r["task_id"]]):
                    f.write(json.dumps(dict(r, task_id=r["task_id"] * 10 + j)) + "\n")
        data = os.path.join(tmp, "data")
        run = lambda *a: subprocess.run([app, "--data-dir", data, *a], check=True, capture_output=True, text=True).stdout
        run("dataset", "import", split, "--name", "split", "--json")
        # 30 s of CPU per check, as the replayed-label tests use: no right answer is cut short.
        out = json.loads(run("verify", "--answers", answers, "--dataset", "split", "--timeout-ms", "30000", "--json"))
    bits = collections.defaultdict(dict)
    for a in out["answers"]:
        tid = int(a["task_id"])
        bits[(a["model"], tid // 10)][tid % 10] = a["verdict"] == "passed"
    table = {f"{m}\t{t}": [b[j] for j in sorted(b)] for (m, t), b in bits.items() if len(b) == ntests[t]}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(table, f)
    return table


def subset_rates(table):
    """Per paper model: its rate on all asserts and q_k = P(a random k-subset passes | not all pass)."""
    by_model = collections.defaultdict(list)
    for key, b in table.items():
        if len(b) == 3:
            by_model[key.split("\t")[0]].append(b)
    rates = {}
    for m, rows in by_model.items():
        wrong = [b for b in rows if not all(b)]
        q1 = statistics.mean(sum(b) / 3 for b in wrong)
        q2 = statistics.mean(sum(b[i] and b[j] for i, j in ((0, 1), (0, 2), (1, 2))) / 3 for b in wrong)
        rates[m] = (sum(all(b) for b in rows) / len(rows), {1: q1, 2: q2, 3: 0.0}, len(rows), len(wrong))
    return rates


def q_of(rates):
    """q_k as a function of a model's rate: a line in logit space through the paper models' points."""
    pts = sorted(rates.values())
    fits = {}
    for k in (1, 2):
        xs = [logit(r) for r, *_ in pts]
        ys = [logit(q[k]) for _, q, *_ in pts]
        mx, my = statistics.mean(xs), statistics.mean(ys)
        sxx = sum((x - mx) ** 2 for x in xs)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
        fits[k] = (my - slope * mx, slope)
    return lambda k, rate: 0.0 if k >= 3 else sigmoid(fits[k][0] + fits[k][1] * logit(rate))


def fit_logistic(rows, iters=50):
    """Newton's method on logit P(y) = w . x (rows: (x, y)); a small ridge keeps it finite."""
    d = len(rows[0][0])
    w = [0.0] * d
    for _ in range(iters):
        g = [0.0] * d
        h = [[1e-3 * (i == j) for j in range(d)] for i in range(d)]
        for x, y in rows:
            p = sigmoid(sum(a * b for a, b in zip(w, x)))
            for i in range(d):
                g[i] += (y - p) * x[i] - 1e-3 * w[i] / len(rows)
                for j in range(d):
                    h[i][j] += p * (1 - p) * x[i] * x[j]
        # Solve h . step = g (Gauss-Jordan; d is 4).
        m = [row[:] + [g[i]] for i, row in enumerate(h)]
        for c in range(d):
            piv = max(range(c, d), key=lambda r: abs(m[r][c]))
            m[c], m[piv] = m[piv], m[c]
            for r in range(d):
                if r != c and m[c][c]:
                    f = m[r][c] / m[c][c]
                    m[r] = [a - f * b for a, b in zip(m[r], m[c])]
        step = [m[i][d] / m[i][i] for i in range(d)]
        w = [a + b for a, b in zip(w, step)]
        if max(abs(s) for s in step) < 1e-8:
            break
    return w


def features(k, rate):
    return [1.0, logit(rate), 1.0 if k == 1 else 0.0, 1.0 if k == 2 else 0.0]


def trust(w, k, rate):
    return sigmoid(sum(a * b for a, b in zip(w, features(k, rate))))


def evidence(outcomes, q, rate_of, k, rng_seed):
    """{(model, task): (passed k checks, right)} for the 49 models."""
    out = {}
    for (m, t), (base, plus) in outcomes.items():
        if base:
            ok = True
        else:
            # Seeded per answer, so every policy and fold sees the same draw.
            ok = random.Random(f"{rng_seed}:{m}:{t}:{k}").random() < q(k, rate_of[m])
        out[(m, t)] = (ok, plus)
    return out


def cascade(triple, t, ev, rates, w, tau):
    """(right, cost) of one task; w None: the plain cascade (every pass accepted)."""
    cost, best = 0.0, None
    start = 0
    if w is not None:
        while start < 2 and trust(w, ev["k"], rates[start]) < tau:
            start += 1
    for i in range(start, 3):
        ok, right = ev[(triple[i], t)]
        cost += COSTS[i]
        if ok:
            if w is None or i == 2 or trust(w, ev["k"], rates[i]) >= tau:
                return right, cost
            best = best if best is not None else right
    # None passed where trusted: the best passing answer, else the top's.
    if best is not None and not ev[(triple[2], t)][0]:
        return best, cost
    return ev[(triple[2], t)][1], cost


def triples(models, rate_of, n, seed):
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        tr = sorted(rng.sample(models, 3), key=lambda m: rate_of[m])
        if rate_of[tr[2]] - rate_of[tr[0]] >= 0.05:
            out.append(tr)
    return out


def score(trs, tasks, evs, rate_of, w, tau):
    """Mean pass rate (on the truth) and cost vs always-top over the triples and the k's given."""
    right = cost = top = 0.0
    n = 0
    for k, ev in evs.items():
        for tr in trs:
            rates = [rate_of[m] for m in tr]
            for t in tasks:
                r, c = cascade(tr, t, ev, rates, w, tau)
                right += r
                cost += c
                top += ev[(tr[2], t)][1]
                n += 1
    return right / n, cost / (n * COSTS[2]), top / n


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    app = args[0]
    opt = dict(zip(args[1::2], args[2::2]))
    cache = opt.get("--per-assert")
    table = json.load(open(cache)) if cache and os.path.isfile(cache) else per_assert(app, cache or os.path.join(tempfile.gettempdir(), "cn-per-assert.json"))
    rates = subset_rates(table)
    print("## Per-assert results of the paper's answers (MBPP tasks with three asserts)\n")
    print("| model | passes all three | wrong answers | P(1 random assert passes \\| wrong) | P(2 pass \\| wrong) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for m, (r, q, n, nw) in sorted(rates.items(), key=lambda kv: kv[1][0]):
        print(f"| {m} | {100 * r:.1f}% of {n} | {nw} | {q[1]:.3f} | {q[2]:.3f} |")
    q = q_of(rates)

    outcomes = {}
    for line in open(os.path.join(shared(), "outcomes", "mbpp-plus-greedy.jsonl"), encoding="utf-8"):
        r = json.loads(line)
        outcomes[(r["model"], r["task_id"])] = (bool(r["passed"]), bool(r["passed_plus"]))
    models = sorted({m for m, _ in outcomes})
    tasks = sorted({t for _, t in outcomes})
    tasks = [t for t in tasks if all((m, t) in outcomes for m in models)]
    # A tier's rate is what is published of it: its MBPP (base) pass rate, here over the training tasks.
    evs = {}
    for k in KS:
        rate_all = {m: statistics.mean(outcomes[(m, t)][0] for t in tasks) for m in models}
        evs[k] = evidence(outcomes, q, rate_all, k, 0)
        evs[k]["k"] = k

    rng = random.Random(0)
    ms, ts = models[:], tasks[:]
    rng.shuffle(ms)
    rng.shuffle(ts)
    folds = 5
    res = collections.defaultdict(list)
    coefs = []
    prec = collections.defaultdict(lambda: [0, 0])
    for fm in range(folds):
        test_m = ms[fm::folds]
        train_m = [m for m in ms if m not in test_m]
        for ft in range(folds):
            test_t = ts[ft::folds]
            train_t = [t for t in ts if t not in test_t]
            rate_of = {m: statistics.mean(outcomes[(m, t)][0] for t in train_t) for m in models}
            rows = [
                (features(k, rate_of[m]), 1.0 if evs[k][(m, t)][1] else 0.0)
                for k in KS for m in train_m for t in train_t if evs[k][(m, t)][0]
            ]
            w = fit_logistic(rows)
            coefs.append(w)
            # The threshold: on the training models and tasks, the cheapest within 1 point of always-top.
            train_tr = triples(train_m, rate_of, 12, fm * 10 + ft)
            best_tau = THRESHOLDS[-1]
            for tau in THRESHOLDS:
                p, c, top = score(train_tr, train_t, evs, rate_of, w, tau)
                if p >= top - 0.01:
                    best_tau = tau
                    break
            test_tr = triples(test_m, rate_of, 12, 1000 + fm * 10 + ft)
            for k in KS:
                one = {k: evs[k]}
                res[("plain", k)].append(score(test_tr, test_t, one, rate_of, None, 0))
                res[("trust", k)].append(score(test_tr, test_t, one, rate_of, w, best_tau))
            res["tau"].append(best_tau)
            for tau in SWEEP:
                res[("sweep", tau)].append(score(test_tr, test_t, evs, rate_of, w, tau))
            # Precision of a pass on held-out models and tasks, by the model's strength and k.
            for k in KS:
                for m in test_m:
                    band = "weaker half" if rate_of[m] < statistics.median(rate_of.values()) else "stronger half"
                    for t in test_t:
                        ok, right = evs[k][(m, t)]
                        if ok:
                            prec[(band, k)][0] += right
                            prec[(band, k)][1] += 1
    print("\n## The cascade on MBPP+, models and tasks held out (5 x 5 folds, 12 tier triples per fold)\n")
    print("| checks shown | always-top | plain cascade: pass / cost | learned trust: pass / cost |")
    print("| ---: | ---: | ---: | ---: |")
    for k in KS:
        p = [statistics.mean(x[i] for x in res[("plain", k)]) for i in range(3)]
        t = [statistics.mean(x[i] for x in res[("trust", k)]) for i in range(3)]
        print(f"| {k} | {100 * p[2]:.1f}% | {100 * p[0]:.1f}% / {100 * p[1]:.1f}% | {100 * t[0]:.1f}% / {100 * t[1]:.1f}% |")
    print("\n| trust bar (fixed) | pass rate | cost vs always-top | always-top |")
    print("| ---: | ---: | ---: | ---: |")
    for tau in SWEEP:
        p = [statistics.mean(x[i] for x in res[("sweep", tau)]) for i in range(3)]
        print(f"| {tau:.2f} | {100 * p[0]:.1f}% | {100 * p[1]:.1f}% | {100 * p[2]:.1f}% |")
    print(f"\nthreshold chosen on the training folds: median {statistics.median(res['tau']):.2f} "
          f"[{min(res['tau']):.2f}, {max(res['tau']):.2f}]")
    w = [statistics.mean(c[i] for c in coefs) for i in range(4)]
    print(f"coefficients (mean over folds): b0 {w[0]:.3f}, b1 {w[1]:.3f}, c1 {w[2]:.3f}, c2 {w[3]:.3f}")
    print("\n## Precision of a pass on held-out models and tasks\n")
    print("| models | 1 check | 2 checks | 3 checks |")
    print("| --- | ---: | ---: | ---: |")
    for band in ("weaker half", "stronger half"):
        cells = [f"{prec[(band, k)][0] / max(prec[(band, k)][1], 1):.3f}" for k in KS]
        print(f"| {band} | " + " | ".join(cells) + " |")
    # The full fit, for the router's constants.
    rate_of = {m: statistics.mean(outcomes[(m, t)][0] for t in tasks) for m in models}
    rows = [(features(k, rate_of[m]), 1.0 if evs[k][(m, t)][1] else 0.0) for k in KS for m in models for t in tasks if evs[k][(m, t)][0]]
    w = fit_logistic(rows)
    print(f"\nfit on everything (router::trust): b0 {w[0]:.4f}, b1 {w[1]:.4f}, c1 {w[2]:.4f}, c2 {w[3]:.4f}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.exit(0)
