"""MiniGPT-4's image path at its real shapes, Glimpse against PyTorch fp32 on the same threads, in one run.

Random weights at the published shapes: EVA ViT-g/14 at 224 px (the 39 blocks MiniGPT-4 builds: width 1408, 16
heads, FFN 6144), ln_vision over all 257 tokens, BLIP-2's Q-Former (12 layers, 768 wide, cross-attention every
second layer, 32 queries) and llama_proj into Vicuna-7B's 4096. The mmproj is written by tools/convert_minigpt.py
(F16, as converted checkpoints are); PyTorch computes in fp32 with the ports of tools/make_vision_fixtures.py
(MiniGPT-4's eva_vit.py, LAVIS's Qformer.py). Each side: a warm-up, then the best of --runs; Glimpse's time
includes preprocessing, PyTorch's includes PIL's resize and normalization.

Usage (an interpreter with torch, PIL and gguf, e.g. .venv-ref-torch/bin/python; needs .build/release/glimpse):
  python3 tools/bench_minigpt4_vs_torch.py [-t 2] [--runs 3] [--image examples/three-shapes.png]
It writes about 2.2 GB of weights to a temporary folder, removed afterwards; it holds about 9 GB of memory at its
peak and takes a few minutes on two cores (drawing the random weights alone takes about 25 s).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert_minigpt  # noqa: E402
import make_test_vision  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
EVA = dict(width=1408, heads=16, ff=6144, blocks=39, patch=14)
QFORMER = dict(width=768, heads=12, ff=3072, layers=12, queries=32, encoder_width=1408, cross_freq=2)
LLM_WIDTH = 4096


def normal(r, shape, scale):
    return (r.standard_normal(shape, dtype=np.float32) * np.float32(scale))


def real_shape_weights(seed=0):
    r = np.random.default_rng(seed)
    d, ff, p = EVA["width"], EVA["ff"], EVA["patch"]
    eva = {"cls_token": normal(r, (1, 1, d), 0.5), "pos_embed": normal(r, (1, 257, d), 0.1),
           "patch_embed.proj.weight": normal(r, (d, 3, p, p), 0.02), "patch_embed.proj.bias": normal(r, (d,), 0.02)}
    for i in range(EVA["blocks"]):
        s = f"blocks.{i}."
        for n in ["norm1", "norm2"]:
            eva[s + n + ".weight"], eva[s + n + ".bias"] = 1 + normal(r, (d,), 0.1), normal(r, (d,), 0.1)
        eva[s + "attn.qkv.weight"] = normal(r, (3 * d, d), d ** -0.5)
        eva[s + "attn.q_bias"], eva[s + "attn.v_bias"] = normal(r, (d,), 0.02), normal(r, (d,), 0.02)
        for n, out, inp in [("attn.proj", d, d), ("mlp.fc1", ff, d), ("mlp.fc2", d, ff)]:
            eva[s + n + ".weight"], eva[s + n + ".bias"] = normal(r, (out, inp), inp ** -0.5), normal(r, (out,), 0.02)
    blip2 = make_test_vision.blip2_state_dict(QFORMER, seed=seed)
    h = QFORMER["width"]
    ck = {"llama_proj.weight": normal(r, (LLM_WIDTH, h), h ** -0.5), "llama_proj.bias": normal(r, (LLM_WIDTH,), 0.02)}
    return eva, blip2, ck


def torch_seconds(eva, blip2, ck, image, threads, runs):
    import torch
    import torch.nn.functional as F
    from PIL import Image
    import make_vision_fixtures as ref
    torch.set_num_threads(threads)
    # The fp16-stored weights as PyTorch would hold them after loading the checkpoint in fp32.
    f16 = lambda d: {k: v.astype(np.float16).astype(np.float32) if v.ndim >= 2 else v for k, v in d.items()}
    eva, blip2, ck = f16(eva), f16(blip2), f16(ck)
    t = {k: torch.from_numpy(v) for k, v in {**blip2, **ck}.items()}
    picture = Image.open(image).convert("RGB")

    def once():
        with torch.no_grad():
            pixels = ref.normalize(picture.resize((224, 224), Image.Resampling.BICUBIC))
            x = ref.eva_vit(eva, pixels, 224)
            x = F.layer_norm(x, (1408,), t["ln_vision.weight"], t["ln_vision.bias"], eps=1e-5)
            queries = ref.qformer_lavis(blip2, x, QFORMER)
            return F.linear(queries, t["llama_proj.weight"], t["llama_proj.bias"])

    once()
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        once()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--image", default=os.path.join(ROOT, "examples", "three-shapes.png"))
    a = ap.parse_args()
    eva, blip2, ck = real_shape_weights()
    with tempfile.TemporaryDirectory() as tmp:
        mmproj = os.path.join(tmp, "bench-minigpt4-mmproj.gguf")
        convert_minigpt.convert_qformer_vision(eva, blip2, ck, mmproj, name="bench-minigpt4")
        out = subprocess.run([os.path.join(ROOT, ".build", "release", "glimpse"), "bench", "--mmproj", mmproj, "--image", a.image,
                              "--json", "-t", str(a.threads), "-r", str(a.runs)], capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"glimpse bench failed ({out.returncode}): {out.stderr.strip() or out.stdout.strip()}")
        glimpse = json.loads(out.stdout.strip().splitlines()[-1])
    torch_s = torch_seconds(eva, blip2, ck, a.image, a.threads, a.runs)
    g = glimpse["image_encode_ms"]
    print(f"MiniGPT-4 image path (EVA ViT-g/14 224 px, 39 blocks + Q-Former 12 layers + llama_proj 768->4096), "
          f"{a.threads} threads, best of {a.runs}:")
    print(f"  Glimpse  {g:8.1f} ms  (encoder {glimpse['encoder_ms']:.1f} ms, Q-Former + llama_proj {glimpse['projector_ms']:.1f} ms), F16 weights")
    print(f"  PyTorch  {torch_s * 1000:8.1f} ms  (fp32, torch {__import__('torch').__version__})")
    print(f"  ratio    {g / (torch_s * 1000):8.2f}x of PyTorch's time")


if __name__ == "__main__":
    main()
