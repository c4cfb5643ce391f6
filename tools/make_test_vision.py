"""Random-weight checkpoints with the real key names and per-layer shapes, converted by our converters into
the test models of the vision path (deterministic; NumPy only, so the test setup needs no torch):

- test-llava-mmproj.gguf: CLIP ViT-L/14-336 blocks (width 1024, 16 heads, FFN 4096; 3 blocks, the last
  dropped as LLaVA's feature layer -2 does) with LLaVA's MLP projector into a 256-wide LLM.
- test-minigptv2-mmproj.gguf + test-minigptv2.gguf: EVA ViT-g blocks (width 1408, 16 heads of 88, FFN 6144;
  2 blocks) at 448 px (position embeddings interpolated from the 224 grid), ln_vision, the concat-4
  projector, and a 2-layer LLaMA-2-style decoder (width 256, LLaMA-2's vocabulary) with LoRA merged.
- test-minigpt4-mmproj.gguf + test-minigpt4.gguf: MiniGPT-4 as published: the same EVA blocks at 224 px, BLIP-2's
  ln_vision and Q-Former at its real widths (768, 12 heads, FFN 3072, cross-attention from 1408-wide tokens; 4
  layers, cross-attending in 0 and 2) with 32 queries, llama_proj, and a 2-layer LLaMA-1-style Vicuna v0 decoder;
  test-minigpt4-hf-mmproj.gguf is the same weights converted from Hugging Face's blip2 key names.
- bad-qformer-freq-mmproj.gguf / bad-qformer-missing-mmproj.gguf: tiny `qformer` files that must be refused (a
  cross_attention_freq the tensors contradict; a layer's query projection left out).
- test-gemma3-mmproj.gguf + test-gemma3.gguf: Gemma 3's SigLIP tower (2 blocks of width 64 at 64 px, 8 px
  patches), its pooling projector (8x8 patches -> 4x4 = 16 image tokens) and a 2-layer `gemma3` decoder (width
  64, Gemma 3's vocabulary), in Hugging Face's key names and norm convention (gemma3_state_dict).

Usage: make_test_vision.py FOLDER
"""
import os
import sys

import numpy as np

import convert_gemma3
import convert_llava_mmproj
import convert_minigpt

LLM_WIDTH = 256


def _rng(seed):
    return np.random.default_rng(seed)


def f16(a):
    """Weights as they will be stored (the references compute with exactly these values)."""
    return a.astype(np.float16).astype(np.float32) if a.ndim >= 2 else a.astype(np.float32)


def encoder_layers(sd, prefix, r, d, ff, layers):
    """CLIP's and SigLIP's encoder blocks in Hugging Face's names (both store them alike), drawn from `r`."""
    for i in range(layers):
        s = f"{prefix}encoder.layers.{i}."
        for name, shape in [("self_attn.q_proj", (d, d)), ("self_attn.k_proj", (d, d)), ("self_attn.v_proj", (d, d)),
                            ("self_attn.out_proj", (d, d)), ("mlp.fc1", (ff, d)), ("mlp.fc2", (d, ff))]:
            sd[s + name + ".weight"] = r.standard_normal(shape) / np.sqrt(shape[1])
            sd[s + name + ".bias"] = 0.02 * r.standard_normal(shape[0])
        for ln in ["layer_norm1", "layer_norm2"]:
            sd[s + ln + ".weight"] = 1 + 0.1 * r.standard_normal(d)
            sd[s + ln + ".bias"] = 0.1 * r.standard_normal(d)


def llava_state_dict():
    r = _rng(336)
    d, ff, layers, patch, side = 1024, 4096, 3, 14, 24
    sd = {}
    p = "vision_model."
    sd[p + "embeddings.class_embedding"] = r.standard_normal(d) * 0.5
    sd[p + "embeddings.patch_embedding.weight"] = r.standard_normal((d, 3, patch, patch)) * 0.02
    sd[p + "embeddings.position_embedding.weight"] = r.standard_normal((side * side + 1, d)) * 0.1
    sd[p + "pre_layrnorm.weight"] = 1 + 0.1 * r.standard_normal(d)
    sd[p + "pre_layrnorm.bias"] = 0.1 * r.standard_normal(d)
    encoder_layers(sd, p, r, d, ff, layers)
    sd[p + "post_layernorm.weight"] = np.ones(d)
    sd[p + "post_layernorm.bias"] = np.zeros(d)
    sd["multi_modal_projector.linear_1.weight"] = r.standard_normal((LLM_WIDTH, d)) / np.sqrt(d)
    sd["multi_modal_projector.linear_1.bias"] = 0.02 * r.standard_normal(LLM_WIDTH)
    sd["multi_modal_projector.linear_2.weight"] = r.standard_normal((LLM_WIDTH, LLM_WIDTH)) / np.sqrt(LLM_WIDTH)
    sd["multi_modal_projector.linear_2.bias"] = 0.02 * r.standard_normal(LLM_WIDTH)
    return {k: f16(np.asarray(v, np.float32)) for k, v in sd.items()}


def eva_state_dict():
    r = _rng(448)
    d, ff, blocks, patch = 1408, 6144, 2, 14
    sd = {"cls_token": r.standard_normal((1, 1, d)) * 0.5,
          "pos_embed": r.standard_normal((1, 257, d)) * 0.1,  # the 224 grid, as eva_vit_g.pth ships
          "patch_embed.proj.weight": r.standard_normal((d, 3, patch, patch)) * 0.02,
          "patch_embed.proj.bias": 0.02 * r.standard_normal(d)}
    for i in range(blocks):
        s = f"blocks.{i}."
        sd[s + "norm1.weight"], sd[s + "norm1.bias"] = 1 + 0.1 * r.standard_normal(d), 0.1 * r.standard_normal(d)
        sd[s + "norm2.weight"], sd[s + "norm2.bias"] = 1 + 0.1 * r.standard_normal(d), 0.1 * r.standard_normal(d)
        sd[s + "attn.qkv.weight"] = r.standard_normal((3 * d, d)) / np.sqrt(d)
        sd[s + "attn.q_bias"], sd[s + "attn.v_bias"] = 0.02 * r.standard_normal(d), 0.02 * r.standard_normal(d)
        sd[s + "attn.proj.weight"], sd[s + "attn.proj.bias"] = r.standard_normal((d, d)) / np.sqrt(d), 0.02 * r.standard_normal(d)
        sd[s + "mlp.fc1.weight"], sd[s + "mlp.fc1.bias"] = r.standard_normal((ff, d)) / np.sqrt(d), 0.02 * r.standard_normal(ff)
        sd[s + "mlp.fc2.weight"], sd[s + "mlp.fc2.bias"] = r.standard_normal((d, ff)) / np.sqrt(ff), 0.02 * r.standard_normal(d)
    return {k: f16(np.asarray(v, np.float32)) for k, v in sd.items()}


def minigpt_checkpoint(layers=2):
    r = _rng(2)
    d = 1408
    ck = {"ln_vision.weight": 1 + 0.1 * r.standard_normal(d), "ln_vision.bias": 0.1 * r.standard_normal(d),
          "llama_proj.weight": r.standard_normal((LLM_WIDTH, 4 * d)) / np.sqrt(4 * d),
          "llama_proj.bias": 0.02 * r.standard_normal(LLM_WIDTH)}
    for i in range(layers):
        for proj in ["q_proj", "v_proj"]:
            base = f"llama_model.base_model.model.model.layers.{i}.self_attn.{proj}"
            ck[base + ".lora_A.weight"] = r.standard_normal((64, LLM_WIDTH)) * 0.05
            ck[base + ".lora_B.weight"] = r.standard_normal((LLM_WIDTH, 64)) * 0.05
    return {k: f16(np.asarray(v, np.float32)) for k, v in ck.items()}


def llama_state_dict(vocab=32000, layers=2, ff=512):
    r = _rng(7)
    d = LLM_WIDTH
    sd = {"model.embed_tokens.weight": r.standard_normal((vocab, d)),
          "model.norm.weight": 1 + 0.1 * r.standard_normal(d),
          "lm_head.weight": 4 * r.standard_normal((vocab, d)) / np.sqrt(d)}
    for i in range(layers):
        s = f"model.layers.{i}."
        for name, shape in [("self_attn.q_proj", (d, d)), ("self_attn.k_proj", (d, d)), ("self_attn.v_proj", (d, d)),
                            ("self_attn.o_proj", (d, d)), ("mlp.gate_proj", (ff, d)), ("mlp.up_proj", (ff, d)),
                            ("mlp.down_proj", (d, ff))]:
            sd[s + name + ".weight"] = r.standard_normal(shape) / np.sqrt(shape[1])
        sd[s + "input_layernorm.weight"] = 1 + 0.1 * r.standard_normal(d)
        sd[s + "post_attention_layernorm.weight"] = 1 + 0.1 * r.standard_normal(d)
    return {k: f16(np.asarray(v, np.float32)) for k, v in sd.items()}


QFORMER = dict(width=768, heads=12, ff=3072, layers=4, queries=32, encoder_width=1408, cross_freq=2)


def blip2_state_dict(q=QFORMER, seed=2023):
    """BLIP-2's checkpoint as LAVIS saves it (blip2_pretrained_flant5xxl.pth): query tokens, ln_vision and the
    Q-Former's query path under Qformer.bert.*, of the shape `q` gives."""
    r = _rng(seed)
    h, ff, c = q["width"], q["ff"], q["encoder_width"]
    ln = lambda n: (1 + 0.1 * r.standard_normal(n), 0.1 * r.standard_normal(n))
    sd = {"query_tokens": r.standard_normal((1, q["queries"], h)) * 0.5}
    sd["ln_vision.weight"], sd["ln_vision.bias"] = ln(c)
    p = "Qformer.bert."
    sd[p + "embeddings.LayerNorm.weight"], sd[p + "embeddings.LayerNorm.bias"] = ln(h)
    for i in range(q["layers"]):
        s = f"{p}encoder.layer.{i}."
        linears = [("attention.self.query", h, h), ("attention.self.key", h, h), ("attention.self.value", h, h),
                   ("attention.output.dense", h, h), ("intermediate_query.dense", ff, h), ("output_query.dense", h, ff)]
        norms = ["attention.output.LayerNorm", "output_query.LayerNorm"]
        if i % q["cross_freq"] == 0:
            linears += [("crossattention.self.query", h, h), ("crossattention.self.key", h, c),
                        ("crossattention.self.value", h, c), ("crossattention.output.dense", h, h)]
            norms.append("crossattention.output.LayerNorm")
        for name, out, inp in linears:
            sd[s + name + ".weight"] = r.standard_normal((out, inp)) / np.sqrt(inp)
            sd[s + name + ".bias"] = 0.02 * r.standard_normal(out)
        for name in norms:
            sd[s + name + ".weight"], sd[s + name + ".bias"] = ln(h)
    return {k: f16(np.asarray(v, np.float32)) for k, v in sd.items()}


def minigpt4_checkpoint():
    r = _rng(4)
    h = QFORMER["width"]
    ck = {"llama_proj.weight": r.standard_normal((LLM_WIDTH, h)) / np.sqrt(h), "llama_proj.bias": 0.02 * r.standard_normal(LLM_WIDTH)}
    return {k: f16(np.asarray(v, np.float32)) for k, v in ck.items()}


def hf_blip2_layout(blip2, eva):
    """The same weights under Hugging Face's Blip2ForConditionalGeneration names, as transformers'
    convert_blip_2_original_to_pytorch.py renames LAVIS's (written in that direction, apart from the converter's
    reading, so that the test of the two layouts means something)."""
    out = {"query_tokens": blip2["query_tokens"],
           "vision_model.post_layernorm.weight": blip2["ln_vision.weight"],
           "vision_model.post_layernorm.bias": blip2["ln_vision.bias"]}
    for k, v in blip2.items():
        if k.startswith("Qformer.bert.embeddings.LayerNorm."):
            out["qformer.layernorm." + k.rsplit(".", 1)[1]] = v
        elif k.startswith("Qformer.bert.encoder."):
            out["qformer." + k[len("Qformer.bert."):].replace("attention.self.", "attention.attention.")] = v
    out["vision_model.embeddings.class_embedding"] = eva["cls_token"]
    out["vision_model.embeddings.position_embedding"] = eva["pos_embed"]
    out["vision_model.embeddings.patch_embedding.weight"] = eva["patch_embed.proj.weight"]
    out["vision_model.embeddings.patch_embedding.bias"] = eva["patch_embed.proj.bias"]
    names = {"norm1": "layer_norm1", "norm2": "layer_norm2", "attn.qkv": "self_attn.qkv", "attn.proj": "self_attn.projection",
             "mlp.fc1": "mlp.fc1", "mlp.fc2": "mlp.fc2"}
    for k, v in eva.items():
        if not k.startswith("blocks."):
            continue
        _, i, rest = k.split(".", 2)
        if rest == "attn.v_bias":
            continue
        if rest == "attn.q_bias":  # read_in_q_v_bias: one fused bias, the keys' part zero
            hf = "self_attn.qkv.bias"
            v = np.concatenate([v, np.zeros_like(v), eva[f"blocks.{i}.attn.v_bias"]])
        else:
            module, kind = rest.rsplit(".", 1)
            hf = names[module] + "." + kind
        out[f"vision_model.encoder.layers.{i}.{hf}"] = v
    return out


def bad_qformer_files(folder):
    """Two small mmproj files a user might meet from a broken converter, each to be refused in one line."""
    import mmproj
    r = _rng(5)
    d, h = 64, 64
    eva = {"cls_token": r.standard_normal((1, 1, d)), "pos_embed": r.standard_normal((1, 5, d)) * 0.1,
           "patch_embed.proj.weight": r.standard_normal((d, 3, 14, 14)) * 0.02, "patch_embed.proj.bias": np.zeros(d)}
    for n, shape in [("norm1.weight", (d,)), ("norm1.bias", (d,)), ("norm2.weight", (d,)), ("norm2.bias", (d,)),
                     ("attn.qkv.weight", (3 * d, d)), ("attn.q_bias", (d,)), ("attn.v_bias", (d,)), ("attn.proj.weight", (d, d)),
                     ("attn.proj.bias", (d,)), ("mlp.fc1.weight", (4 * d, d)), ("mlp.fc1.bias", (4 * d,)),
                     ("mlp.fc2.weight", (d, 4 * d)), ("mlp.fc2.bias", (d,))]:
        eva["blocks.0." + n] = r.standard_normal(shape) * 0.1
    t, width, patch, depth = convert_minigpt.eva_tensors(eva, 28)
    blip2 = {"query_tokens": r.standard_normal((1, 4, h)), "Qformer.bert.embeddings.LayerNorm.weight": np.ones(h),
             "Qformer.bert.embeddings.LayerNorm.bias": np.zeros(h)}
    for i in range(3):
        s = f"Qformer.bert.encoder.layer.{i}."
        parts = [("attention.self.query", h), ("attention.self.key", h), ("attention.self.value", h), ("attention.output.dense", h),
                 ("intermediate_query.dense", h), ("output_query.dense", 2 * h)]
        if i % 2 == 0:
            parts += [("crossattention.self.query", h), ("crossattention.self.key", d), ("crossattention.self.value", d),
                      ("crossattention.output.dense", h)]
        for name, inp in parts:
            out = 2 * h if name == "intermediate_query.dense" else h
            blip2[s + name + ".weight"], blip2[s + name + ".bias"] = r.standard_normal((out, inp)) * 0.1, np.zeros(out)
        for name in ["attention.output.LayerNorm", "output_query.LayerNorm"] + (["crossattention.output.LayerNorm"] if i % 2 == 0 else []):
            blip2[s + name + ".weight"], blip2[s + name + ".bias"] = np.ones(h), np.zeros(h)
    q, keys = convert_minigpt.qformer_tensors(blip2, h, "bad")
    t.update(q)
    t["v.post_ln.weight"], t["v.post_ln.bias"] = np.ones(d), np.zeros(d)
    t["mm.0.weight"], t["mm.0.bias"] = r.standard_normal((LLM_WIDTH, h)) * 0.1, np.zeros(LLM_WIDTH)
    for name, tensors, extra in [("bad-qformer-freq-mmproj.gguf", t, {**keys, "clip.vision.qformer.cross_attention_freq": 3}),
                                 ("bad-qformer-missing-mmproj.gguf", {k: v for k, v in t.items() if k != "mm.qformer.blk.1.attn_q.weight"}, keys)]:
        mmproj.write_mmproj(os.path.join(folder, name), tensors, projector="qformer", image_size=28, patch_size=14, width=d,
                            ff=4 * d, blocks=depth, heads=2, eps=1e-6, projection_dim=LLM_WIDTH, activation="gelu_erf",
                            post_ln_eps=1e-5, name="bad-qformer", extra=extra)


GEMMA3 = dict(vision_width=64, vision_heads=2, vision_ff=128, vision_layers=2, image=64, patch=8, tokens=16,
              width=64, heads=2, kv_heads=1, head_dim=32, ff=128, layers=2, vocab=262144, window=512)


def gemma3_state_dict():
    """Gemma3ForConditionalGeneration's keys (transformers 4.5x layout); norms in Gemma's (1 + w) convention."""
    g = GEMMA3
    r = _rng(896)
    d, ff, side = g["vision_width"], g["vision_ff"], g["image"] // g["patch"]
    v = "vision_tower.vision_model."
    sd = {v + "embeddings.patch_embedding.weight": r.standard_normal((d, 3, g["patch"], g["patch"])) * 0.05,
          v + "embeddings.patch_embedding.bias": 0.02 * r.standard_normal(d),
          v + "embeddings.position_embedding.weight": r.standard_normal((side * side, d)) * 0.1,
          v + "post_layernorm.weight": 1 + 0.1 * r.standard_normal(d), v + "post_layernorm.bias": 0.1 * r.standard_normal(d)}
    encoder_layers(sd, v, r, d, ff, g["vision_layers"])
    w, hd = g["width"], g["head_dim"]
    sd["multi_modal_projector.mm_soft_emb_norm.weight"] = 0.1 * r.standard_normal(d)
    sd["multi_modal_projector.mm_input_projection_weight"] = r.standard_normal((d, w)) / np.sqrt(d)
    m = "language_model.model."
    sd[m + "embed_tokens.weight"] = r.standard_normal((g["vocab"], w)) * 0.5
    sd[m + "norm.weight"] = 0.1 * r.standard_normal(w)
    for i in range(g["layers"]):
        s = f"{m}layers.{i}."
        for name, shape in [("self_attn.q_proj", (g["heads"] * hd, w)), ("self_attn.k_proj", (g["kv_heads"] * hd, w)),
                            ("self_attn.v_proj", (g["kv_heads"] * hd, w)), ("self_attn.o_proj", (w, g["heads"] * hd)),
                            ("mlp.gate_proj", (g["ff"], w)), ("mlp.up_proj", (g["ff"], w)), ("mlp.down_proj", (w, g["ff"]))]:
            sd[s + name + ".weight"] = r.standard_normal(shape) / np.sqrt(shape[1])
        for name, n in [("input_layernorm", w), ("post_attention_layernorm", w), ("pre_feedforward_layernorm", w),
                        ("post_feedforward_layernorm", w), ("self_attn.q_norm", hd), ("self_attn.k_norm", hd)]:
            sd[s + name + ".weight"] = 0.1 * r.standard_normal(n)
    return {k: f16(np.asarray(x, np.float32)) for k, x in sd.items()}


def main():
    folder = sys.argv[1]
    out = lambda name: os.path.join(folder, name)
    if not os.path.exists(out("test-llava-mmproj.gguf")):
        convert_llava_mmproj.convert(llava_state_dict(), out("test-llava-mmproj.gguf.tmp"), name="test-llava")
        os.replace(out("test-llava-mmproj.gguf.tmp"), out("test-llava-mmproj.gguf"))
    if not os.path.exists(out("test-llava16-mmproj.gguf")):
        # LLaVA-1.6's projector as its converter writes it: the same tensors plus the anyres keys and the row
        # separator (tools/make_llava16_fixtures.py has transformers' LlavaNext outputs on these weights).
        sd = llava_state_dict()
        newline = _rng(16).standard_normal(next(v for k, v in sd.items() if k.endswith("linear_2.bias")).shape[0])
        convert_llava_mmproj.convert(sd, out("test-llava16-mmproj.gguf.tmp"), name="test-llava16",
                                     extra={"clip.vision.image_grid_pinpoints": [336, 672, 672, 336, 672, 672, 1008, 336, 336, 1008],
                                            "clip.vision.mm_patch_merge_type": "spatial_unpad"},
                                     extra_tensors={"model.image_newline": newline})
        os.replace(out("test-llava16-mmproj.gguf.tmp"), out("test-llava16-mmproj.gguf"))
    if not os.path.exists(out("test-minigptv2.gguf")):
        ck = minigpt_checkpoint()
        convert_minigpt.convert_vision(eva_state_dict(), ck, out("test-minigptv2-mmproj.gguf"), 448, name="test-minigptv2")
        convert_minigpt.convert_llm(llama_state_dict(), ck, out("vocab/ggml-vocab-llama-spm.gguf"),
                                    out("test-minigptv2.gguf.tmp"), heads=4, context=1024, name="test-minigptv2")
        os.replace(out("test-minigptv2.gguf.tmp"), out("test-minigptv2.gguf"))
    if not os.path.exists(out("test-minigpt4.gguf")):
        eva, blip2, ck = eva_state_dict(), blip2_state_dict(), minigpt4_checkpoint()
        convert_minigpt.convert_qformer_vision(eva, blip2, ck, out("test-minigpt4-mmproj.gguf"), name="test-minigpt4")
        qformer, hf_eva = convert_minigpt.qformer_checkpoint(hf_blip2_layout(blip2, eva), "hf-blip2")
        convert_minigpt.convert_qformer_vision(hf_eva, qformer, ck, out("test-minigpt4-hf-mmproj.gguf"), name="test-minigpt4")
        convert_minigpt.convert_llm(llama_state_dict(), ck, out("vocab/ggml-vocab-llama-spm.gguf"), out("test-minigpt4.gguf.tmp"),
                                    heads=4, eps=1e-6, context=1024, name="test-minigpt4",
                                    template=convert_minigpt.TEMPLATES["minigpt4"])
        os.replace(out("test-minigpt4.gguf.tmp"), out("test-minigpt4.gguf"))
    if not os.path.exists(out("bad-qformer-missing-mmproj.gguf")):
        bad_qformer_files(folder)
    if not os.path.exists(out("test-gemma3.gguf")):
        g, sd = GEMMA3, gemma3_state_dict()
        convert_gemma3.convert_vision(sd, out("test-gemma3-mmproj.gguf"), heads=g["vision_heads"], tokens_per_image=g["tokens"],
                                      name="test-gemma3")
        convert_gemma3.convert_llm(sd, out("gemma-3-270m-f16.gguf"), out("test-gemma3.gguf.tmp"), heads=g["heads"],
                                   kv_heads=g["kv_heads"], head_dim=g["head_dim"], context=1024, sliding_window=g["window"],
                                   name="test-gemma3")
        os.replace(out("test-gemma3.gguf.tmp"), out("test-gemma3.gguf"))


if __name__ == "__main__":
    main()
