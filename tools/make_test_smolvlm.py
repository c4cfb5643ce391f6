"""A random-weight SmolVLM in Hugging Face's layout (Idefics3ForConditionalGeneration, as SmolVLM-256M-Instruct
is published: SigLIP-B/16 at 512 px with width 768, 12 heads, FFN 3072; pixel shuffle by 4 into a 12288-wide
connector; SmolLM2-135M's decoder width 576, 9 heads of 64 with 3 KV heads, FFN 1536, vocabulary 49280), at reduced
depth (2 vision blocks, 2 decoder layers), converted by llama.cpp's own convert_hf_to_gguf.py into the two files
ggml-org publishes: test-smolvlm.gguf and mmproj-test-smolvlm.gguf.

The tokenizer is StarCoder's byte-level BPE (llama.cpp ships its vocabulary; SmolLM2's uses the same pre-tokenizer
rules and size, 49152) with SmolLM2's chat tokens and SmolVLM's image tokens added at SmolVLM's ids.

Usage: make_test_smolvlm.py MODELS_FOLDER [--keep-hf DIR | --bench]
       (an interpreter with torch, transformers and safetensors; MODELS_FOLDER/vocab and
       MODELS_FOLDER/llama.cpp-converter come from tools/fetch_vocabs.py)
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_tokenizer   # noqa: E402
from hf_checkpoints import make_mmproj, make_pair   # noqa: E402

VERSION = "1"   # bump when the checkpoint changes: the test files are remade
VISION = dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12, num_hidden_layers=2, image_size=512,
              patch_size=16, layer_norm_eps=1e-6, hidden_act="gelu_pytorch_tanh", num_channels=3)
TEXT = dict(hidden_size=576, intermediate_size=1536, num_attention_heads=9, num_key_value_heads=3, num_hidden_layers=2,
            vocab_size=49280, max_position_embeddings=8192, rope_theta=100000.0, rms_norm_eps=1e-5,
            tie_word_embeddings=True, hidden_act="silu", bos_token_id=1, eos_token_id=2, pad_token_id=2)
SCALE = 4
LONGEST_EDGE = 1536   # SmolVLM-256M reads 2048; 1536 keeps the test's tile count moderate (3 rows at most)

# SmolVLM's added tokens (ids 49152...49279).
IMAGE_TOKENS = ["<global-img>"] + [f"<row_{r}_col_{c}>" for r in range(1, 7) for c in range(1, 7)] \
    + ["<fake_token_around_image>", "<image>"]
END_OF_UTTERANCE = "<end_of_utterance>"

CHAT_TEMPLATE = ("<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}"
                 "{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}"
                 "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}"
                 "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n"
                 "{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}")


def f16(a):
    return a.astype(np.float16).astype(np.float32)


def state_dict():
    """Weights in Idefics3ForConditionalGeneration's names, rounded to f16 (as the GGUF stores them)."""
    r = np.random.default_rng(24)
    sd = {}
    d, ff, p = VISION["hidden_size"], VISION["intermediate_size"], VISION["patch_size"]
    v = "model.vision_model."
    sd[v + "embeddings.patch_embedding.weight"] = r.standard_normal((d, 3, p, p)) / np.sqrt(3 * p * p)
    sd[v + "embeddings.patch_embedding.bias"] = 0.02 * r.standard_normal(d)
    sd[v + "embeddings.position_embedding.weight"] = 0.3 * r.standard_normal(((VISION["image_size"] // p) ** 2, d))
    for i in range(VISION["num_hidden_layers"]):
        s = f"{v}encoder.layers.{i}."
        for name, shape in [("self_attn.q_proj", (d, d)), ("self_attn.k_proj", (d, d)), ("self_attn.v_proj", (d, d)),
                            ("self_attn.out_proj", (d, d)), ("mlp.fc1", (ff, d)), ("mlp.fc2", (d, ff))]:
            sd[s + name + ".weight"] = r.standard_normal(shape) / np.sqrt(shape[1])
            sd[s + name + ".bias"] = 0.02 * r.standard_normal(shape[0])
        for ln in ["layer_norm1", "layer_norm2"]:
            sd[s + ln + ".weight"] = 1 + 0.1 * r.standard_normal(d)
            sd[s + ln + ".bias"] = 0.05 * r.standard_normal(d)
    sd[v + "post_layernorm.weight"] = 1 + 0.1 * r.standard_normal(d)
    sd[v + "post_layernorm.bias"] = 0.05 * r.standard_normal(d)
    n = TEXT["hidden_size"]
    sd["model.connector.modality_projection.proj.weight"] = r.standard_normal((n, d * SCALE * SCALE)) / np.sqrt(d * SCALE * SCALE)
    t = "model.text_model."
    hd = n // TEXT["num_attention_heads"]
    kv = TEXT["num_key_value_heads"] * hd
    tf = TEXT["intermediate_size"]
    sd[t + "embed_tokens.weight"] = r.standard_normal((TEXT["vocab_size"], n))
    for i in range(TEXT["num_hidden_layers"]):
        s = f"{t}layers.{i}."
        for name, shape in [("self_attn.q_proj", (n, n)), ("self_attn.k_proj", (kv, n)), ("self_attn.v_proj", (kv, n)),
                            ("self_attn.o_proj", (n, n)), ("mlp.gate_proj", (tf, n)), ("mlp.up_proj", (tf, n)),
                            ("mlp.down_proj", (n, tf))]:
            sd[s + name + ".weight"] = r.standard_normal(shape) / np.sqrt(shape[1])
        sd[s + "input_layernorm.weight"] = 1 + 0.1 * r.standard_normal(n)
        sd[s + "post_attention_layernorm.weight"] = 1 + 0.1 * r.standard_normal(n)
    sd[t + "norm.weight"] = 1 + 0.1 * r.standard_normal(n)
    return {k: (f16(a) if a.ndim >= 2 else a.astype(np.float32)) for k, a in sd.items()}


def tokenizer_files(folder, vocab_gguf):
    """tokenizer.json and tokenizer_config.json: StarCoder's BPE with SmolLM2's chat and SmolVLM's image tokens."""
    tokens, merges = hf_tokenizer.read_vocab(vocab_gguf)
    tokens[1], tokens[2] = "<|im_start|>", "<|im_end|>"   # SmolLM2's ids 1 and 2 (StarCoder's FIM tokens there)
    specials = {i for i, t in enumerate(tokens) if t.startswith("<") and t.endswith(">") and i < 32}
    added_names = IMAGE_TOKENS + [f"<unused_{i}>" for i in range(TEXT["vocab_size"] - len(tokens) - len(IMAGE_TOKENS) - 1)] \
        + [END_OF_UTTERANCE]
    assert len(tokens) + len(added_names) == TEXT["vocab_size"]
    added = [hf_tokenizer.added_token(i, tokens[i]) for i in sorted(specials)]
    added += [hf_tokenizer.added_token(len(tokens) + j, name) for j, name in enumerate(added_names)]
    tok = hf_tokenizer.byte_level_bpe(tokens, merges, added, {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]})
    with open(os.path.join(folder, "tokenizer.json"), "w") as f:
        json.dump(tok, f, ensure_ascii=False)
    config = {"tokenizer_class": "GPT2Tokenizer", "bos_token": "<|im_start|>", "eos_token": END_OF_UTTERANCE,
              "pad_token": "<|im_end|>", "unk_token": "<|endoftext|>", "add_prefix_space": False,
              "model_max_length": 8192, "chat_template": CHAT_TEMPLATE,
              "additional_special_tokens": [END_OF_UTTERANCE, "<fake_token_around_image>", "<image>", "<global-img>"]}
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=1)
    with open(os.path.join(folder, "chat_template.json"), "w") as f:   # where the processor looks for it
        json.dump({"chat_template": CHAT_TEMPLATE}, f)
    with open(os.path.join(folder, "special_tokens_map.json"), "w") as f:
        json.dump({k: config[k] for k in ["bos_token", "eos_token", "pad_token", "unk_token"]}, f)
    return len(tokens) + IMAGE_TOKENS.index("<image>")


def write_checkpoint(folder, vocab_gguf):
    """The Hugging Face folder: config, weights, tokenizer, processor config."""
    import torch
    from safetensors.torch import save_file
    os.makedirs(folder, exist_ok=True)
    image_token_id = tokenizer_files(folder, vocab_gguf)
    config = {
        "architectures": ["Idefics3ForConditionalGeneration"], "model_type": "idefics3",
        "image_token_id": image_token_id, "scale_factor": SCALE, "tie_word_embeddings": True, "use_cache": True,
        "vision_config": dict(VISION, model_type="idefics3_vision"),
        "text_config": dict(TEXT, model_type="llama", architectures=["VLlama3ForCausalLM"]),
        "torch_dtype": "float32", "transformers_version": "4.49.0",
    }
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    with open(os.path.join(folder, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": 1, "eos_token_id": [2, TEXT["vocab_size"] - 1], "pad_token_id": 2}, f)
    pre = {"image_processor_type": "Idefics3ImageProcessor", "processor_class": "Idefics3Processor",
           "do_convert_rgb": True, "do_resize": True, "size": {"longest_edge": LONGEST_EDGE}, "resample": 1,
           "do_image_splitting": True, "max_image_size": {"longest_edge": VISION["image_size"]},
           "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
           "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "do_pad": True}
    with open(os.path.join(folder, "preprocessor_config.json"), "w") as f:
        json.dump(pre, f, indent=1)
    seq = (VISION["image_size"] // VISION["patch_size"]) ** 2 // SCALE ** 2
    with open(os.path.join(folder, "processor_config.json"), "w") as f:
        json.dump({"image_seq_len": seq, "processor_class": "Idefics3Processor"}, f)
    save_file({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state_dict().items()},
              os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})


def make_bench(models):
    """bench-smolvlm-siglip-512-mmproj.gguf for tools/bench_vision_vs_llamacpp.py: SmolVLM-256M's whole tower (12
    SigLIP blocks) and a preprocessing longest edge of 512, so that an image is one 512 px view."""
    global LONGEST_EDGE
    VISION["num_hidden_layers"], LONGEST_EDGE = 12, 512
    vocab = os.path.join(models, "vocab", "ggml-vocab-starcoder.gguf")
    make_mmproj(models, "bench-smolvlm-siglip-512-mmproj.gguf", lambda folder: write_checkpoint(folder, vocab))


def main():
    models = sys.argv[1]
    if "--bench" in sys.argv:
        return make_bench(models)
    keep = sys.argv[sys.argv.index("--keep-hf") + 1] if "--keep-hf" in sys.argv else None
    vocab = os.path.join(models, "vocab", "ggml-vocab-starcoder.gguf")
    make_pair(models, "smolvlm", VERSION, lambda folder: write_checkpoint(folder, vocab), "SmolVLM-test", keep)


if __name__ == "__main__":
    main()
