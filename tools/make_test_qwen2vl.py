"""Random-weight Qwen2-VL and Qwen2.5-VL in Hugging Face's layout (Qwen2VLForConditionalGeneration,
Qwen2_5_VLForConditionalGeneration), converted by llama.cpp's own convert_hf_to_gguf.py into the two files
ggml-org publishes: test-qwen2vl.gguf (architecture `qwen2vl`) + mmproj-test-qwen2vl.gguf (projector
`qwen2vl_merger`), and test-qwen25vl.gguf + mmproj-test-qwen25vl.gguf (`qwen2.5vl_merger`).

Qwen2.5-VL's tower has Qwen2.5-VL-3B/7B's widths (1280, 16 heads, SwiGLU FFN 3420, RMSNorm, 112 px windows) at 3
blocks, the last with full attention (fullatt_block_indexes [2]); its decoder is the same small one.

The vision tower has Qwen2-VL-2B's per-layer widths (1280, 16 heads, FFN 5120, 14 px patches, the temporal pair of
patch kernels, 2x2 merger) at 3 blocks (the converter maps the merger's `mlp.2` by block index, so fewer fail). The decoder keeps Qwen2-VL's head size (128) and multimodal rope sections
(16, 24, 24) but is 256 wide (2 heads, 1 KV head, 2 layers): at the real 1536 its 151,936-token embedding table
alone would be 467 MB. The tokenizer is Qwen2's byte-level BPE (llama.cpp ships its vocabulary) with Qwen2-VL's
special tokens at their ids.

Usage: make_test_qwen2vl.py MODELS_FOLDER [--keep-hf DIR | --bench]   (.venv-convert/bin/python; see make_test_smolvlm.py)
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_tokenizer   # noqa: E402
from hf_checkpoints import make_mmproj, make_pair   # noqa: E402
from make_test_smolvlm import f16   # noqa: E402

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]   # OpenAI CLIP's, as Qwen2-VL's processor config has them
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

VERSION = "1"
VISION = dict(depth=3, embed_dim=1280, hidden_size=256, hidden_act="quick_gelu", mlp_ratio=4, num_heads=16,
              in_channels=3, patch_size=14, spatial_merge_size=2, temporal_patch_size=2)
TEXT = dict(hidden_size=256, intermediate_size=512, num_attention_heads=2, num_key_value_heads=1, num_hidden_layers=2,
            vocab_size=151936, max_position_embeddings=32768, rope_theta=1000000.0, rms_norm_eps=1e-6,
            tie_word_embeddings=True, hidden_act="silu")
VISION25 = dict(depth=3, hidden_size=1280, intermediate_size=3420, num_heads=16, in_chans=3, out_hidden_size=256,
                patch_size=14, spatial_merge_size=2, temporal_patch_size=2, window_size=112, fullatt_block_indexes=[2],
                hidden_act="silu", tokens_per_second=2)
MROPE = [16, 24, 24]
SPECIALS = {151643: "<|endoftext|>", 151644: "<|im_start|>", 151645: "<|im_end|>", 151646: "<|object_ref_start|>",
            151647: "<|object_ref_end|>", 151648: "<|box_start|>", 151649: "<|box_end|>", 151650: "<|quad_start|>",
            151651: "<|quad_end|>", 151652: "<|vision_start|>", 151653: "<|vision_end|>", 151654: "<|vision_pad|>",
            151655: "<|image_pad|>", 151656: "<|video_pad|>"}
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
               r"|\s+(?!\S)|\s+")
CHAT_TEMPLATE = ("{% set image_count = namespace(value=0) %}{% for message in messages %}"
                 "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant."
                 "<|im_end|>\n{% endif %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
                 "{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}"
                 "{% if content['type'] == 'image' %}{% set image_count.value = image_count.value + 1 %}"
                 "<|vision_start|><|image_pad|><|vision_end|>{% elif 'text' in content %}{{ content['text'] }}{% endif %}"
                 "{% endfor %}<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def state_dict(qwen25=False):
    """Weights in the model class's names, rounded to f16 (as the GGUF stores them)."""
    r = np.random.default_rng(25 if qwen25 else 2)
    v = VISION25 if qwen25 else VISION
    d, p, t = v.get("embed_dim", v["hidden_size"]), v["patch_size"], v["temporal_patch_size"]
    ff = v["intermediate_size"] if qwen25 else d * v["mlp_ratio"]
    sd = {"visual.patch_embed.proj.weight": r.standard_normal((d, 3, t, p, p)) / np.sqrt(3 * t * p * p)}
    mlp = [("mlp.gate_proj", (ff, d)), ("mlp.up_proj", (ff, d)), ("mlp.down_proj", (d, ff))] if qwen25 \
        else [("mlp.fc1", (ff, d)), ("mlp.fc2", (d, ff))]
    for i in range(v["depth"]):
        s = f"visual.blocks.{i}."
        for name, shape in [("attn.qkv", (3 * d, d)), ("attn.proj", (d, d))] + mlp:
            sd[s + name + ".weight"] = r.standard_normal(shape) / np.sqrt(shape[1])
            sd[s + name + ".bias"] = 0.02 * r.standard_normal(shape[0])
        for ln in ["norm1", "norm2"]:
            sd[s + ln + ".weight"] = 1 + 0.1 * r.standard_normal(d)
            if not qwen25:
                sd[s + ln + ".bias"] = 0.05 * r.standard_normal(d)
    m = 4 * d
    sd["visual.merger.ln_q.weight"] = 1 + 0.1 * r.standard_normal(d)
    if not qwen25:
        sd["visual.merger.ln_q.bias"] = 0.05 * r.standard_normal(d)
    sd["visual.merger.mlp.0.weight"] = r.standard_normal((m, m)) / np.sqrt(m)
    sd["visual.merger.mlp.0.bias"] = 0.02 * r.standard_normal(m)
    sd["visual.merger.mlp.2.weight"] = r.standard_normal((TEXT["hidden_size"], m)) / np.sqrt(m)
    sd["visual.merger.mlp.2.bias"] = 0.02 * r.standard_normal(TEXT["hidden_size"])
    n = TEXT["hidden_size"]
    hd = 128
    q, kv, tf = TEXT["num_attention_heads"] * hd, TEXT["num_key_value_heads"] * hd, TEXT["intermediate_size"]
    sd["model.embed_tokens.weight"] = r.standard_normal((TEXT["vocab_size"], n))
    for i in range(TEXT["num_hidden_layers"]):
        s = f"model.layers.{i}."
        for name, shape in [("self_attn.q_proj", (q, n)), ("self_attn.k_proj", (kv, n)), ("self_attn.v_proj", (kv, n))]:
            sd[s + name + ".weight"] = r.standard_normal(shape) / np.sqrt(shape[1])
            sd[s + name + ".bias"] = 0.1 * r.standard_normal(shape[0])
        for name, shape in [("self_attn.o_proj", (n, q)), ("mlp.gate_proj", (tf, n)), ("mlp.up_proj", (tf, n)),
                            ("mlp.down_proj", (n, tf))]:
            sd[s + name + ".weight"] = r.standard_normal(shape) / np.sqrt(shape[1])
        sd[s + "input_layernorm.weight"] = 1 + 0.1 * r.standard_normal(n)
        sd[s + "post_attention_layernorm.weight"] = 1 + 0.1 * r.standard_normal(n)
    sd["model.norm.weight"] = 1 + 0.1 * r.standard_normal(n)
    return {k: (f16(a) if a.ndim >= 2 else a.astype(np.float32)) for k, a in sd.items()}


def tokenizer_files(folder, vocab_gguf):
    tokens, merges = hf_tokenizer.read_vocab(vocab_gguf)
    for i, name in SPECIALS.items():
        tokens[i] = name
    added = [hf_tokenizer.added_token(i, name) for i, name in sorted(SPECIALS.items())]
    tok = hf_tokenizer.byte_level_bpe(
        tokens[:min(SPECIALS)], merges, added,
        {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_SPLIT}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
        normalizer={"type": "NFC"})
    with open(os.path.join(folder, "tokenizer.json"), "w") as f:
        json.dump(tok, f, ensure_ascii=False)
    config = {"tokenizer_class": "Qwen2Tokenizer", "bos_token": None, "eos_token": "<|im_end|>",
              "pad_token": "<|endoftext|>", "unk_token": None, "add_prefix_space": False, "model_max_length": 32768,
              "errors": "replace", "split_special_tokens": False, "chat_template": CHAT_TEMPLATE,
              "additional_special_tokens": [SPECIALS[i] for i in sorted(SPECIALS) if i > 151643]}
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=1)
    with open(os.path.join(folder, "chat_template.json"), "w") as f:
        json.dump({"chat_template": CHAT_TEMPLATE}, f)


def write_checkpoint(folder, vocab_gguf, qwen25=False):
    import torch
    from safetensors.torch import save_file
    os.makedirs(folder, exist_ok=True)
    tokenizer_files(folder, vocab_gguf)
    config = dict(TEXT, architectures=["Qwen2_5_VLForConditionalGeneration" if qwen25 else "Qwen2VLForConditionalGeneration"],
                  model_type="qwen2_5_vl" if qwen25 else "qwen2_vl", vision_config=VISION25 if qwen25 else VISION, rope_scaling={"type": "mrope", "mrope_section": MROPE},
                  vision_start_token_id=151652, vision_end_token_id=151653, vision_token_id=151654,
                  image_token_id=151655, video_token_id=151656, bos_token_id=151643, eos_token_id=151645,
                  torch_dtype="float32", transformers_version="4.49.0", use_cache=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    with open(os.path.join(folder, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": 151643, "eos_token_id": [151645, 151643], "pad_token_id": 151643}, f)
    pre = {"image_processor_type": "Qwen2VLImageProcessor", "processor_class": "Qwen2VLProcessor",
           "min_pixels": 3136, "max_pixels": 12845056, "patch_size": 14, "temporal_patch_size": 2, "merge_size": 2,
           "image_mean": CLIP_MEAN, "image_std": CLIP_STD, "do_convert_rgb": True, "do_normalize": True,
           "do_rescale": True, "do_resize": True, "resample": 3, "rescale_factor": 1 / 255}
    with open(os.path.join(folder, "preprocessor_config.json"), "w") as f:
        json.dump(pre, f, indent=1)
    save_file({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state_dict(qwen25).items()},
              os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})


def make_bench(models):
    """bench-qwen25vl-vit-mmproj.gguf for tools/bench_vision_vs_llamacpp.py: Qwen2.5-VL-3B/7B's whole tower (32
    blocks, full attention in blocks 7, 15, 23, 31) into the test decoder's width."""
    VISION25["depth"], VISION25["fullatt_block_indexes"] = 32, [7, 15, 23, 31]
    vocab = os.path.join(models, "vocab", "ggml-vocab-qwen2.gguf")
    make_mmproj(models, "bench-qwen25vl-vit-mmproj.gguf", lambda folder: write_checkpoint(folder, vocab, qwen25=True))


def main():
    models = sys.argv[1]
    if "--bench" in sys.argv:
        return make_bench(models)
    keep = sys.argv[sys.argv.index("--keep-hf") + 1] if "--keep-hf" in sys.argv else None
    vocab = os.path.join(models, "vocab", "ggml-vocab-qwen2.gguf")
    make_pair(models, "qwen2vl", VERSION, lambda folder: write_checkpoint(folder, vocab), "Qwen2-VL-test", keep)
    make_pair(models, "qwen25vl", VERSION, lambda folder: write_checkpoint(folder, vocab, qwen25=True),
              "Qwen2-VL-test", keep and keep + "-2.5")


if __name__ == "__main__":
    main()
