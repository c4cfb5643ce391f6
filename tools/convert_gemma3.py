"""Gemma 3 vision checkpoints (Hugging Face `Gemma3ForConditionalGeneration`) -> a `gemma3` language-model GGUF
and an mmproj GGUF of projector type `gemma3`, laid out as llama.cpp's converter writes them (so the files
Glimpse tests with match the ones users download):

- mmproj: the SigLIP tower (`v.*`, no class token, a post-norm), `mm.soft_emb_norm.weight` with Gemma's
  RMSNorm offset folded in (w + 1), and `mm.input_projection.weight` as stored ([vision width, text width] in
  PyTorch order); F16 weights, F32 embeddings.
- language model: `gemma3` tensors with every norm's offset folded in (w + 1), the vocabulary copied from a
  Gemma 3 GGUF.

Usage: convert_gemma3.py CHECKPOINT_DIR VOCAB.gguf OUT_DIR NAME   (the folder of config.json and *.safetensors;
       VOCAB.gguf: any Gemma 3 GGUF, for its tokenizer; safetensors, and torch for BF16 weights)
"""
import sys

import numpy as np
import gguf

from gguf_vocab import copy_tokenizer
from mmproj import write_mmproj


def _strip(sd, prefixes):
    out = {}
    for k, v in sd.items():
        for p in prefixes:
            if k.startswith(p):
                out[k[len(p):]] = np.asarray(v, dtype=np.float32)
    return out


def convert_vision(sd, out_path, *, heads, tokens_per_image=256, eps=1e-6, name="gemma3"):
    v = _strip(sd, ["vision_tower.vision_model.", "model.vision_tower.vision_model."])
    mm = _strip(sd, ["multi_modal_projector.", "model.multi_modal_projector."])
    width = v["embeddings.patch_embedding.weight"].shape[0]
    patch = v["embeddings.patch_embedding.weight"].shape[2]
    side = int(round(v["embeddings.position_embedding.weight"].shape[0] ** 0.5))
    blocks = 1 + max(int(k.split(".")[2]) for k in v if k.startswith("encoder.layers."))
    t = {
        "v.patch_embd.weight": v["embeddings.patch_embedding.weight"],
        "v.patch_embd.bias": v["embeddings.patch_embedding.bias"],
        "v.position_embd.weight": v["embeddings.position_embedding.weight"],
        "v.post_ln.weight": v["post_layernorm.weight"],
        "v.post_ln.bias": v["post_layernorm.bias"],
        "mm.soft_emb_norm.weight": mm["mm_soft_emb_norm.weight"] + 1,
        "mm.input_projection.weight": mm["mm_input_projection_weight"],
    }
    for i in range(blocks):
        s, d = f"encoder.layers.{i}.", f"v.blk.{i}."
        for src, dst in [("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"), ("self_attn.v_proj", "attn_v"),
                         ("self_attn.out_proj", "attn_out"), ("layer_norm1", "ln1"), ("layer_norm2", "ln2"),
                         ("mlp.fc1", "ffn_up"), ("mlp.fc2", "ffn_down")]:
            t[d + dst + ".weight"] = v[s + src + ".weight"]
            t[d + dst + ".bias"] = v[s + src + ".bias"]
    scale = side // int(round(tokens_per_image ** 0.5))
    write_mmproj(out_path, t, projector="gemma3", image_size=side * patch, patch_size=patch, width=width,
                 ff=t["v.blk.0.ffn_up.weight"].shape[0], blocks=blocks, heads=heads, eps=eps,
                 projection_dim=t["mm.input_projection.weight"].shape[1], mean=[0.5] * 3, std=[0.5] * 3,
                 use_gelu=True, scale_factor=None if scale == 4 else scale, name=name)


def convert_llm(sd, vocab_path, out_path, *, heads, kv_heads, head_dim, context=8192, sliding_window=512,
                rope_base=1e6, eps=1e-6, name="gemma3"):
    m = _strip(sd, ["language_model.model.", "model.language_model.", "language_model."])
    d = m["embed_tokens.weight"].shape[1]
    layers = 1 + max(int(k.split(".")[1]) for k in m if k.startswith("layers."))
    ff = m["layers.0.mlp.gate_proj.weight"].shape[0]
    w = gguf.GGUFWriter(out_path, "gemma3")
    w.add_name(name)
    w.add_context_length(context)
    w.add_embedding_length(d)
    w.add_block_count(layers)
    w.add_feed_forward_length(ff)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    w.add_layer_norm_rms_eps(eps)
    w.add_rope_freq_base(rope_base)
    w.add_sliding_window(sliding_window)
    copy_tokenizer(w, vocab_path)

    def f16(a):
        return np.ascontiguousarray(a, dtype=np.float32).astype(np.float16)

    def norm(a):  # Gemma's RMSNorm multiplies by (1 + w); llama.cpp stores 1 + w
        return np.ascontiguousarray(a + 1, dtype=np.float32)

    w.add_tensor("token_embd.weight", f16(m["embed_tokens.weight"]))
    for i in range(layers):
        s, b = f"layers.{i}.", f"blk.{i}."
        for src, dst in [("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"), ("self_attn.v_proj", "attn_v"),
                         ("self_attn.o_proj", "attn_output"), ("mlp.gate_proj", "ffn_gate"), ("mlp.up_proj", "ffn_up"),
                         ("mlp.down_proj", "ffn_down")]:
            w.add_tensor(b + dst + ".weight", f16(m[s + src + ".weight"]))
        for src, dst in [("input_layernorm", "attn_norm"), ("post_attention_layernorm", "post_attention_norm"),
                         ("pre_feedforward_layernorm", "ffn_norm"), ("post_feedforward_layernorm", "post_ffw_norm"),
                         ("self_attn.q_norm", "attn_q_norm"), ("self_attn.k_norm", "attn_k_norm")]:
            w.add_tensor(b + dst + ".weight", norm(m[s + src + ".weight"]))
    w.add_tensor("output_norm.weight", norm(m["norm.weight"]))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    import glob
    import json
    import os
    folder, vocab, out_dir, name = sys.argv[1:5]
    sd = {}
    for shard in sorted(glob.glob(os.path.join(folder, "*.safetensors"))):
        # The released weights are BF16, which NumPy cannot hold: read through torch when it is there.
        try:
            from safetensors.torch import load_file
            sd.update({k: t.float().numpy() for k, t in load_file(shard).items()})
        except ImportError:
            from safetensors.numpy import load_file
            sd.update(load_file(shard))
    config = json.load(open(os.path.join(folder, "config.json")))
    text, vision = config["text_config"], config["vision_config"]
    convert_vision(sd, os.path.join(out_dir, f"{name}-mmproj.gguf"), heads=vision["num_attention_heads"],
                   tokens_per_image=config.get("mm_tokens_per_image", 256), eps=vision.get("layer_norm_eps", 1e-6),
                   name=name)
    convert_llm(sd, vocab, os.path.join(out_dir, f"{name}.gguf"), heads=text["num_attention_heads"],
                kv_heads=text["num_key_value_heads"], head_dim=text["head_dim"],
                context=text.get("max_position_embeddings", 8192), sliding_window=text.get("sliding_window", 512),
                rope_base=text.get("rope_theta", 1e6), eps=text.get("rms_norm_eps", 1e-6), name=name)


if __name__ == "__main__":
    main()
