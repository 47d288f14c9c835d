"""The peer for the local-tier benchmark: llama-cpp-python (PyPI; it builds llama.cpp from source) on the same
GGUF file, chat message, thread count and greedy sampling (its chat completion applies the GGUF's template, or the
llama-2 [INST] format without one, as ComplexityNet does). Prints JSON: prompt-processing and generation tokens/s."""
import json
import sys
import time

from llama_cpp import Llama

path, threads, prompt, n_gen = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
llm = Llama(model_path=path, n_ctx=2048, n_batch=512, n_threads=threads, n_threads_batch=threads, verbose=False)
system = sys.argv[5]
messages = [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
best = None
for _ in range(3):
    # reset() drops the prompt cache, so every run processes its prompt from scratch, as ours does. One
    # streamed run: prompt processing until the first token, generation after it (a chunk per token).
    llm.reset()
    t0 = time.perf_counter()
    t1, n, prompt_tokens = None, 0, None
    for chunk in llm.create_chat_completion(messages=messages, max_tokens=n_gen, temperature=0.0, stream=True):
        if chunk["choices"][0]["delta"].get("content"):
            n += 1
            if t1 is None:
                t1 = time.perf_counter()
    t2 = time.perf_counter()
    prompt_tokens = llm.n_tokens - n  # tokens in the context after the run, less the generated ones
    if t1 is None or n < 2:
        continue
    r = {"pp_tps": prompt_tokens / (t1 - t0), "tg_tps": (n - 1) / (t2 - t1), "generated": n, "prompt_tokens": prompt_tokens}
    best = r if best is None or r["tg_tps"] > best["tg_tps"] else best
json.dump(best, sys.stdout)
