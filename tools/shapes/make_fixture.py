"""Reference logits of the shipped model in PyTorch, for Tests/EngineTests/ShapesModelTests.swift.

Runs the PyTorch model with the weights rounded to F16 exactly as exported, on the sample scenes in
examples/, preprocessed as Glimpse does (decoded, resized to the model's side with Pillow's bicubic), and
records the next-token logits after each prompt plus the greedy answer.

    python tools/shapes/make_fixture.py CHECKPOINT.pt Tests/Fixtures/shapes.json
"""
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export  # noqa: E402
from data import Conversations  # noqa: E402
from model import normalize  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
CASES = [
    ("examples/three-shapes.png", [("[grounding] describe this image in detail", None)]),
    ("examples/three-shapes.png", [("[vqa] how many objects are there?", "3"), ("[refer] the red circle", None)]),
    ("examples/four-shapes.jpg", [("[caption] briefly describe the image", None)]),
    ("examples/four-shapes.jpg", [("[identify] what is this {<10><10><40><40>}", None)]),
    ("examples/one-star.png", [("describe the image", None)]),
]


def rounded(model):
    """Weights as the GGUF stores them: matrices F16, vectors and position embeddings F32."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim >= 2 and "pos_embed" not in name and "cls_token" not in name:
                p.copy_(p.half().float())
    return model


def run(model, conv, pixels, ids):
    before = torch.tensor([conv.before])
    return model(pixels, before, torch.tensor([ids]))[0, -1]


def main():
    model = rounded(export.load(sys.argv[1]))
    conv = Conversations()
    size = model.config.image_size
    out = []
    for image, turns in CASES:
        im = Image.open(os.path.join(ROOT, image)).convert("RGB").resize((size, size), Image.BICUBIC)
        pixels = normalize(torch.from_numpy(np.asarray(im).copy())[None])
        history = [(u, a) for u, a in turns if a is not None]
        question = turns[-1][0]
        ids, _ = conv.encode(history)
        ids += conv.tok.encode(("</Img> " if not history else "<s>[INST] ") + question + " [/INST]")
        with torch.no_grad():
            logits = run(model, conv, pixels, ids)
            top = torch.topk(logits, 10)
            answer, margins = [], []
            seq = list(ids)
            for _ in range(64):
                step = run(model, conv, pixels, seq)
                two = torch.topk(step, 2).values
                margins.append(float(two[0] - two[1]))
                nxt = int(step.argmax())
                if nxt == conv.tok.eos:
                    break
                answer.append(nxt)
                seq.append(nxt)
        out.append({"image": image, "turns": [[u, a] for u, a in turns], "ids_before": conv.before,
                    "ids_after": ids, "top_ids": top.indices.tolist(),
                    "top_logits": [round(float(v), 5) for v in top.values],
                    "answer_ids": answer, "answer": conv.tok.decode(answer).strip(),
                    "smallest_margin": round(min(margins), 5)})
        print(image, question, "->", out[-1]["answer"])
    with open(sys.argv[2], "w") as f:
        json.dump({"tolerance_note": "see ShapesModelTests", "cases": out}, f, indent=1)


if __name__ == "__main__":
    main()
