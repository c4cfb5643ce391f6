"""How much arithmetic a training step of the built-in model costs, and how close this machine runs it to its own
matrix-multiply speed: the figures behind "can N cores train the shipped quality in M minutes?".

    .venv-train-pypi/bin/python tools/shapes/bench_step.py [--batch 16] [--steps 20] [--minutes 108]

Prints the floating-point operations of one step (counted by PyTorch's FlopCounterMode, so torch 2.1 or later),
the seconds a step takes, the rate that makes, the rate of a large and a model-shaped single-precision matrix
multiply on the same threads, and what the given minutes amount to against the shipped model's training run
(SHIPPED_CONVERSATIONS at the same cost per conversation).
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402
from data import Conversations, scene_pool  # noqa: E402
from model import SIZES, Config, ShapesVLM  # noqa: E402
from vocab import Tokenizer  # noqa: E402

SHIPPED_CONVERSATIONS = 17000 * 128   # the shipped GPU run (docs/shapes-training.md)


def matmul_rate(m, k, n, seconds=2.0):
    """GFLOP/s of [m, k] @ [k, n] in single precision on the current threads."""
    a, b = torch.randn(m, k), torch.randn(k, n)
    for _ in range(3):
        a @ b
    done, start = 0, time.time()
    while time.time() - start < seconds:
        a @ b
        done += 1
    return done * 2 * m * k * n / (time.time() - start) / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=train.RECIPES["cpu"]["batch"])
    ap.add_argument("--steps", type=int, default=20, help="timed steps, after 3 to warm up")
    ap.add_argument("--minutes", type=float, default=train.RECIPES["cpu"]["minutes"])
    ap.add_argument("--size", choices=sorted(SIZES), default="base")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/glimpse/shapes-data"))
    a = ap.parse_args()
    try:
        from torch.utils.flop_counter import FlopCounterMode
    except ImportError:
        sys.exit(f"bench_step.py counts operations with torch.utils.flop_counter (torch 2.1+); this is torch {torch.__version__}")
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    tok = Tokenizer()
    config = Config(vocab=len(tok.vocab), **SIZES[a.size])
    images, scenes = scene_pool(64, 1, config.image_size, a.cache, workers=1)
    pool = torch.from_numpy(images)
    model, head = ShapesVLM(config), train.PatchHead(config.vit_width)
    params = list(model.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.98), weight_decay=0.05)
    batches = train.Batches(scenes, Conversations(tok), config.grid, config.image_size, a.batch, 1, 0)
    prepared = [batches(s) for s in range(3 + 2 * a.steps)]   # written before timing: the step alone is measured

    def step(s):
        idx, flips, before, after, labels, dense = prepared[s]
        lm, aux = train.loss_of(model, head, train.batch_pixels(pool, idx, flips), before, after, labels, dense)
        opt.zero_grad(set_to_none=True)
        (lm + aux).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    for s in range(3):
        step(s)
    flops = 0
    for s in range(3, 3 + a.steps):
        with FlopCounterMode(display=False) as counter:
            step(s)
        flops += counter.get_total_flops()
    flops /= a.steps
    start = time.time()
    for s in range(3 + a.steps, 3 + 2 * a.steps):
        step(s)
    seconds = (time.time() - start) / a.steps
    rate = flops / seconds / 1e9
    square = matmul_rate(2048, 2048, 2048)
    shaped = matmul_rate(a.batch * config.grid ** 2, config.vit_width, 3 * config.vit_width)   # the ViT's qkv

    per_conversation = flops / a.batch
    conversations = a.minutes * 60 / seconds * a.batch
    print(f"{sum(p.numel() for p in params) / 1e6:.2f} M parameters (with the patch head); {a.threads} threads")
    print(f"step of {a.batch}: {flops / 1e9:.1f} GFLOP ({per_conversation / 1e9:.2f} a conversation), {seconds:.3f} s")
    print(f"training runs at {rate:.0f} GFLOP/s; matmul 2048^3 {square:.0f} GFLOP/s, "
          f"the ViT's qkv shape {shaped:.0f} GFLOP/s (training at {rate / square:.0%} / {rate / shaped:.0%} of them)")
    print(f"{a.minutes:g} minutes: {conversations:,.0f} conversations, {conversations * per_conversation / 1e15:.2f} PFLOP; "
          f"the shipped run: {SHIPPED_CONVERSATIONS:,} conversations, {SHIPPED_CONVERSATIONS * per_conversation / 1e15:.1f} PFLOP "
          f"({SHIPPED_CONVERSATIONS / conversations:.0f}x)")


if __name__ == "__main__":
    main()
