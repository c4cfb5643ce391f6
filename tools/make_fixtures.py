"""Reference fixtures from llama.cpp (llama-cpp-python) for the Swift tests: token ids of hard strings,
top logits after prompts, and greedy continuations. Writes Tests/Fixtures/<model>.json.

Usage: make_fixtures.py MODEL.gguf [MODEL.gguf ...]   (needs tools/requirements-reference.txt)
"""
import json
import os
import sys

import numpy as np
from llama_cpp import Llama

import reference_forward

HARD_STRINGS = [
    "Hello world",
    " leading space and  double  spaces",
    "line one\nline two\n\n\nthree newlines",
    "\t tabs\tand\r\nCRLF",
    "naïve café, Ünïcödé — “quotes” … ellipsis",
    "日本語のテキストと中文文本",
    "emoji: 😀👍🏽 🇫🇷 👨‍👩‍👧",
    "digits 1234567890 3.14159 1,000,000",
    "code: def f(x):\n    return x**2  # square\n",
    "<start_of_turn>user\nhi<end_of_turn>",
    "special text <bos> and <eos> inside",
    "",
    "    ",
    "Ω≈ç√∫˜µ≤≥÷ åß∂ƒ©˙∆˚¬…æ",
]

PROMPTS = [
    "The capital of France is",
    "<start_of_turn>user\nWhat is the capital of France?<end_of_turn>\n<start_of_turn>model\n",
    "def fibonacci(n):\n",
    "Once upon a time, in a small village,",
]


def main() -> None:
    for path in sys.argv[1:]:
        llm = Llama(model_path=path, n_ctx=1024, n_threads=os.cpu_count(), n_batch=512, logits_all=True,
                    verbose=False)
        out = {"model": os.path.basename(path), "tokens": [], "logits": [], "greedy": []}
        meta, weights = reference_forward.load(path)
        for s in HARD_STRINGS:
            ids = llm.tokenize(s.encode(), add_bos=True, special=True)
            ids_plain = llm.tokenize(s.encode(), add_bos=False, special=False)
            out["tokens"].append({"text": s, "ids": ids, "ids_no_special": ids_plain})
        for p in PROMPTS:
            ids = llm.tokenize(p.encode(), add_bos=True, special=True)
            llm.reset()
            llm.eval(ids)
            logits = np.array(llm.scores[len(ids) - 1], dtype=np.float64)
            top = np.argsort(-logits)[:10]
            exact = reference_forward.forward(meta, weights, ids)
            out["logits"].append({"prompt": p, "ids": ids, "top_ids": [int(t) for t in top],
                                  "top_logits": [float(logits[t]) for t in top],
                                  "exact_logits": [float(exact[t]) for t in top]})
            # Greedy continuation, with the top-2 margin at each step so the test can see near-ties.
            llm.reset()
            llm.eval(ids)
            gen, margins = [], []
            for _ in range(32):
                lg = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float64)
                order = np.argsort(-lg)[:2]
                margins.append(float(lg[order[0]] - lg[order[1]]))
                tok = int(order[0])
                gen.append(tok)
                if tok == llm.token_eos():
                    break
                llm.eval([tok])
            out["greedy"].append({"prompt": p, "ids": gen, "margins": margins})
        name = os.path.basename(path).replace(".gguf", ".json")
        dst = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "llamacpp", name)
        with open(dst, "w") as f:
            json.dump(out, f, ensure_ascii=False, indent=1)
        print("wrote", dst)


if __name__ == "__main__":
    main()
