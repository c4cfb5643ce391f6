"""Mini-Gemini's image path at its real shapes, Glimpse against PyTorch fp32 on the same threads, in one run.

Random weights at MGM-2B's shapes: CLIP ViT-L/14-336 (24 blocks stored, 23 run: feature layer -2), ConvNeXt-L
(depths 3/3/27/3, widths 192/384/768/1536), the mining layers (1024 wide queries, 2880 wide HR features) and
mlp2x_gelu into Gemma-2B's 2048. Two cases: MGM-2B (HR 768 px, one 336 view, 576 tokens) and MGM-2B-HD (HR 1536
px, a global view and 2x2 tiles, 2880 tokens). The mmproj files are written by tools/convert_mgm.py (F16, as
converted checkpoints are); PyTorch computes in fp32 with tools/mgm_reference.py (transformers' CLIP and
CLIPImageProcessor, timm's ConvNeXt, MGM's unified_resampler). PyTorch's CLIP is built with the 23 blocks that
feature layer -2 reads (MGM's own CLIPVisionModel runs the 24th too, and drops it).

Per part: preprocessing (PyTorch: the CLIP processor at the HR size and the LR interpolation), CLIP, ConvNeXt (stem,
stages, fusion), mining, projector; Glimpse's parts are what `glimpse bench --mmproj FILE --image X --json` prints
(`*_ms` fields; `key=value` and `key: value` lines are read too).

Usage (an interpreter with torch, transformers, timm and gguf, e.g. .venv-ref-torch/bin/python; needs
.build/release/glimpse):
  python3 tools/bench_mgm_vs_torch.py [-t 2] [--runs 3] [--quick] [--no-hd] [--image examples/three-shapes.png]
The 768 px case is timed best of --runs (1 with --quick) after a warm-up; the 1536 px case once on each side
(Glimpse's bench still repeats it 3 times itself: minutes). It writes about 2 GB of mmproj files to a temporary
folder, removed afterwards, and holds up to ~14 GB of memory at its peak (the HD case's 2880x384x384 map).
"""
import argparse
import gc
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert_mgm  # noqa: E402
import make_test_mgm  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CLIP = dict(width=1024, heads=16, ff=4096, layers=24, patch=14, side=24)
CONVNEXT = dict(depths=(3, 3, 27, 3), widths=(192, 384, 768, 1536))
LLM_WIDTH = 2048  # MGM-2B (Gemma-2B)
CASES = {"MGM-2B": dict(image_size_aux=768, image_grid=1, image_global=False),
         "MGM-2B-HD": dict(image_size_aux=1536, image_grid=2, image_global=True)}


def normal(r, shape, scale):
    return r.standard_normal(shape, dtype=np.float32) * np.float32(scale)


def real_shape_weights(seed=0):
    """MGM's checkpoint names -> F16-valued float32 arrays, at the real shapes (no decoder)."""
    r = np.random.default_rng(seed)
    d, ff, p, side = CLIP["width"], CLIP["ff"], CLIP["patch"], CLIP["side"]
    pre = convert_mgm.CLIP_PREFIX + "vision_model."
    sd = {pre + "embeddings.class_embedding": normal(r, d, 0.5),
          pre + "embeddings.patch_embedding.weight": normal(r, (d, 3, p, p), 0.02),
          pre + "embeddings.position_embedding.weight": normal(r, (side * side + 1, d), 0.1),
          pre + "pre_layrnorm.weight": 1 + normal(r, d, 0.1), pre + "pre_layrnorm.bias": normal(r, d, 0.1)}
    for i in range(CLIP["layers"]):
        s = f"{pre}encoder.layers.{i}."
        for name, out, inp in [("self_attn.q_proj", d, d), ("self_attn.k_proj", d, d), ("self_attn.v_proj", d, d),
                               ("self_attn.out_proj", d, d), ("mlp.fc1", ff, d), ("mlp.fc2", d, ff)]:
            sd[s + name + ".weight"], sd[s + name + ".bias"] = normal(r, (out, inp), inp ** -0.5), normal(r, out, 0.02)
        for ln in ["layer_norm1", "layer_norm2"]:
            sd[s + ln + ".weight"], sd[s + ln + ".bias"] = 1 + normal(r, d, 0.1), normal(r, d, 0.1)
    sd = {k: make_test_mgm.f16(v) for k, v in sd.items()}
    trunk = make_test_mgm.convnext_trunk(depths=CONVNEXT["depths"], widths=CONVNEXT["widths"], seed=seed + 1)
    sd.update({convert_mgm.HR_PREFIX + "vision_" + k: v for k, v in trunk.items()})
    sd.update(make_test_mgm.mining_state_dict(llm_width=LLM_WIDTH, seed=seed + 2))
    return sd


class TorchSide:
    """mgm_reference's modules at the real shapes, timed part by part (encode_images' steps)."""

    def __init__(self, sd, threads):
        import torch
        import mgm_reference as ref
        torch.set_num_threads(threads)
        self.torch, self.ref = torch, ref
        clip_sd = {k: v for k, v in sd.items() if not k.startswith(f"{convert_mgm.CLIP_PREFIX}vision_model.encoder.layers.{CLIP['layers'] - 1}.")}
        self.model = ref.MGMReference.__new__(ref.MGMReference)
        self.model.clip = ref.build_clip(clip_sd)  # the 23 blocks feature layer -2 reads: its last hidden state
        self.model.convnext = ref.build_convnext(sd)
        self.model.mining = ref.Mining(sd)
        self.model.sd = None

    def once(self, picture, case):
        torch, ref, m = self.torch, self.ref, self.model
        m.image_size_aux, m.image_grid, m.image_global = case["image_size_aux"], case["image_grid"], case["image_global"]
        grid, glob = m.image_grid, m.image_global
        parts = {}
        F = torch.nn.functional
        with torch.no_grad():
            t = time.perf_counter()
            hr, _, views = ref.preprocess(picture, **case)
            parts["preprocess"] = time.perf_counter() - t
            t = time.perf_counter()
            feats = m.clip_features(views, select_layer=-1)
            parts["clip"] = time.perf_counter() - t
            t = time.perf_counter()
            aux = m.fuse(m.convnext_stages(hr))
            parts["convnext"] = time.perf_counter() - t
            t = time.perf_counter()
            if glob:
                feat_global, feats = feats[-1:], feats[:-1]
                aux_global = F.interpolate(aux, scale_factor=1 / grid, mode="bilinear", align_corners=False)
                _, mined_global = m.unified_resampler(feat_global, aux_global)
            if grid > 1:
                aux = aux.reshape(*aux.shape[:2], grid, aux.shape[-2] // grid, grid, aux.shape[-1] // grid)
                aux = aux.permute(0, 2, 4, 1, 3, 5).flatten(1, 2).flatten(0, 1).contiguous()
            _, mined = m.unified_resampler(feats, aux)
            x = (feats + mined).reshape(1, -1, feats.shape[-1])
            if glob:
                x = torch.cat([feat_global + mined_global, x], dim=1)
            del aux
            parts["mining"] = time.perf_counter() - t
            t = time.perf_counter()
            emb = m.mining.mm_projector(x)
            parts["projector"] = time.perf_counter() - t
        assert emb.shape[1] == 576 * (grid * grid + (1 if glob else 0)), emb.shape
        return parts

    def best(self, picture, case, runs, warm_up):
        if warm_up:
            self.once(picture, case)
        best = {}
        for _ in range(runs):
            for k, v in self.once(picture, case).items():
                best[k] = min(best.get(k, float("inf")), v)
            gc.collect()
        return best


def parse_glimpse(text):
    """The `*_ms` numbers of glimpse bench's output: its --json line, else `key=value` / `key: value` pairs."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return {k: float(v) for k, v in json.loads(line).items() if isinstance(v, (int, float))}
            except ValueError:
                pass
    found = {}
    for m in re.finditer(r"([A-Za-z_][\w-]*)\s*[=:]\s*([0-9]+(?:\.[0-9]+)?)", text):
        found[m.group(1)] = float(m.group(2))
    for m in re.finditer(r"([A-Za-z_][\w-]*) ([0-9]+(?:\.[0-9]+)?) ms", text):  # "mining 12.3 ms"
        found.setdefault(m.group(1) + "_ms", float(m.group(2)))
    return found


def run_glimpse(mmproj, image, threads, runs):
    binary = os.path.join(ROOT, ".build", "release", "glimpse")
    out = subprocess.run([binary, "bench", "--mmproj", mmproj, "--image", image, "--json", "-t", str(threads), "-r", str(runs)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return None, f"glimpse bench failed ({out.returncode}): {(out.stderr.strip() or out.stdout.strip())[-400:]}"
    return parse_glimpse(out.stdout + "\n" + out.stderr), out.stdout.strip()


# Glimpse's names for each part (the first found wins).
GLIMPSE_NAMES = {"preprocess": ["preprocess_ms", "preprocessing_ms"],
                 "clip": ["encoder_ms", "clip_ms", "lr_encoder_ms"],
                 "convnext": ["hr_encoder_ms", "convnext_ms", "hr_ms"],
                 "mining": ["mining_ms"], "projector": ["projector_ms"]}


def table(name, torch_parts, glimpse, threads, note):
    print(f"\n{name} ({note}), {threads} threads:")
    print("| part | PyTorch ms | Glimpse ms | Glimpse / PyTorch |")
    print("| --- | ---: | ---: | ---: |")
    used = set()
    for part, seconds in torch_parts.items():
        key = next((k for k in GLIMPSE_NAMES[part] if glimpse and k in glimpse), None)
        used.add(key)
        g = glimpse.get(key) if key else None
        print(f"| {part} | {seconds * 1000:.1f} | {'' if g is None else f'{g:.1f}'} | "
              f"{'' if g is None else f'{g / (seconds * 1000):.2f}x'} |")
    total = sum(torch_parts.values()) * 1000
    g_total = glimpse.get("image_encode_ms") if glimpse else None
    used.add("image_encode_ms")
    print(f"| **total** | {total:.1f} | {'' if g_total is None else f'{g_total:.1f}'} | "
          f"{'' if g_total is None else f'{g_total / total:.2f}x'} |")
    rest = {k: v for k, v in (glimpse or {}).items() if k not in used}
    if rest:
        print("Glimpse also reported: " + ", ".join(f"{k} {v:g}" for k, v in rest.items()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="one timed run of the 768 px case on each side")
    ap.add_argument("--no-hd", action="store_true", help="skip the 1536 px case")
    ap.add_argument("--no-glimpse", action="store_true", help="PyTorch only")
    ap.add_argument("--image", default=os.path.join(ROOT, "examples", "three-shapes.png"))
    a = ap.parse_args()
    runs = 1 if a.quick else a.runs
    from PIL import Image
    import torch
    picture = Image.open(a.image).convert("RGB")
    start = time.perf_counter()
    sd = real_shape_weights()
    print(f"random weights at the real shapes: {sum(v.size for v in sd.values()) / 1e6:.0f}M parameters "
          f"({time.perf_counter() - start:.0f} s)")
    cases = {k: v for k, v in CASES.items() if not (a.no_hd and v["image_grid"] > 1)}
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        if not a.no_glimpse:
            t = convert_mgm.Tensors(sd, what="bench weights")
            for name, case in cases.items():
                files[name] = os.path.join(tmp, f"bench-{name.lower()}-mmproj.gguf")
                convert_mgm.write_mgm_mmproj(t, files[name], name=f"bench-{name.lower()}", **case)
        side = TorchSide(sd, a.threads)
        del sd
        gc.collect()
        results = {}
        for name, case in cases.items():
            hd = case["image_grid"] > 1
            start = time.perf_counter()
            results[name] = side.best(picture, case, 1 if hd else runs, warm_up=not hd)
            print(f"PyTorch {name}: {time.perf_counter() - start:.0f} s")
        del side
        gc.collect()
        glimpse = {}
        for name, case in cases.items():
            if a.no_glimpse:
                glimpse[name] = (None, "not run")
                continue
            start = time.perf_counter()
            glimpse[name] = run_glimpse(files[name], a.image, a.threads, 1 if case["image_grid"] > 1 else runs)
            print(f"Glimpse {name}: {time.perf_counter() - start:.0f} s")
    for name, case in cases.items():
        parsed, raw = glimpse[name]
        hd = case["image_grid"] > 1
        note = (f"HR {case['image_size_aux']} px, {'global + 2x2 tiles, 2880' if hd else 'one view, 576'} tokens; "
                f"PyTorch {'one run' if hd else f'best of {runs}'}, fp32, torch {torch.__version__}; Glimpse F16 weights")
        table(name, results[name], parsed, a.threads, note)
        if parsed is None:
            print(raw)
        elif not any(k in parsed for names in GLIMPSE_NAMES.values() for k in names):
            print("Glimpse printed: " + raw[-400:])


if __name__ == "__main__":
    main()
