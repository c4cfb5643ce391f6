"""Glimpse vs llama.cpp (llama-cpp-python) on the same GGUF files and thread count, in one run.
Prints prompt processing (pp) and generation (tg) tokens per second and their ratio.

Usage: bench_vs_llamacpp.py [-t THREADS] [--no-extra-bufts] MODEL.gguf [MODEL.gguf ...]

--no-extra-bufts loads the files with llama.cpp's model parameter use_extra_bufts = False: on hosts with AMX, its
AMX buffers crashed on batches above one token (llama-cpp-python 0.3.36); it also turns off its CPU_REPACK
weights, so leave it off where llama.cpp runs (it is then measured on its fastest path, and the table says so).
"""
import argparse
import json
import os
import subprocess
import time

import numpy as np
from llama_cpp import Llama

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def without_extra_buffer_types():
    """Makes every model llama-cpp-python loads from now on use use_extra_bufts = False (Llama() has no argument)."""
    import llama_cpp.llama_cpp as api
    default = api.llama_model_default_params

    def params():
        p = default()
        p.use_extra_bufts = False
        return p
    api.llama_model_default_params = params


def llamacpp(path, threads, n_prompt=512, n_gen=128, reps=3):
    llm = Llama(model_path=path, n_ctx=n_prompt + n_gen + 8, n_batch=512, n_ubatch=512, n_threads=threads,
                n_threads_batch=threads, verbose=False)
    rng = np.random.default_rng(0)
    prompt = [int(t) for t in rng.integers(0, llm.n_vocab(), n_prompt)]
    llm.eval(prompt[:16])
    pp, tg = [], []
    for _ in range(reps):
        llm.reset()
        t = time.perf_counter(); llm.eval(prompt); pp.append(n_prompt / (time.perf_counter() - t))
        llm.reset()
        tok = llm.token_bos()
        t = time.perf_counter()
        for _ in range(n_gen):
            llm.eval([tok])
            tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        tg.append(n_gen / (time.perf_counter() - t))
    return float(np.mean(pp)), float(np.mean(tg))


def glimpse(path, threads):
    out = subprocess.run([os.path.join(ROOT, ".build/release/glimpse"), "bench", "--model", path, "-t", str(threads),
                          "--json"], check=True, capture_output=True, text=True).stdout
    r = json.loads(out)
    return r["pp_tokens_per_second"], r["tg_tokens_per_second"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("--no-extra-bufts", action="store_true")
    ap.add_argument("models", nargs="+")
    a = ap.parse_args()
    if a.no_extra_bufts:
        without_extra_buffer_types()
    level = subprocess.run([os.path.join(ROOT, ".build/release/glimpse"), "info", "--cpu"], check=True,
                           capture_output=True, text=True).stdout.splitlines()
    print("Glimpse " + next(l for l in level if l.startswith("kernel level")))
    print(f"llama.cpp: use_extra_bufts = {not a.no_extra_bufts}")
    print(f"| model | test | llama.cpp t/s | Glimpse t/s | ratio |  ({a.threads} threads)")
    print("| --- | --- | ---: | ---: | ---: |")
    for m in a.models:
        g_pp, g_tg = glimpse(m, a.threads)
        l_pp, l_tg = llamacpp(m, a.threads)
        name = os.path.basename(m)
        print(f"| {name} | pp512 | {l_pp:.1f} | {g_pp:.1f} | {g_pp / l_pp:.2f}x |")
        print(f"| {name} | tg128 | {l_tg:.1f} | {g_tg:.1f} | {g_tg / l_tg:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
