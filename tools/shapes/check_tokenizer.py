"""Checks vocab.Tokenizer against llama.cpp (llama-cpp-python, tools/requirements-reference.txt) on the
exported vocabulary: every kind of training text plus hostile strings. Run after an export:

    python tools/shapes/check_tokenizer.py models/shapes.gguf
"""
import os
import sys

import numpy as np
from llama_cpp import Llama

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import Conversations  # noqa: E402
from render import sample_scene  # noqa: E402
from vocab import Tokenizer  # noqa: E402


def main():
    llm = Llama(model_path=sys.argv[1], vocab_only=True, verbose=False)
    tok = Tokenizer()
    conv = Conversations(tok)
    rng = np.random.default_rng(7)
    texts = ["<s>[INST] <Img>", "  double  spaces ", "Héllo wörld 日本 🙂", "circles?circle", "<p>x</p>{<1><100>}",
             "what is this {<3><4><5><6>} ?", "[vqa]what", "a\nb\tc", "<0x41>", "", " ", "▁"]
    for _ in range(300):
        scene = sample_scene(rng, side=300)
        for o in scene.objects:
            o.x1, o.y1, o.x2, o.y2 = [int(v) for v in o.params["rect"]]
        ids, _ = conv.sample(scene, rng)
        texts.append(tok.decode(ids))
    bad = 0
    for t in texts:
        want = llm.tokenize(t.encode(), add_bos=False, special=True)
        got = tok.encode(t)
        if want != got:
            bad += 1
            print("differs:", repr(t), want[:20], got[:20])
    print(f"{len(texts) - bad}/{len(texts)} texts tokenize as llama.cpp does")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
