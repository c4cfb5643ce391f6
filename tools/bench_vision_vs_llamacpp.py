"""Image-encoder speed: Glimpse against llama.cpp's mtmd on the same mmproj file, image and thread count, in
one run. Makes full-depth random-weight files first (F16, real shapes):

- CLIP ViT-L/14-336 as LLaVA-1.5 stores it (23 blocks, 577 tokens) with LLaVA's MLP projector: both engines.
- EVA ViT-g at 448 px (39 blocks, 1025 tokens) with MiniGPT-v2's projector: Glimpse only (llama.cpp has no
  MiniGPT-v2 projector).
- Gemma 3's SigLIP-so400m at 896 px (27 blocks, 4096 patches) with its pooling projector into Gemma 3 270M's
  width (so that model serves as llama.cpp's text model): both engines.
- SmolVLM-256M's SigLIP-B/16 at one 512 px tile (12 blocks, 1024 patches) with its pixel-shuffle connector, and
  Qwen2.5-VL's ViT (32 blocks, windows of 112 px) at 448x448 and 1008x756: both engines, from files written by
  llama.cpp's convert_hf_to_gguf.py (tools/make_test_smolvlm.py and make_test_qwen2vl.py --bench, run with
  .venv-convert, which scripts/setup makes).

Glimpse's figure includes preprocessing; llama.cpp's (mtmd_encode_chunk) does not.
Note: llama.cpp's LLaVA graph runs one block fewer than the file stores (lcpp issue #25817), so it does
about 4% less work than Glimpse here.

Usage: bench_vision_vs_llamacpp.py [-t THREADS] [--image PATH]   (needs llama-cpp-python; run with the
interpreter that has it, with tools/ on the path and numpy + gguf available)
"""
import argparse
import ctypes
import json
import os
import subprocess
import time

import numpy as np

import convert_gemma3
import convert_llava_mmproj
import convert_minigpt
import make_test_vision as mtv

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODELS = os.environ.get("GLIMPSE_TEST_MODELS", os.path.expanduser("~/.cache/glimpse/test-models"))


def full_clip(path):
    if os.path.exists(path):
        return
    r = np.random.default_rng(1)
    d, ff, layers, side = 1024, 4096, 24, 24
    p = "vision_model."
    sd = {p + "embeddings.class_embedding": r.standard_normal(d) * 0.5,
          p + "embeddings.patch_embedding.weight": r.standard_normal((d, 3, 14, 14)) * 0.02,
          p + "embeddings.position_embedding.weight": r.standard_normal((side * side + 1, d)) * 0.1,
          p + "pre_layrnorm.weight": np.ones(d), p + "pre_layrnorm.bias": np.zeros(d)}
    for i in range(layers):
        s = f"{p}encoder.layers.{i}."
        for name, shape in [("self_attn.q_proj", (d, d)), ("self_attn.k_proj", (d, d)), ("self_attn.v_proj", (d, d)),
                            ("self_attn.out_proj", (d, d)), ("mlp.fc1", (ff, d)), ("mlp.fc2", (d, ff))]:
            sd[s + name + ".weight"] = (r.standard_normal(shape, dtype=np.float32) / np.sqrt(shape[1]))
            sd[s + name + ".bias"] = np.zeros(shape[0])
        for ln in ["layer_norm1", "layer_norm2"]:
            sd[s + ln + ".weight"], sd[s + ln + ".bias"] = np.ones(d), np.zeros(d)
    sd["multi_modal_projector.linear_1.weight"] = r.standard_normal((4096, d), dtype=np.float32) / 32
    sd["multi_modal_projector.linear_1.bias"] = np.zeros(4096)
    sd["multi_modal_projector.linear_2.weight"] = r.standard_normal((mtv.LLM_WIDTH, 4096), dtype=np.float32) / 64
    sd["multi_modal_projector.linear_2.bias"] = np.zeros(mtv.LLM_WIDTH)
    convert_llava_mmproj.convert(sd, path, name="bench-clip-vit-l-336")


def full_eva(path):
    if os.path.exists(path):
        return
    r = np.random.default_rng(2)
    d, ff = 1408, 6144
    eva = {"cls_token": r.standard_normal((1, 1, d)) * 0.5, "pos_embed": r.standard_normal((1, 257, d)) * 0.1,
           "patch_embed.proj.weight": r.standard_normal((d, 3, 14, 14)) * 0.02, "patch_embed.proj.bias": np.zeros(d)}
    for i in range(39):
        s = f"blocks.{i}."
        eva[s + "norm1.weight"], eva[s + "norm1.bias"] = np.ones(d), np.zeros(d)
        eva[s + "norm2.weight"], eva[s + "norm2.bias"] = np.ones(d), np.zeros(d)
        eva[s + "attn.qkv.weight"] = r.standard_normal((3 * d, d), dtype=np.float32) / np.sqrt(d)
        eva[s + "attn.q_bias"], eva[s + "attn.v_bias"] = np.zeros(d), np.zeros(d)
        eva[s + "attn.proj.weight"], eva[s + "attn.proj.bias"] = r.standard_normal((d, d), dtype=np.float32) / np.sqrt(d), np.zeros(d)
        eva[s + "mlp.fc1.weight"], eva[s + "mlp.fc1.bias"] = r.standard_normal((ff, d), dtype=np.float32) / np.sqrt(d), np.zeros(ff)
        eva[s + "mlp.fc2.weight"], eva[s + "mlp.fc2.bias"] = r.standard_normal((d, ff), dtype=np.float32) / np.sqrt(ff), np.zeros(d)
    ck = {"llama_proj.weight": r.standard_normal((mtv.LLM_WIDTH, 4 * d), dtype=np.float32) / 75,
          "llama_proj.bias": np.zeros(mtv.LLM_WIDTH)}
    convert_minigpt.convert_vision(eva, ck, path, 448, name="bench-eva-vit-g-448")


def full_siglip(path, text_width=640):
    if os.path.exists(path):
        return
    r = np.random.default_rng(3)
    d, ff, layers, patch, side = 1152, 4304, 27, 14, 64
    v = "vision_tower.vision_model."
    sd = {v + "embeddings.patch_embedding.weight": r.standard_normal((d, 3, patch, patch), np.float32) * 0.02,
          v + "embeddings.patch_embedding.bias": 0.02 * r.standard_normal(d, np.float32),
          v + "embeddings.position_embedding.weight": r.standard_normal((side * side, d), np.float32) * 0.1,
          v + "post_layernorm.weight": np.ones(d, np.float32), v + "post_layernorm.bias": np.zeros(d, np.float32),
          "multi_modal_projector.mm_soft_emb_norm.weight": np.zeros(d, np.float32),
          "multi_modal_projector.mm_input_projection_weight": r.standard_normal((d, text_width), np.float32) / np.sqrt(d)}
    for i in range(layers):
        s = f"{v}encoder.layers.{i}."
        for name, shape in [("self_attn.q_proj", (d, d)), ("self_attn.k_proj", (d, d)), ("self_attn.v_proj", (d, d)),
                            ("self_attn.out_proj", (d, d)), ("mlp.fc1", (ff, d)), ("mlp.fc2", (d, ff))]:
            sd[s + name + ".weight"] = r.standard_normal(shape, np.float32) / np.sqrt(shape[1])
            sd[s + name + ".bias"] = np.zeros(shape[0], np.float32)
        for ln in ["layer_norm1", "layer_norm2"]:
            sd[s + ln + ".weight"], sd[s + ln + ".bias"] = np.ones(d, np.float32), np.zeros(d, np.float32)
    convert_gemma3.convert_vision(sd, path, heads=16, name="bench-siglip-896")


def glimpse(mmproj, image, threads):
    out = subprocess.run([os.path.join(ROOT, ".build/release/glimpse"), "bench", "--mmproj", mmproj, "--image", image,
                          "-t", str(threads), "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["image_encode_ms"]


def quiet_stderr():
    """llama.cpp logs every tensor to stderr: send fd 2 to /dev/null while it runs."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    return saved


def llamacpp(mmproj, text_model, image, threads, reps=3):
    saved = quiet_stderr()
    try:
        return _llamacpp(mmproj, text_model, image, threads, reps)
    finally:
        os.dup2(saved, 2)


def _llamacpp(mmproj, text_model, image, threads, reps):
    import llama_cpp
    import llama_cpp.mtmd_cpp as m
    llama_cpp.llama_backend_init()
    mp = llama_cpp.llama_model_default_params()
    model = llama_cpp.llama_model_load_from_file(text_model.encode(), mp)
    params = m.mtmd_context_params_default()
    params.use_gpu = False
    params.n_threads = threads
    params.print_timings = False
    params.warmup = True
    ctx = m.mtmd_init_from_file(mmproj.encode(), model, params)
    assert ctx, "llama.cpp could not load " + mmproj
    bitmap = m.mtmd_helper_bitmap_init_from_file(ctx, image.encode(), False)
    chunks = m.mtmd_input_chunks_init()
    text = m.mtmd_input_text()
    marker = m.mtmd_default_marker()
    text.text, text.text_len, text.add_special, text.parse_special = marker, len(marker), False, True
    arr = (m.mtmd_bitmap_p_ctypes * 1)(bitmap)
    assert m.mtmd_tokenize(ctx, chunks, ctypes.byref(text), arr, 1) == 0
    chunk = next(m.mtmd_input_chunks_get(chunks, i) for i in range(m.mtmd_input_chunks_size(chunks))
                 if m.mtmd_input_chunk_get_type(m.mtmd_input_chunks_get(chunks, i)) == m.MTMD_INPUT_CHUNK_TYPE_IMAGE)
    tokens = m.mtmd_input_chunk_get_n_tokens(chunk)
    m.mtmd_encode_chunk(ctx, chunk)  # warm-up
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        assert m.mtmd_encode_chunk(ctx, chunk) == 0
        best = min(best, time.perf_counter() - t)
    return best * 1000, tokens


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("--image", default=os.path.join(ROOT, "Tests", "Fixtures", "images", "baseline.jpg"))
    ap.add_argument("--small-vlms", action="store_true", help="only the SmolVLM and Qwen2.5-VL rows")
    a = ap.parse_args()
    if a.small_vlms:
        print(f"| encoder | tokens | llama.cpp ms | Glimpse ms | Glimpse / llama.cpp |  ({a.threads} threads, best of 3)")
        print("| --- | ---: | ---: | ---: | ---: |")
        return small_vlms(a)
    clip = os.path.join(MODELS, "bench-clip-vit-l-336-mmproj.gguf")
    eva = os.path.join(MODELS, "bench-eva-vit-g-448-mmproj.gguf")
    full_clip(clip)
    full_eva(eva)
    text_model = os.path.join(MODELS, "test-minigptv2.gguf")
    g = glimpse(clip, a.image, a.threads)
    l, tokens = llamacpp(clip, text_model, a.image, a.threads)
    print(f"| encoder | tokens | llama.cpp ms | Glimpse ms | Glimpse / llama.cpp |  ({a.threads} threads, best of 3)")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(f"| CLIP ViT-L/14-336 + MLP (F16) | 577 -> {tokens} | {l:.0f} | {g:.0f} | {g / l:.2f}x |", flush=True)
    e = glimpse(eva, a.image, a.threads)
    print(f"| EVA ViT-g/14-448 + concat-4 (F16) | 1025 -> 256 | - | {e:.0f} | - |", flush=True)
    siglip = os.path.join(MODELS, "bench-siglip-896-mmproj.gguf")
    full_siglip(siglip)
    g = glimpse(siglip, a.image, a.threads)
    l, tokens = llamacpp(siglip, os.path.join(MODELS, "gemma-3-270m-f16.gguf"), a.image, a.threads)
    print(f"| SigLIP-so400m/14-896 + Gemma 3 pooling (F16) | 4096 -> {tokens} | {l:.0f} | {g:.0f} | {g / l:.2f}x |", flush=True)
    small_vlms(a)


def small_vlms(a):
    convert_python = os.path.join(ROOT, ".venv-convert", "bin", "python")
    for tool in ["make_test_smolvlm.py", "make_test_qwen2vl.py"]:
        subprocess.run([convert_python, os.path.join(ROOT, "tools", tool), MODELS, "--bench"], check=True)
    from PIL import Image
    rows = [("SmolVLM SigLIP-B/16-512 + pixel shuffle (F16)", "bench-smolvlm-siglip-512-mmproj.gguf", "test-smolvlm.gguf",
             (512, 512), "1024 -> "),
            ("Qwen2.5-VL ViT 448x448 + merger (F16)", "bench-qwen25vl-vit-mmproj.gguf", "test-qwen25vl.gguf", (448, 448), "1024 -> "),
            ("Qwen2.5-VL ViT 1008x756 + merger (F16)", "bench-qwen25vl-vit-mmproj.gguf", "test-qwen25vl.gguf", (1008, 756), "3888 -> ")]
    source = Image.open(a.image).convert("RGB")
    for label, mmproj, text, size, patches in rows:
        image = os.path.join(MODELS, f"bench-{size[0]}x{size[1]}.png")
        source.resize(size, Image.Resampling.BICUBIC).save(image)
        g = glimpse(os.path.join(MODELS, mmproj), image, a.threads)
        l, tokens = llamacpp(os.path.join(MODELS, mmproj), os.path.join(MODELS, text), image, a.threads)
        print(f"| {label} | {patches}{tokens} | {l:.0f} | {g:.0f} | {g / l:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
