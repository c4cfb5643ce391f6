"""Random-weight Mini-Gemini (MGM) checkpoints in the Hugging Face layout MGM's training saves (config.json,
safetensors shards, model.safetensors.index.json), converted by tools/convert_mgm.py into the test models
(deterministic; NumPy only, so the test setup needs no torch):

- test-mgm.gguf + test-mgm-mmproj.gguf: MGM-2B's shapes with fewer layers: CLIP ViT-L/14-336 (width 1024, 16 heads,
  FFN 4096; 3 blocks, of which feature layer -2 runs 2), ConvNeXt-L's stem and stages at their real widths
  (192/384/768/1536) with 2 blocks per stage, the mining layers (1024 / 2880 wide), the 1024 -> 256 -> 256
  projector, and a 2-layer `gemma` decoder (width 256, 2 heads of 128, 1 KV head, FFN 1024) with Gemma 3's
  vocabulary (262144 tokens, from gemma-3-270m-q4_k_m.gguf) and tied embeddings. HR input 768 px, one view.
- test-mgm-hd.gguf (a link to test-mgm.gguf) + test-mgm-hd-mmproj.gguf: the same weights as an HD model
  (image_size_aux 1536, image_grid 2, image_global): a global view and 2x2 tiles, 2880 image tokens.
- test-mgm-bad-fusion-mmproj.gguf: test-mgm-mmproj.gguf with clip.vision.mgm.fusion "nearest_sum", to be refused.
- Checked here, so that setup fails if the converter stops refusing: a checkpoint with one tensor left out, one
  without its vision towers, one with an untied lm_head and one of an unknown model_type are refused, the
  first naming its tensor.

The checkpoint folders are deleted after converting unless --keep DIR keeps them there; mgm_state_dict()
rebuilds the weights in memory (tools/mgm_reference.py does, for the fixtures).

Usage: make_test_mgm.py FOLDER [--keep DIR]
"""
import json
import os
import shutil
import struct
import sys
import tempfile

import numpy as np

import convert_mgm
import make_test_vision as mtv
from convert_minigpt import ConvertError

VOCAB = "gemma-3-270m-q4_k_m.gguf"  # any Gemma 3 GGUF: its tokenizer
MGM = dict(clip_width=1024, clip_layers=3, widths=(192, 384, 768, 1536), depths=(2, 2, 2, 2),
           width=256, heads=2, kv_heads=1, head_dim=128, ff=1024, layers=2, vocab=262144)
VARIANTS = {"test-mgm": dict(image_size_aux=768, image_grid=1, image_global=False),
            "test-mgm-hd": dict(image_size_aux=1536, image_grid=2, image_global=True)}
MISSING = "model.vlm_uni_val_projector.1.weight"  # left out of the broken checkpoint
# Bumped whenever the weights or the files change, so that setup rebuilds files made by an older version.
VERSION = "2"
OUTPUTS = ["test-mgm.gguf", "test-mgm-mmproj.gguf", "test-mgm-hd.gguf", "test-mgm-hd-mmproj.gguf", "test-mgm-bad-fusion-mmproj.gguf"]


def f16(a):
    """Every tensor as stored in the checkpoint (F16): the references compute with exactly these values."""
    return np.asarray(a, np.float32).astype(np.float16).astype(np.float32)


def _normal(r, shape, std):
    return r.standard_normal(shape, dtype=np.float32) * np.float32(std)


def _ln(r, n, sd, prefix):
    sd[prefix + "weight"] = 1 + _normal(r, n, 0.1)
    sd[prefix + "bias"] = _normal(r, n, 0.1)


def convnext_trunk(depths=MGM["depths"], widths=MGM["widths"], seed=320):
    """timm's ConvNeXt trunk, stem and stages only (as MGM keeps them), in timm's names (stem.0, stages.S.*).
    Layer scale (gamma) drawn in [0.5, 1] rather than timm's 1e-6, so that every block shows in the output."""
    r = np.random.default_rng(seed)
    sd = {"stem.0.weight": _normal(r, (widths[0], 3, 4, 4), 1 / np.sqrt(48)), "stem.0.bias": _normal(r, widths[0], 0.02)}
    _ln(r, widths[0], sd, "stem.1.")
    for s, (depth, c) in enumerate(zip(depths, widths)):
        p = f"stages.{s}."
        if s > 0:
            prev = widths[s - 1]
            _ln(r, prev, sd, p + "downsample.0.")
            sd[p + "downsample.1.weight"] = _normal(r, (c, prev, 2, 2), 1 / np.sqrt(4 * prev))
            sd[p + "downsample.1.bias"] = _normal(r, c, 0.02)
        for b in range(depth):
            q = f"{p}blocks.{b}."
            sd[q + "conv_dw.weight"], sd[q + "conv_dw.bias"] = _normal(r, (c, 1, 7, 7), 1 / 7), _normal(r, c, 0.02)
            _ln(r, c, sd, q + "norm.")
            sd[q + "mlp.fc1.weight"], sd[q + "mlp.fc1.bias"] = _normal(r, (4 * c, c), 1 / np.sqrt(c)), _normal(r, 4 * c, 0.02)
            sd[q + "mlp.fc2.weight"], sd[q + "mlp.fc2.bias"] = _normal(r, (c, 4 * c), 1 / np.sqrt(4 * c)), _normal(r, c, 0.02)
            sd[q + "gamma"] = r.uniform(0.5, 1.0, c).astype(np.float32)
    return {k: f16(v) for k, v in sd.items()}


def mining_state_dict(c=MGM["clip_width"], ca=sum(MGM["widths"]), llm_width=MGM["width"], seed=64, key_gain=12):
    """MGM's own modules: the query/aux/val projectors (LayerNorm + Linear) and mm_projector (mlp2x_gelu). The keys
    are drawn `key_gain` times larger: the HR features under one token differ little (the fixture image is small and
    smooth), and at unit scale the softmax over the 64 candidates would be all but uniform (mean top probability
    0.02; 0.15 with the gain, entropy 3.1 against 4.16)."""
    r = np.random.default_rng(seed)
    sd = {}
    for name, n in [("vlm_uni_query_projector", c), ("vlm_uni_aux_projector", ca), ("vlm_uni_val_projector", ca)]:
        _ln(r, n, sd, f"model.{name}.0.")
        gain = key_gain if name == "vlm_uni_aux_projector" else 1
        sd[f"model.{name}.1.weight"] = _normal(r, (c, n), gain / np.sqrt(n))
        sd[f"model.{name}.1.bias"] = _normal(r, c, 0.02)
    sd["model.mm_projector.0.weight"] = _normal(r, (llm_width, c), 1 / np.sqrt(c))
    sd["model.mm_projector.0.bias"] = _normal(r, llm_width, 0.02)
    sd["model.mm_projector.2.weight"] = _normal(r, (llm_width, llm_width), 1 / np.sqrt(llm_width))
    sd["model.mm_projector.2.bias"] = _normal(r, llm_width, 0.02)
    return {k: f16(v) for k, v in sd.items()}


def gemma_state_dict(g=MGM, seed=2, out_gain=4):
    """GemmaForCausalLM's decoder keys (model.*), norms in Gemma's (1 + w) convention, no lm_head (tied). The
    blocks' output projections are drawn `out_gain` times larger: with tied embeddings the last prompt token's own
    embedding dominates the residual stream, and so the logits (its own id on top by 40 at unit gain); at 4 the
    image moves the first-step logits by up to ~3.5 rather than ~0.8."""
    r = np.random.default_rng(seed)
    w, hd = g["width"], g["head_dim"]
    sd = {"model.embed_tokens.weight": _normal(r, (g["vocab"], w), 0.25), "model.norm.weight": _normal(r, w, 0.1)}
    for i in range(g["layers"]):
        s = f"model.layers.{i}."
        for name, shape in [("self_attn.q_proj", (g["heads"] * hd, w)), ("self_attn.k_proj", (g["kv_heads"] * hd, w)),
                            ("self_attn.v_proj", (g["kv_heads"] * hd, w)), ("self_attn.o_proj", (w, g["heads"] * hd)),
                            ("mlp.gate_proj", (g["ff"], w)), ("mlp.up_proj", (g["ff"], w)), ("mlp.down_proj", (w, g["ff"]))]:
            gain = out_gain if name in ("self_attn.o_proj", "mlp.down_proj") else 1
            sd[s + name + ".weight"] = _normal(r, shape, gain / np.sqrt(shape[1]))
        sd[s + "input_layernorm.weight"] = _normal(r, w, 0.1)
        sd[s + "post_attention_layernorm.weight"] = _normal(r, w, 0.1)
    return {k: f16(v) for k, v in sd.items()}


def clip_state_dict():
    """CLIP ViT-L/14-336 with 3 blocks: make_test_vision's LLaVA tower (the same random weights), in MGM's names."""
    # Every value F16-rounded, norms and biases too, as the F16 shards (and so the converted files) hold them.
    return {"model.vision_tower.vision_tower." + k: f16(v) for k, v in mtv.llava_state_dict().items() if k.startswith("vision_model.")}


def mgm_state_dict():
    """The whole checkpoint, MGM's key names -> float32 arrays (F16 values), as the shards hold it."""
    sd = clip_state_dict()
    sd.update({"model.vision_tower_aux.vision_" + k: v for k, v in convnext_trunk().items()})
    sd.update(mining_state_dict())
    sd.update(gemma_state_dict())
    return sd


def config(variant):
    """config.json as MGM's training writes it for MGM-2B (GemmaConfig + MGM's fields), at the test shapes."""
    g, v = MGM, VARIANTS[variant]
    return {
        "_name_or_path": "model_zoo/LLM/gemma/gemma-2b-it", "architectures": ["MGMGemmaForCausalLM"],
        "model_type": "mgm_gemma", "torch_dtype": "float16", "transformers_version": "4.38.2",
        "vocab_size": g["vocab"], "hidden_size": g["width"], "intermediate_size": g["ff"],
        "num_hidden_layers": g["layers"], "num_attention_heads": g["heads"], "num_key_value_heads": g["kv_heads"],
        "head_dim": g["head_dim"], "hidden_act": "gelu", "hidden_activation": "gelu_pytorch_tanh",
        "max_position_embeddings": 8192, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "rope_scaling": None,
        "attention_bias": False, "attention_dropout": 0.0, "initializer_range": 0.02, "use_cache": True,
        "bos_token_id": 2, "eos_token_id": 1, "pad_token_id": 0, "tie_word_embeddings": True,
        "mm_vision_tower": "model_zoo/OpenAI/clip-vit-large-patch14-336",
        "mm_vision_tower_aux": "model_zoo/OpenAI/openclip-convnext-large-d-320-laion2B-s29B-b131K-ft-soup",
        "mm_hidden_size": g["clip_width"], "mm_hidden_size_aux": sum(g["widths"]), "mm_projector_type": "mlp2x_gelu",
        "mm_vision_select_layer": -2, "mm_vision_select_feature": "patch", "mm_use_im_start_end": False,
        "mm_use_im_patch_token": False, "mm_projector_lr": None, "use_mm_proj": True, "tune_mm_mlp_adapter": False,
        "freeze_mm_mlp_adapter": False, "image_aspect_ratio": "pad", "image_grid_pinpoints": None,
        "image_size_aux": v["image_size_aux"], "image_grid": v["image_grid"], "image_global": v["image_global"],
        "optimize_vision_tower": False, "optimize_vision_tower_aux": False,
        "tokenizer_model_max_length": 4096, "tokenizer_padding_side": "right",
    }


ST_DTYPES = {np.dtype(np.float16): "F16", np.dtype(np.float32): "F32"}


def write_safetensors(path, tensors):
    """The safetensors format: u64 header size, JSON header (dtype, shape, data_offsets), the raw data."""
    header, offset = {}, 0
    for k, a in tensors.items():
        header[k] = {"dtype": ST_DTYPES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    header["__metadata__"] = {"format": "pt"}
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for a in tensors.values():
            f.write(np.ascontiguousarray(a).tobytes())


def shard_of(key):
    if key.startswith(("model.vision_tower.", "model.vision_tower_aux.")):
        return 2
    if key.startswith(("model.vlm_uni_", "model.mm_projector.")):
        return 3
    return 1


def write_checkpoint(folder, sd, variant, shards=None):
    """config.json, the three shards (decoder, towers, MGM's modules; F16) and the index. `shards`: number -> an
    existing shard to link instead of writing."""
    os.makedirs(folder, exist_ok=True)
    json.dump(config(variant), open(os.path.join(folder, "config.json"), "w"), indent=2)
    weight_map, total = {}, 0
    for n in (1, 2, 3):
        name = f"model-0000{n}-of-00003.safetensors"
        part = {k: v.astype(np.float16) for k, v in sd.items() if shard_of(k) == n}
        weight_map.update({k: name for k in part})
        total += sum(a.nbytes for a in part.values())
        path = os.path.join(folder, name)
        if shards and n in shards:
            os.symlink(os.path.abspath(shards[n]), path)
        else:
            write_safetensors(path, part)
    json.dump({"metadata": {"total_size": total}, "weight_map": weight_map},
              open(os.path.join(folder, "model.safetensors.index.json"), "w"), indent=2)


def expect_refusal(what, needle, fn):
    try:
        fn()
    except ConvertError as e:
        if needle not in str(e):
            sys.exit(f"make_test_mgm: {what}: refused, but the message does not say '{needle}': {e}")
        print(f"make_test_mgm: {what}: refused: {e}")
        return
    sys.exit(f"make_test_mgm: {what}: convert_mgm accepted it; it must be refused")


def check_refusals(work, good, vocab, sd):
    """The converter's one-line refusals, on checkpoints derived from the good one (nothing is written)."""
    shard = lambda n: os.path.join(good, f"model-0000{n}-of-00003.safetensors")
    out = lambda name: os.path.join(work, name)
    broken = os.path.join(work, "missing-tensor")
    os.makedirs(broken)
    json.dump(config("test-mgm"), open(os.path.join(broken, "config.json"), "w"))
    for n in (1, 2):
        os.symlink(os.path.abspath(shard(n)), os.path.join(broken, f"model-0000{n}-of-00003.safetensors"))
    write_safetensors(os.path.join(broken, "model-00003-of-00003.safetensors"),
                      {k: v.astype(np.float16) for k, v in sd.items() if shard_of(k) == 3 and k != MISSING})
    expect_refusal("a checkpoint without " + MISSING, f"'{MISSING}'",
                   lambda: convert_mgm.convert(broken, out("x.gguf"), out("x-mmproj.gguf"), vocab=vocab))
    towerless = os.path.join(work, "no-towers")
    os.makedirs(towerless)
    json.dump(config("test-mgm"), open(os.path.join(towerless, "config.json"), "w"))
    for n in (1, 3):
        os.symlink(os.path.abspath(shard(n)), os.path.join(towerless, f"model-0000{n}-of-00003.safetensors"))
    expect_refusal("a checkpoint without its vision towers", "--clip",
                   lambda: convert_mgm.convert(towerless, out("x.gguf"), out("x-mmproj.gguf"), vocab=vocab))
    untied = convert_mgm.Tensors.open(good)
    untied.alias(convert_mgm.Tensors({"lm_head.weight": sd["model.embed_tokens.weight"][::-1]}), lambda k: k)
    expect_refusal("an untied lm_head", "lm_head", lambda: convert_mgm.check_llm(untied, "gemma"))
    tied = convert_mgm.Tensors.open(good)
    tied.alias(convert_mgm.Tensors({"lm_head.weight": sd["model.embed_tokens.weight"]}), lambda k: k)
    convert_mgm.check_llm(tied, "gemma")  # an lm_head equal to the embeddings is tied: accepted
    other = os.path.join(work, "other-type")
    os.makedirs(other)
    json.dump({**config("test-mgm"), "model_type": "llava_llama"}, open(os.path.join(other, "config.json"), "w"))
    expect_refusal("an unknown model_type", "llava_llama",
                   lambda: convert_mgm.convert(other, out("x.gguf"), out("x-mmproj.gguf"), vocab=vocab))
    if any(os.path.exists(out(n)) for n in ["x.gguf", "x-mmproj.gguf"]):
        sys.exit("make_test_mgm: a refused conversion left a file behind")


def main():
    folder = sys.argv[1]
    keep = sys.argv[sys.argv.index("--keep") + 1] if "--keep" in sys.argv else None
    out = lambda name: os.path.join(folder, name)
    stamp = out("test-mgm.version")
    current = open(stamp).read().strip() if os.path.exists(stamp) else None
    if all(os.path.exists(out(n)) for n in OUTPUTS) and current == VERSION and not keep:
        return
    vocab = out(VOCAB)
    sd = mgm_state_dict()
    work = keep or tempfile.mkdtemp(prefix=".mgm-checkpoints-", dir=folder)
    try:
        good, hd = os.path.join(work, "test-mgm"), os.path.join(work, "test-mgm-hd")
        write_checkpoint(good, sd, "test-mgm")
        write_checkpoint(hd, sd, "test-mgm-hd", shards={n: os.path.join(good, f"model-0000{n}-of-00003.safetensors") for n in (1, 2, 3)})
        check_refusals(work, good, vocab, sd)
        convert_mgm.convert(good, out("test-mgm.gguf.tmp"), out("test-mgm-mmproj.gguf.tmp"), vocab=vocab, name="test-mgm")
        t = convert_mgm.Tensors.open(hd)
        hd_config = config("test-mgm-hd")
        convert_mgm.write_mgm_mmproj(t, out("test-mgm-hd-mmproj.gguf.tmp"), image_size_aux=hd_config["image_size_aux"],
                                     image_grid=hd_config["image_grid"], image_global=hd_config["image_global"],
                                     name="test-mgm-hd")
        convert_mgm.write_mgm_mmproj(convert_mgm.Tensors.open(good), out("test-mgm-bad-fusion-mmproj.gguf.tmp"),
                                     image_size_aux=768, fusion="nearest_sum", name="test-mgm-bad-fusion")
        for n in ["test-mgm.gguf", "test-mgm-mmproj.gguf", "test-mgm-hd-mmproj.gguf", "test-mgm-bad-fusion-mmproj.gguf"]:
            os.replace(out(n + ".tmp"), out(n))
        if os.path.lexists(out("test-mgm-hd.gguf")):
            os.remove(out("test-mgm-hd.gguf"))
        os.symlink("test-mgm.gguf", out("test-mgm-hd.gguf"))  # the same decoder; named so that the HD mmproj pairs
        with open(stamp, "w") as f:
            f.write(VERSION + "\n")
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
        for n in ["test-mgm.gguf", "test-mgm-mmproj.gguf", "test-mgm-hd-mmproj.gguf", "test-mgm-bad-fusion-mmproj.gguf"]:
            if os.path.exists(out(n + ".tmp")):
                os.remove(out(n + ".tmp"))


if __name__ == "__main__":
    main()
