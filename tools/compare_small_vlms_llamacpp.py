"""llama.cpp's mtmd on the small VLMs' test files, against the transformers references Glimpse's tests check
(Tests/Fixtures/{smolvlm,qwen2vl,qwen25vl,llava16}.json): image tokens, and for the rows whose embeddings the
fixture holds (LLaVA-1.6: the overview's only, its layouts differ), the largest difference from transformers. Glimpse's own differences are what its
tests print (4e-6 or less); this says how far llama.cpp is from the same reference, and so from Glimpse.

Usage: compare_small_vlms_llamacpp.py   (the interpreter with llama-cpp-python, e.g. .venv-ref/bin/python)
"""
import ctypes
import json
import os

import numpy as np

from bench_vision_vs_llamacpp import quiet_stderr

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODELS = os.environ.get("GLIMPSE_TEST_MODELS", os.path.expanduser("~/.cache/glimpse/test-models"))
IMAGES = os.path.join(ROOT, "Tests", "Fixtures", "images")


def image_chunks(mmproj, text_model, image):
    """Each image chunk's embeddings, in prompt order, as llama.cpp makes them."""
    import llama_cpp
    import llama_cpp.mtmd_cpp as m
    llama_cpp.llama_backend_init()
    model = llama_cpp.llama_model_load_from_file(text_model.encode(), llama_cpp.llama_model_default_params())
    params = m.mtmd_context_params_default()
    params.use_gpu, params.n_threads, params.print_timings, params.warmup = False, 2, False, False
    ctx = m.mtmd_init_from_file(mmproj.encode(), model, params)
    assert ctx, "llama.cpp could not load " + mmproj
    n_embd = llama_cpp.llama_model_n_embd(model)
    bitmap = m.mtmd_helper_bitmap_init_from_file(ctx, image.encode(), False)
    chunks = m.mtmd_input_chunks_init()
    text = m.mtmd_input_text()
    marker = m.mtmd_default_marker()
    text.text, text.text_len, text.add_special, text.parse_special = marker, len(marker), False, True
    assert m.mtmd_tokenize(ctx, chunks, ctypes.byref(text), (m.mtmd_bitmap_p_ctypes * 1)(bitmap), 1) == 0
    out = []
    for i in range(m.mtmd_input_chunks_size(chunks)):
        chunk = m.mtmd_input_chunks_get(chunks, i)
        if m.mtmd_input_chunk_get_type(chunk) != m.MTMD_INPUT_CHUNK_TYPE_IMAGE:
            continue
        n = m.mtmd_input_chunk_get_n_tokens(chunk)
        assert m.mtmd_encode_chunk(ctx, chunk) == 0
        e = m.mtmd_get_output_embd(ctx)
        out.append(np.ctypeslib.as_array(e, shape=(n * n_embd,)).reshape(n, n_embd).copy())
    return out


def fixture(name):
    return json.load(open(os.path.join(ROOT, "Tests", "Fixtures", f"{name}.json")))


def upright(image):
    """The image with its EXIF orientation applied, as a PNG: llama.cpp's loader ignores the tag (Glimpse and
    transformers' tests see orientation6.jpg as 23x37; llama.cpp would read 37x23 and tile it 2x3, not 3x2)."""
    from PIL import Image, ImageOps
    out = os.path.join(MODELS, "upright-" + os.path.splitext(image)[0] + ".png")
    ImageOps.exif_transpose(Image.open(os.path.join(IMAGES, image))).convert("RGB").save(out)
    return out


def compare(label, name, image, rows_of, mmproj=None, text_model=None):
    ref = fixture(name)
    saved = quiet_stderr()
    try:
        chunks = image_chunks(os.path.join(MODELS, mmproj or f"mmproj-test-{name}.gguf"),
                              os.path.join(MODELS, text_model or f"test-{name}.gguf"), upright(image))
    finally:
        os.dup2(saved, 2)
    e = ref["embeddings"]
    ours = np.concatenate(chunks)
    wanted, got = rows_of(ref, chunks)
    worst = float(np.abs(np.asarray(got) - np.asarray(wanted)).max())
    print(f"| {label} | {e['tokens']} | {ours.shape[0]} in {len(chunks)} chunk(s) | {worst:.3g} | {e['max'] - e['min']:.2f} |")


def smolvlm_rows(ref, chunks):
    # transformers' rows are tiles then the overview; llama.cpp's chunks are in prompt order too.
    flat = np.concatenate(chunks)
    rows = ref["embeddings"]["rows"]
    return ref["embeddings"]["values"], [flat[r] for r in rows]


def qwen_rows(ref, chunks):
    return ref["embeddings"]["values"], chunks[0]


def llava16_rows(ref, chunks):
    # Only the overview's rows are comparable: llama.cpp sends the tiles without unpadding or newlines.
    rows = [(r, v) for r, v in zip(ref["embeddings"]["rows"], ref["embeddings"]["values"]) if r < 576]
    return [v for _, v in rows], [chunks[0][r] for r, _ in rows]


def main():
    print("| model | transformers tokens | llama.cpp tokens | largest abs difference | value range |")
    print("| --- | ---: | ---: | ---: | ---: |")
    compare("SmolVLM (idefics3)", "smolvlm", "orientation6.jpg", smolvlm_rows)
    compare("Qwen2-VL", "qwen2vl", "resize-source.png", qwen_rows)
    compare("Qwen2.5-VL", "qwen25vl", "resize-source.png", qwen_rows)
    compare("LLaVA-1.6 (overview rows only)", "llava16", "orientation6.jpg", llava16_rows,
            mmproj="test-llava16-mmproj.gguf", text_model="test-minigptv2.gguf")


if __name__ == "__main__":
    main()
