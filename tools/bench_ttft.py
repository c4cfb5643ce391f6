"""Time to the first token of a LLaVA-1.5-7B-shaped question: one 336 px image through CLIP ViT-L/14-336 + LLaVA's
MLP (F16, full depth, random weights), then 576 image tokens + 40 text tokens through a LLaMA-7B-width decoder
(4096, feed-forward 11008, Q4_K). The decoder file holds 2 of the 32 layers (random weights): its prompt time is
measured and scaled by 16, and the table says so. Glimpse against llama.cpp (llama-cpp-python) on the same files
and threads, in one run.

Usage: bench_ttft.py [-t THREADS] [--no-extra-bufts]   (the interpreter with llama-cpp-python, numpy and gguf;
tools/ on the path)
"""
import argparse
import json
import os
import subprocess
import sys

import bench_vision_vs_llamacpp as vision
import bench_vs_llamacpp as text

PROMPT = 576 + 40
LAYERS, MEASURED = 32, 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("--no-extra-bufts", action="store_true")
    ap.add_argument("--image", default=os.path.join(vision.ROOT, "Tests", "Fixtures", "images", "baseline.jpg"))
    a = ap.parse_args()
    if a.no_extra_bufts:
        text.without_extra_buffer_types()
    clip = os.path.join(vision.MODELS, "bench-clip-vit-l-336-mmproj.gguf")
    vision.full_clip(clip)
    decoder = os.path.join(vision.MODELS, "bench-llama7b-2layers-q4_k.gguf")
    if not os.path.exists(decoder):
        subprocess.run([sys.executable, os.path.join(vision.ROOT, "tools", "make_tiny_llamas.py"), vision.MODELS, "--bench-7b"],
                       check=True)
    glimpse = os.path.join(vision.ROOT, ".build/release/glimpse")
    level = next(l for l in subprocess.run([glimpse, "info", "--cpu"], capture_output=True, text=True).stdout.splitlines()
                 if l.startswith("kernel level"))
    g_image = vision.glimpse(clip, a.image, a.threads)
    out = subprocess.run([glimpse, "bench", "--model", decoder, "-t", str(a.threads), "-p", str(PROMPT), "-n", "0",
                          "-r", "2", "--json"], check=True, capture_output=True, text=True).stdout
    g_prompt = PROMPT / json.loads(out)["pp_tokens_per_second"] * 1000
    l_image, _ = vision.llamacpp(clip, os.path.join(vision.MODELS, "test-minigptv2.gguf"), a.image, a.threads)
    l_pp, _ = text.llamacpp(decoder, a.threads, n_prompt=PROMPT, n_gen=0, reps=2)
    l_prompt = PROMPT / l_pp * 1000
    scale = LAYERS / MEASURED
    print(f"Glimpse {level}; llama.cpp use_extra_bufts = {not a.no_extra_bufts}; {a.threads} threads")
    print(f"Decoder: {MEASURED} of {LAYERS} layers measured, prompt time scaled by {scale:.0f} (labelled 'scaled').")
    print("| part | llama.cpp ms | Glimpse ms | Glimpse / llama.cpp |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| image: CLIP ViT-L/14-336 + MLP, F16 | {l_image:.0f} | {g_image:.0f} | {g_image / l_image:.2f}x |")
    print(f"| prompt: {PROMPT} tokens, {MEASURED} layers, Q4_K | {l_prompt:.0f} | {g_prompt:.0f} | {g_prompt / l_prompt:.2f}x |")
    lt, gt = l_image + l_prompt * scale, g_image + g_prompt * scale
    print(f"| time to first token, 32 layers (scaled) | {lt:.0f} | {gt:.0f} | {gt / lt:.2f}x |")


if __name__ == "__main__":
    main()
