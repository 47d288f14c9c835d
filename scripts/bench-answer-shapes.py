#!/usr/bin/env python3
"""HumanEval answers in the shapes models write them, judged by the app against HumanEval's verdict.

Every task's function, right (the canonical solution) and wrong (up to three random operator swaps in its body),
is wrapped in nine shapes real answers take (prose around a fence, a `__main__` doctest run, example prints that
raise, a usage transcript, non-ASCII prose, a `unittest` class, CRLF, no fence, the answer's own wrong asserts).
HumanEval's verdict is the function alone run with the task's `check()` in plain Python; the app's is
`complexitynet verify --answers … --dataset he`, once with the dataset's tests (agreement per shape) and once with
`--tests prompt` (the prompt's own examples as a judge: precision and recall).

    python3 scripts/bench-answer-shapes.py BINARY HumanEval.jsonl [--limit N]

It exits 1 when any answer's verdict disagrees with HumanEval's (the benchmark's key assertion); `--limit N` takes
the first N tasks only (the smoke run a `cargo test` makes: tests/cli/main.rs).
"""
import collections, json, os, random, re, subprocess, sys, tempfile

SWAPS = [("<=", "<"), ("<", "<="), (">=", ">"), (">", ">="), ("+ 1", "+ 2"), ("- 1", "- 2"), ("==", "!="),
         (" and ", " or "), ("True", "False"), ("[1:]", "[2:]"), ("sorted(", "list(")]


def mutate(code, rnd):
    opts = [(a, b) for a, b in SWAPS if a in code]
    if not opts:
        return None
    a, b = rnd.choice(opts)
    i = rnd.choice([m.start() for m in re.finditer(re.escape(a), code)])
    return code[:i] + b + code[i + len(a):]


def humaneval_verdict(task, function):
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(f"{function}\n\n{task['test']}\n\ncheck({task['entry_point']})\n")
    try:
        return subprocess.run([sys.executable, f.name], capture_output=True, timeout=10).returncode == 0
    except subprocess.TimeoutExpired:
        return False
    finally:
        os.unlink(f.name)


def shapes(e, f):
    yield "prose around a fence", f"Here is the implementation:\n\n```python\n{f}```\n\nIt passes the examples above."
    yield "__main__ doctest", f"```python\n{f}\n\nif __name__ == \"__main__\":\n    import doctest\n    doctest.testmod()\n```"
    yield "example prints", f"```python\n{f}\n\n# Test the function\nprint({e}())\nprint({e}(None))\n```"
    yield "usage transcript", (f"You can implement `{e}` like this:\n\n```python\n{f}```\n\nUsage:\n\n```python\n>>> {e}()\n"
                               "Traceback (most recent call last):\nTypeError\n```\n")
    yield "non-ASCII prose", f"Voici la solution — très simple 😊 (Σ, λ, 中文):\n```py\n{f}```\nComplexité : O(n²). Ça marche ✓"
    yield "unittest class", (f"```python\n{f}\n\nimport unittest\n\nclass TestIt(unittest.TestCase):\n    def test_wrong(self):\n"
                             f"        self.assertEqual({e}(), 12345)\n\nif __name__ == '__main__':\n    unittest.main()\n```")
    yield "CRLF", ("```python\n" + f + "```\n").replace("\n", "\r\n")
    yield "no fence", f"Sure! Here's the function:\n\n{f}\n\nThis works by checking each element in turn."
    yield "own wrong asserts", f"```python\n{f}\n\n# tests\nassert {e}() == 'not a real value'\n```"


def main():
    binary, humaneval = sys.argv[1], sys.argv[2]
    tasks = [json.loads(line) for line in open(humaneval)]
    if "--limit" in sys.argv:
        tasks = tasks[: int(sys.argv[sys.argv.index("--limit") + 1])]
    rnd = random.Random(1)
    work = tempfile.mkdtemp(prefix="shapes-")
    env = dict(os.environ, COMPLEXITYNET_DATA_DIR=os.path.join(work, "data"))
    subprocess.run([binary, "dataset", "import", humaneval, "--name", "he"], env=env, check=True, capture_output=True)
    truth = {}
    with open(os.path.join(work, "answers.jsonl"), "w") as out:
        for t in tasks:
            variants = [("right", t["prompt"] + t["canonical_solution"])]
            for k in range(3):
                m = mutate(t["canonical_solution"], rnd)
                if m:
                    variants.append((f"swap{k}", t["prompt"] + m))
            for name, function in variants:
                verdict = humaneval_verdict(t, function)
                for shape, answer in shapes(t["entry_point"], function):
                    model = f"{shape}|{name}"
                    out.write(json.dumps({"task_id": t["task_id"], "model": model, "trial": 0, "output": answer}) + "\n")
                    truth[(t["task_id"], model)] = verdict
    print(f"{len(truth)} answers, {sum(truth.values())} right by HumanEval's tests")
    disagreements = 0
    for tests in ["dataset", "prompt"]:
        run = subprocess.run([binary, "verify", "--answers", os.path.join(work, "answers.jsonl"), "--dataset", "he",
                              "--tests", tests, "--json", "--timeout-ms", "10000"], env=env, check=True,
                             capture_output=True, text=True)
        answers = json.loads(run.stdout)["answers"]
        if tests == "dataset":
            agree, total = collections.Counter(), collections.Counter()
            for a in answers:
                shape = a["model"].split("|")[0]
                total[shape] += 1
                agree[shape] += (a["verdict"] == "passed") == truth[(a["task_id"], a["model"])]
            print("\n| shape | agrees with HumanEval's verdict |\n| --- | ---: |")
            for shape in total:
                print(f"| {shape} | {agree[shape]}/{total[shape]} = {agree[shape] / total[shape]:.1%} |")
            disagreements = sum(total.values()) - sum(agree.values())
        else:
            c = collections.Counter()
            for a in answers:
                if a["verdict"] == "unchecked":
                    c["unchecked"] += 1
                else:
                    c[(truth[(a["task_id"], a["model"])], a["verdict"] == "passed")] += 1
            tp, fp, fn = c[(True, True)], c[(False, True)], c[(True, False)]
            print(f"\nthe prompt's checks as a judge: precision {tp / max(tp + fp, 1):.1%}, "
                  f"recall {tp / max(tp + fn, 1):.1%}, unchecked {c['unchecked']} (a prompt without examples)")
    if disagreements:
        print(f"\n{disagreements} answers judged otherwise than HumanEval judges them", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
