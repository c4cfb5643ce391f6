"""Writes small `llama`-architecture models with random weights and LLaMA-2's real SentencePiece vocabulary
(llama.cpp's ggml-vocab-llama-spm.gguf), one per tensor type Glimpse supports, into FOLDER, and two `qwen2` ones
(q/k/v biases, NEOX rope, output tied to the embeddings) with Qwen2's byte-pair vocabulary. The output is
deterministic; Tests/Fixtures/tiny-llama.sha256 records the files the committed fixtures were made from.

Usage: make_tiny_llamas.py FOLDER [--write-checksums]
       make_tiny_llamas.py FOLDER --bench   (bench-llama-{q4_k,q5_k,q5_0,q8_0}.gguf: TinyLlama-1.1B's width, four layers,
                                            for bench_vs_llamacpp.py; kernels behave differently at real widths)
       make_tiny_llamas.py FOLDER --bench-7b (bench-llama7b-2layers-q4_k.gguf: LLaMA-7B's / LLaVA-1.5-7B's width 4096,
                                            feed-forward 11008, two of its 32 layers, for the time-to-first-token bench)
"""
import hashlib
import os
import sys
from collections import namedtuple

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.quants import quantize

import kquants
from gguf_vocab import copy_tokenizer

TYPES = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"]
Shape = namedtuple("Shape", "embd layers heads kv ff ctx")
TINY = Shape(embd=256, layers=2, heads=4, kv=2, ff=512, ctx=512)
BENCH = Shape(embd=2048, layers=4, heads=16, kv=16, ff=5632, ctx=1024)
BENCH_TYPES = ["Q4_K", "Q5_K", "Q5_0", "Q8_0"]
BENCH_7B = Shape(embd=4096, layers=2, heads=32, kv=32, ff=11008, ctx=1024)
# Narrower than the llama ones: Qwen2's 151,936 tokens make the (tied) embedding most of the file.
TINY_QWEN2 = Shape(embd=128, layers=2, heads=4, kv=2, ff=256, ctx=512)
QWEN2_TYPES = ["F16", "Q8_0"]
CHECKSUMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "tiny-llama.sha256")


def weights(n_vocab, shape, arch="llama"):
    rng = np.random.default_rng(20261122)
    hd = shape.embd // shape.heads

    def lin(n_out, n_in):
        return (rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)).astype(np.float32)

    def norm(n):
        return (1 + 0.1 * rng.standard_normal(n)).astype(np.float32)

    w = {"token_embd.weight": rng.standard_normal((n_vocab, shape.embd)).astype(np.float32)}
    for il in range(shape.layers):
        p = f"blk.{il}."
        w[p + "attn_norm.weight"] = norm(shape.embd)
        w[p + "attn_q.weight"] = lin(shape.heads * hd, shape.embd)
        w[p + "attn_k.weight"] = lin(shape.kv * hd, shape.embd)
        w[p + "attn_v.weight"] = lin(shape.kv * hd, shape.embd)
        w[p + "attn_output.weight"] = lin(shape.embd, shape.heads * hd)
        if arch == "qwen2":
            for name, rows in (("attn_q", shape.heads * hd), ("attn_k", shape.kv * hd), ("attn_v", shape.kv * hd)):
                w[p + name + ".bias"] = (0.5 * rng.standard_normal(rows)).astype(np.float32)
        w[p + "ffn_norm.weight"] = norm(shape.embd)
        w[p + "ffn_gate.weight"] = lin(shape.ff, shape.embd)
        w[p + "ffn_up.weight"] = lin(shape.ff, shape.embd)
        w[p + "ffn_down.weight"] = lin(shape.embd, shape.ff)
    w["output_norm.weight"] = norm(shape.embd)
    if arch == "llama":
        # Scaled up so next-token distributions are peaked (few near-ties in greedy tests). Qwen2's is tied.
        w["output.weight"] = 4 * lin(n_vocab, shape.embd)
    return w


def encode(data, type_name):
    t = T[type_name]
    if type_name == "F32":
        return data, None
    if type_name == "F16":
        return data.astype(np.float16), None
    packer = {"Q4_K": kquants.quantize_q4_k, "Q5_K": kquants.quantize_q5_k, "Q6_K": kquants.quantize_q6_k}.get(type_name)
    raw = packer(data).reshape(data.shape[0], -1) if packer else quantize(data, t)
    return raw, t


def write(folder, vocab_path, type_name, shape=TINY, stem="tiny-llama", arch="llama"):
    path = os.path.join(folder, f"{stem}-{type_name.lower()}.gguf")
    w = gguf.GGUFWriter(path + ".tmp", arch)
    w.add_name(f"{stem.replace('-', ' ')} {type_name}")
    w.add_context_length(shape.ctx)
    w.add_embedding_length(shape.embd)
    w.add_block_count(shape.layers)
    w.add_feed_forward_length(shape.ff)
    w.add_head_count(shape.heads)
    w.add_head_count_kv(shape.kv)
    if arch == "qwen2":
        w.add_layer_norm_rms_eps(1e-6)
        w.add_rope_freq_base(1e6)
    else:
        w.add_layer_norm_rms_eps(1e-5)
        w.add_rope_dimension_count(shape.embd // shape.heads)
    n_vocab = copy_tokenizer(w, vocab_path)
    for name, data in weights(n_vocab, shape, arch).items():
        if data.ndim == 1:
            w.add_tensor(name, data)
        else:
            raw, t = encode(data, type_name)
            w.add_tensor(name, raw, raw_dtype=t) if t is not None else w.add_tensor(name, raw)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(path + ".tmp", path)
    return path


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main():
    folder = sys.argv[1]
    vocab = os.path.join(folder, "vocab", "ggml-vocab-llama-spm.gguf")
    if "--bench-7b" in sys.argv:
        print(write(folder, vocab, "Q4_K", BENCH_7B, "bench-llama7b-2layers"))
        return
    if "--bench" in sys.argv:
        for type_name in BENCH_TYPES:
            print(write(folder, vocab, type_name, BENCH, "bench-llama"))
        return
    expected = {}
    if os.path.exists(CHECKSUMS):
        for line in open(CHECKSUMS):
            digest, name = line.split()
            expected[name] = digest
    sums = []
    qwen2_vocab = os.path.join(folder, "vocab", "ggml-vocab-qwen2.gguf")
    models = [(t, "tiny-llama", "llama", TINY, vocab) for t in TYPES]
    models += [(t, "tiny-qwen2", "qwen2", TINY_QWEN2, qwen2_vocab) for t in QWEN2_TYPES]
    for type_name, stem, arch, shape, vocab_path in models:
        path = os.path.join(folder, f"{stem}-{type_name.lower()}.gguf")
        name = os.path.basename(path)
        if not os.path.exists(path) or (expected.get(name) and sha256(path) != expected[name]):
            path = write(folder, vocab_path, type_name, shape, stem, arch)
        digest = sha256(path)
        sums.append(f"{digest}  {name}\n")
        if "--write-checksums" not in sys.argv and expected.get(name) not in (None, digest):
            sys.exit(f"setup: {name} differs from the file the test fixtures were made from "
                     f"(gguf/numpy version?): regenerate with tools/make_fixtures.py")
    if "--write-checksums" in sys.argv:
        open(CHECKSUMS, "w").writelines(sums)


if __name__ == "__main__":
    main()
