"""Reference outputs of the vision path, from PyTorch (transformers' CLIPVisionModel for LLaVA; a plain port
of MiniGPT-v2's EVA ViT-g, ln_vision and concat-4 projector), on the weights tools/make_test_vision.py
generates, for Tests/Fixtures/vision.json: preprocessed pixels (a sample), image embeddings (a sample of
tokens), and for MiniGPT-v2 the top logits of the first answer step through HF's LLaMA; for Gemma 3, HF's
Gemma3ForConditionalGeneration (SigLIP, its projector, and the decoder reading the image tokens both ways); for
MiniGPT-4, ports of its EVA and of LAVIS's Q-Former (checked against transformers' Blip2VisionModel and
Blip2QFormerModel loaded from the Hugging Face blip2 layout), llama_proj, and HF's LLaMA on the Vicuna v0 prompt; for
Mini-Gemini ("mgm", "mgm_hd"), tools/mgm_reference.py (CLIP and ConvNeXt, patch info mining, MGM-2B's Gemma).

Usage: make_vision_fixtures.py [--only gemma3|minigpt4|mgm ...]   (needs torch and transformers; LLAMA_CPP_PYTHON names
       an interpreter with llama-cpp-python, for the prompts' token ids; --only rewrites just those entries)
"""
import sys
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import make_test_vision as mtv
from mmproj import CLIP_MEAN, CLIP_STD, bicubic_resize_grid

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
IMAGE = os.path.join(ROOT, "Tests", "Fixtures", "images", "orientation6.jpg")  # 23x37 after EXIF: not square


def load_image():
    from PIL import ImageOps
    return ImageOps.exif_transpose(Image.open(IMAGE)).convert("RGB")


def normalize(img):
    x = np.asarray(img, dtype=np.float32) * (1 / 255)
    x = (x - np.array(CLIP_MEAN, np.float32)) / np.array(CLIP_STD, np.float32)
    return torch.from_numpy(x.transpose(2, 0, 1).copy())[None]


def llava_reference():
    from transformers import CLIPVisionConfig, CLIPVisionModel
    sd = mtv.llava_state_dict()
    cfg = CLIPVisionConfig(hidden_size=1024, intermediate_size=4096, num_hidden_layers=3, num_attention_heads=16,
                           image_size=336, patch_size=14, hidden_act="quick_gelu", layer_norm_eps=1e-5)
    model = CLIPVisionModel(cfg).eval()
    vision = {k: torch.from_numpy(v) for k, v in sd.items() if k.startswith("vision_model.")}
    if not any(k.startswith("vision_model.") for k in model.state_dict()):  # transformers 5 dropped the prefix
        vision = {k[len("vision_model."):]: v for k, v in vision.items()}
    missing, unexpected = model.load_state_dict(vision, strict=False)
    assert not unexpected and all("position_ids" in m for m in missing), (missing, unexpected)
    # LLaVA's process_images with image_aspect_ratio="pad": expand2square with the mean colour, then CLIP's
    # processor (resize shortest side to 336, bicubic; centre crop 336).
    img = load_image()
    w, h = img.size
    side = max(w, h)
    bg = tuple(int(x * 255) for x in CLIP_MEAN)
    square = Image.new("RGB", (side, side), bg)
    square.paste(img, ((side - w) // 2, (side - h) // 2))
    pixels = normalize(square.resize((336, 336), Image.Resampling.BICUBIC))
    with torch.no_grad():
        hidden = model(pixel_values=pixels, output_hidden_states=True).hidden_states[-2][0, 1:]
        p = {k: torch.from_numpy(v) for k, v in sd.items() if k.startswith("multi_modal_projector.")}
        x = F.gelu(hidden @ p["multi_modal_projector.linear_1.weight"].T + p["multi_modal_projector.linear_1.bias"])
        emb = x @ p["multi_modal_projector.linear_2.weight"].T + p["multi_modal_projector.linear_2.bias"]
    return pixels[0].numpy(), emb.numpy()


def eva_forward(sd, ck, pixels, image_size=448):
    """MiniGPT-v2: EVA, ln_vision, the class token dropped, four neighbours concatenated, llama_proj."""
    d = 1408
    x = eva_vit(sd, pixels, image_size)
    c = {k: torch.from_numpy(v) for k, v in ck.items()}
    x = F.layer_norm(x, (d,), c["ln_vision.weight"], c["ln_vision.bias"], eps=1e-5)
    x = x[:, 1:, :].reshape(1, -1, 4 * d)
    return F.linear(x, c["llama_proj.weight"], c["llama_proj.bias"])[0]


def eva_vit(sd, pixels, image_size):
    """EVA ViT-g's blocks as MiniGPT's eva_vit.py runs them (no final norm): [1, 1 + patches, 1408]."""
    d, heads = 1408, 16
    t = {k: torch.from_numpy(v) for k, v in sd.items()}
    x = F.conv2d(pixels, t["patch_embed.proj.weight"], t["patch_embed.proj.bias"], stride=14)
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([t["cls_token"].expand(1, -1, -1), x], dim=1)
    # MiniGPT's interpolate_pos_embed: bicubic over the patch grid, class row kept.
    pos = t["pos_embed"][0]
    grid = pos[1:].reshape(1, 16, 16, d).permute(0, 3, 1, 2)
    side = image_size // 14
    grid = F.interpolate(grid, size=(side, side), mode="bicubic", align_corners=False)
    pos = torch.cat([pos[:1], grid.permute(0, 2, 3, 1).reshape(side * side, d)], dim=0)
    x = x + pos[None]
    n_blocks = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("blocks."))
    for i in range(n_blocks):
        s = f"blocks.{i}."
        h = F.layer_norm(x, (d,), t[s + "norm1.weight"], t[s + "norm1.bias"], eps=1e-6)
        bias = torch.cat([t[s + "attn.q_bias"], torch.zeros_like(t[s + "attn.q_bias"]), t[s + "attn.v_bias"]])
        qkv = F.linear(h, t[s + "attn.qkv.weight"], bias).reshape(1, -1, 3, heads, d // heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = ((q * (d // heads) ** -0.5) @ k.transpose(-2, -1)).softmax(dim=-1)
        o = (a @ v).transpose(1, 2).reshape(1, -1, d)
        x = x + F.linear(o, t[s + "attn.proj.weight"], t[s + "attn.proj.bias"])
        h = F.layer_norm(x, (d,), t[s + "norm2.weight"], t[s + "norm2.bias"], eps=1e-6)
        h = F.linear(F.gelu(F.linear(h, t[s + "mlp.fc1.weight"], t[s + "mlp.fc1.bias"])), t[s + "mlp.fc2.weight"], t[s + "mlp.fc2.bias"])
        x = x + h
    return x


def minigpt_reference():
    sd, ck = mtv.eva_state_dict(), mtv.minigpt_checkpoint()
    pixels = normalize(load_image().resize((448, 448), Image.Resampling.BICUBIC))
    with torch.no_grad():
        emb = eva_forward(sd, ck, pixels)
    # Cross-check the converter's NumPy interpolation against torch's.
    grid = sd["pos_embed"][0, 1:].reshape(16, 16, 1408)
    ours = bicubic_resize_grid(grid, 32)
    theirs = F.interpolate(torch.from_numpy(grid).permute(2, 0, 1)[None], size=(32, 32), mode="bicubic",
                           align_corners=False)[0].permute(1, 2, 0).numpy()
    assert np.abs(ours - theirs).max() < 1e-4, np.abs(ours - theirs).max()
    return pixels[0].numpy(), emb.numpy()


def minigpt_first_logits(image_embeddings):
    """HF LLaMA on MiniGPT-v2's prompt: segments around the image tokenized separately, BOS on the first only."""
    before, after = "<s>[INST] <Img>", "</Img> [vqa] what is in the picture? [/INST]"
    return llama_first_step(convert_and_merge(), before, image_embeddings, after, eps=1e-5)


def llama_first_step(llama, before, image_embeddings, after, eps):
    """The test decoder (make_test_vision.llama_state_dict's shapes) as HF's LlamaForCausalLM, fed the prompt MiniGPT's
    get_context_emb builds: the text around the image tokenized piece by piece, BOS on the first only, the image's
    embeddings between. The next-token logits' top 10, with the ids."""
    from transformers import LlamaConfig, LlamaForCausalLM
    ids_before, ids_after = llama_cpp_tokens([(before, True), (after, False)])
    cfg = LlamaConfig(vocab_size=32000, hidden_size=256, intermediate_size=512, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=4, rms_norm_eps=eps, max_position_embeddings=1024,
                      tie_word_embeddings=False)
    model = LlamaForCausalLM(cfg).eval()
    missing, unexpected = model.load_state_dict({k: torch.from_numpy(v) for k, v in llama.items()}, strict=False)
    assert not unexpected and all("rotary" in m for m in missing), (missing, unexpected)
    emb = model.model.embed_tokens
    with torch.no_grad():
        x = torch.cat([emb(torch.tensor(ids_before)), torch.from_numpy(image_embeddings), emb(torch.tensor(ids_after))])
        logits = model(inputs_embeds=x[None]).logits[0, -1].numpy()
    top = np.argsort(-logits)[:10]
    return {"ids_before": ids_before, "ids_after": ids_after, "top_ids": [int(i) for i in top],
            "top_logits": [float(logits[i]) for i in top]}


def qformer_lavis(blip2, image_tokens, q=None):
    """BLIP-2's Q-Former as LAVIS's Qformer.py runs it for MiniGPT-4 (BertModel.forward with query_embeds and no
    input_ids): embeddings.LayerNorm over the queries (no positions), then per layer BertAttention (self), in
    layers i % cross_attention_freq == 0 BertAttention over the image tokens, and the query FFN; every block is
    post-LN (LayerNorm(dense(x) + input)); masks all ones; "gelu" is the exact erf form."""
    q = q or mtv.QFORMER
    h, heads, eps = q["width"], q["heads"], 1e-12
    hd = h // heads
    t = {k: torch.from_numpy(v) for k, v in blip2.items()}
    p = "Qformer.bert."
    x = F.layer_norm(t["query_tokens"], (h,), t[p + "embeddings.LayerNorm.weight"], t[p + "embeddings.LayerNorm.bias"], eps=eps)

    def attention(prefix, hidden, context):
        def heads_of(z):
            return z.view(1, -1, heads, hd).permute(0, 2, 1, 3)
        lin = lambda name, z: F.linear(z, t[prefix + name + ".weight"], t[prefix + name + ".bias"])
        query, key, value = heads_of(lin("self.query", hidden)), heads_of(lin("self.key", context)), heads_of(lin("self.value", context))
        probs = (query @ key.transpose(-1, -2) / math.sqrt(hd)).softmax(dim=-1)
        mixed = (probs @ value).permute(0, 2, 1, 3).reshape(1, -1, h)
        return F.layer_norm(lin("output.dense", mixed) + hidden, (h,), t[prefix + "output.LayerNorm.weight"],
                            t[prefix + "output.LayerNorm.bias"], eps=eps)

    for i in range(q["layers"]):
        s = f"{p}encoder.layer.{i}."
        x = attention(s + "attention.", x, x)
        if i % q["cross_freq"] == 0:
            x = attention(s + "crossattention.", x, image_tokens)
        mid = F.gelu(F.linear(x, t[s + "intermediate_query.dense.weight"], t[s + "intermediate_query.dense.bias"]))
        x = F.layer_norm(F.linear(mid, t[s + "output_query.dense.weight"], t[s + "output_query.dense.bias"]) + x, (h,),
                         t[s + "output_query.LayerNorm.weight"], t[s + "output_query.LayerNorm.bias"], eps=eps)
    return x[0]


def load_strictly(model, weights):
    """load_state_dict that allows only the model's buffers to be missing (the checkpoint holds parameters)."""
    missing, unexpected = model.load_state_dict(weights, strict=False)
    buffers = {name for name, _ in model.named_buffers()}
    assert not unexpected and all(m in buffers for m in missing), (missing, unexpected)
    print(f"  {type(model).__name__}: {len(weights)} tensors loaded, {len(missing)} buffers left as built")


def qformer_transformers(hf, image_tokens):
    """transformers' Blip2QFormerModel loaded strictly from the Hugging Face layout make_test_vision.py writes."""
    from transformers import Blip2QFormerConfig, Blip2QFormerModel
    q = mtv.QFORMER
    cfg = Blip2QFormerConfig(hidden_size=q["width"], num_hidden_layers=q["layers"], num_attention_heads=q["heads"],
                             intermediate_size=q["ff"], encoder_hidden_size=q["encoder_width"],
                             cross_attention_frequency=q["cross_freq"], hidden_act="gelu", layer_norm_eps=1e-12)
    model = Blip2QFormerModel(cfg).eval()
    load_strictly(model, {k[len("qformer."):]: torch.from_numpy(v) for k, v in hf.items() if k.startswith("qformer.")})
    with torch.no_grad():
        return model(query_embeds=torch.from_numpy(hf["query_tokens"]), encoder_hidden_states=image_tokens).last_hidden_state[0]


def vit_transformers(hf, pixels):
    """transformers' Blip2VisionModel on the Hugging Face layout: the blocks' output before its post_layernorm."""
    from transformers import Blip2VisionConfig, Blip2VisionModel
    cfg = Blip2VisionConfig(hidden_size=1408, intermediate_size=6144, num_hidden_layers=2, num_attention_heads=16,
                            image_size=224, patch_size=14, hidden_act="gelu", layer_norm_eps=1e-6, qkv_bias=True)
    model = Blip2VisionModel(cfg).eval()
    vision = {k[len("vision_model."):]: torch.from_numpy(v) for k, v in hf.items() if k.startswith("vision_model.")}
    load_strictly(model, vision)
    with torch.no_grad():
        return model(pixel_values=pixels, output_hidden_states=True).hidden_states[-1]


def minigpt4_reference():
    """MiniGPT-4 (Vicuna v0): Blip2ImageEvalProcessor (bicubic square resize to 224, CLIP normalization), EVA,
    ln_vision over all 257 tokens, the Q-Former, llama_proj; the Q-Former and the ViT checked against transformers."""
    eva, blip2, ck = mtv.eva_state_dict(), mtv.blip2_state_dict(), mtv.minigpt4_checkpoint()
    hf = mtv.hf_blip2_layout(blip2, eva)
    pixels = normalize(load_image().resize((224, 224), Image.Resampling.BICUBIC))
    t = {k: torch.from_numpy(v) for k, v in blip2.items()}
    with torch.no_grad():
        vit = eva_vit(eva, pixels, 224)
        theirs = vit_transformers(hf, pixels)
        print("minigpt4: EVA port against transformers' Blip2VisionModel: max |diff|", float((vit - theirs).abs().max()))
        tokens = F.layer_norm(vit, (1408,), t["ln_vision.weight"], t["ln_vision.bias"], eps=1e-5)
        ours = qformer_lavis(blip2, tokens)
        hf_out = qformer_transformers(hf, tokens)
        gap = float((ours - hf_out).abs().max())
        print("minigpt4: Q-Former port (LAVIS) against transformers' Blip2QFormerModel: max |diff|", gap,
              "over values up to", float(ours.abs().max()))
        assert gap < 1e-4, gap
        c = {k: torch.from_numpy(v) for k, v in ck.items()}
        emb = F.linear(ours, c["llama_proj.weight"], c["llama_proj.bias"])
    return pixels[0].numpy(), ours.numpy(), emb.numpy()


def minigpt4_first_logits(image_embeddings):
    """HF LLaMA (Vicuna v0 is LLaMA-1: rms eps 1e-6) on MiniGPT-4's CONV_VISION_Vicuna0 prompt, split at
    <ImageHere> and tokenized piece by piece with BOS on the first only (get_context_emb)."""
    system = ("Give the following image: <Img>ImageContent</Img>. You will be able to see the image once I provide it "
              "to you. Please answer my questions.")
    before, after = system + "###Human: <Img>", "</Img> what is in the picture?###Assistant: "
    return llama_first_step(mtv.llama_state_dict(), before, image_embeddings, after, eps=1e-6)


def gemma3_reference():
    """Pixels, image embeddings and the next-token logits of a chat question about the image, from transformers.
    The prompt is what Glimpse's `gemma` template and the projector's wrapper make, tokenized by llama.cpp."""
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration
    g, sd = mtv.GEMMA3, mtv.gemma3_state_dict()
    cfg = Gemma3Config(
        text_config=dict(vocab_size=g["vocab"], hidden_size=g["width"], intermediate_size=g["ff"], num_hidden_layers=g["layers"],
                         num_attention_heads=g["heads"], num_key_value_heads=g["kv_heads"], head_dim=g["head_dim"],
                         query_pre_attn_scalar=g["head_dim"], sliding_window=g["window"], rms_norm_eps=1e-6,
                         max_position_embeddings=1024, final_logit_softcapping=None, attn_logit_softcapping=None),
        vision_config=dict(hidden_size=g["vision_width"], intermediate_size=g["vision_ff"], num_hidden_layers=g["vision_layers"],
                           num_attention_heads=g["vision_heads"], image_size=g["image"], patch_size=g["patch"],
                           layer_norm_eps=1e-6, vision_use_head=False),
        mm_tokens_per_image=g["tokens"])
    model = Gemma3ForConditionalGeneration(cfg).eval()
    theirs = model.state_dict()
    mine = {k: torch.from_numpy(v) for k, v in sd.items()}
    # transformers 5 renamed the keys (model.vision_tower.encoder..., model.language_model.layers...).
    renamed = {}
    for k, v in mine.items():
        k5 = "model." + k.replace("vision_tower.vision_model.", "vision_tower.").replace("language_model.model.", "language_model.")
        hit = next((c for c in [k, k5] if c in theirs), None)
        assert hit is not None, k
        renamed[hit] = v
    missing, unexpected = model.load_state_dict(renamed, strict=False)
    assert not unexpected, unexpected
    assert all(m == "lm_head.weight" or "position_ids" in m for m in missing), missing
    img = load_image().resize((g["image"], g["image"]), Image.Resampling.BILINEAR)
    x = np.asarray(img, dtype=np.float32) * (1 / 255)
    pixels = torch.from_numpy(((x - 0.5) / 0.5).transpose(2, 0, 1).copy())[None]
    question = "what is in the picture?"
    before, after = "<start_of_turn>user\n\n\n<start_of_image>", f"<end_of_image>\n\n{question}<end_of_turn>\n<start_of_turn>model\n"
    ids_before, ids_after = llama_cpp_tokens([(before, True), (after, False)], vocab="gemma-3-270m-f16.gguf")
    ids = ids_before + [cfg.image_token_id] * g["tokens"] + ids_after
    types = [0] * len(ids_before) + [1] * g["tokens"] + [0] * len(ids_after)
    with torch.no_grad():
        features = model.model.get_image_features(pixel_values=pixels)
        features = getattr(features, "pooler_output", features)
        emb = features.reshape(-1, g["width"])
        out = model(input_ids=torch.tensor([ids]), pixel_values=pixels, token_type_ids=torch.tensor([types]))
        logits = out.logits[0, -1].numpy()
        causal = model(input_ids=torch.tensor([ids]), pixel_values=pixels).logits[0, -1].numpy()
    print("gemma3: logits with the image read both ways differ from causal by", float(np.abs(logits - causal).max()))
    top = np.argsort(-logits)[:10]
    return pixels[0].numpy(), emb.numpy(), {
        "question": question, "ids": [int(i) if i != cfg.image_token_id else -1 for i in ids],
        "top_ids": [int(i) for i in top], "top_logits": [float(logits[i]) for i in top],
        "causal_top_logits": [float(causal[i]) for i in top]}


def r5(a):
    """Rounded to 5 decimals, written short (float64, so that the JSON holds '0.12346', not float32's long repr)."""
    return np.round(np.asarray(a, np.float64), 5).tolist()


MGM_CONFIG_SKIP = ("model_type", "architectures", "_name_or_path", "transformers_version", "torch_dtype")


def mgm_reference(sd, variant):
    """Mini-Gemini (tools/mgm_reference.py, a port of MGM's code on transformers' CLIP and Gemma and timm's ConvNeXt)
    on make_test_mgm's weights: the HR and LR pixels, the fused ConvNeXt map, CLIP's features, the mined tokens
    (x + out, before mm_projector), the image embeddings, and the first-step logits of a chat question in MGM's
    conv_gemma, the prompt cut at <image> and tokenized as tokenizer_image_token does (BOS once) by llama.cpp."""
    import make_test_mgm as mk
    import mgm_reference as ref
    config = mk.config(variant)
    v = mk.VARIANTS[variant]
    model = ref.MGMReference(sd, **v, llm={k: x for k, x in config.items() if k not in MGM_CONFIG_SKIP})
    keep = {}
    emb = model.image_embeddings(load_image(), keep)
    n = (336 // 14) ** 2
    # The mining of view 0 again, reformulated in float64 NumPy (keys never formed), against the port.
    view0_map = keep["hr_map_global"] if v["image_global"] else keep["hr_map"][..., :keep["hr_map"].shape[-1] // v["image_grid"],
                                                                                 :keep["hr_map"].shape[-1] // v["image_grid"]]
    alt = ref.mining_reformulated(sd, keep["raw"][:n].numpy(), view0_map[0].numpy(), 24)
    gap = float(np.abs(alt - keep["mined_only"][:n].numpy()).max())
    print(f"{variant}: mining reformulated (float64) against the port: max |diff| {gap:.3g} over values up to "
          f"{float(np.abs(alt).max()):.3g}")
    assert gap < 1e-4, gap
    p = keep["attention"]
    entropy = float(-(p * p.clamp_min(1e-30).log()).sum(-1).mean())
    top_p = float(p.max(-1).values.mean())
    print(f"{variant}: mining softmax over {p.shape[-1]} candidates: mean top probability {top_p:.3f}, mean entropy "
          f"{entropy:.2f} (uniform {math.log(p.shape[-1]):.2f})")
    question = "What is in the image?"
    # conv_gemma's get_prompt for one user turn "<image>\n" + question and the open model turn, cut at <image>.
    before, after = "<start_of_turn>user\n", f"\n{question}<end_of_turn>\n<start_of_turn>model\n"
    ids_before, ids_after = llama_cpp_tokens([(before, True), (after, True)], vocab=mk.VOCAB)
    assert ids_before[0] == ids_after[0] == config["bos_token_id"], (ids_before, ids_after)
    ids_after = ids_after[1:]  # tokenizer_image_token: every chunk but the first loses its BOS
    logits = model.first_step_logits(ids_before, emb, ids_after).numpy()
    top = np.argsort(-logits)[:20]
    hr, views = keep["hr"][0].numpy(), keep["views"]
    lr0 = (views[-1] if v["image_global"] else views[0]).numpy()  # view 0 in token order: the global one, or the only one
    mined = keep["mined"].numpy()
    rows = [0, 1, 300, n - 1] if v["image_grid"] == 1 else [0, 300, n, 3 * n + 123, 5 * n - 1]
    every = 9 if v["image_grid"] == 1 else 45
    hr_map = keep["hr_map"][0].numpy()
    entry = {
        "image_size_aux": v["image_size_aux"], "image_grid": v["image_grid"], "image_global": v["image_global"],
        "views": ["global", "TL", "TR", "BL", "BR"] if v["image_global"] else ["TL", "TR", "BL", "BR"] if v["image_grid"] == 2 else ["single"],
        "hr_pixels_shape": list(hr.shape), "hr_pixels_every": 2999 if v["image_grid"] == 1 else 11999,
        "lr_pixels_shape": list(lr0.shape), "lr_pixels_every": 997,
        "tokens": int(emb.shape[0]), "width": int(emb.shape[1]), "every": every, "embeddings": r5(emb.numpy()[::every]),
        "mined_rows": rows, "mined_sample": [r5(mined[i]) for i in rows],
        "clip_every": 997, "hr_map_shape": list(hr_map.shape), "hr_map_every": 99991,
        "mining_attention": {"top_probability_mean": top_p, "entropy_mean": entropy},
        "check": {"mining_reformulated_max_abs_diff": gap},
    }
    entry["hr_pixels_sample"] = r5(hr.reshape(-1)[::entry["hr_pixels_every"]])
    entry["hr_pixels_mean"] = float(hr.mean())
    entry["lr_pixels_sample"] = r5(lr0.reshape(-1)[::997])
    entry["lr_pixels_mean"] = float(lr0.mean())
    if v["image_grid"] > 1:  # the first tile (CLIP's first input) too
        tile = views[0].numpy()
        entry["lr_tile_pixels_sample"], entry["lr_tile_pixels_mean"] = r5(tile.reshape(-1)[::997]), float(tile.mean())
    entry["clip_sample"] = r5(keep["raw"].numpy().reshape(-1)[::997])
    entry["hr_map_sample"] = r5(hr_map.reshape(-1)[::99991])
    entry["chat"] = {
        "question": question, "conv": "gemma", "before": before, "after": after,
        "tokenizer": f"llama.cpp on {mk.VOCAB}", "ids_before": ids_before, "ids_after": ids_after,
        "ids": ids_before + [-200] + ids_after,
        "top_ids": [int(i) for i in top], "top_logits": r5(logits[top]),
        "logits_every": 1021, "logits_sample": r5(logits[::1021])}
    print(f"{variant}: {entry['tokens']} image tokens, embeddings in [{float(emb.min()):.3f}, {float(emb.max()):.3f}], "
          f"top ids {entry['chat']['top_ids'][:5]}, logits {entry['chat']['top_logits'][0]:.3f} .. {entry['chat']['top_logits'][-1]:.3f}")
    return entry


def llama_cpp_tokens(segments, vocab="vocab/ggml-vocab-llama-spm.gguf"):
    """llama.cpp's tokenization (the reference), through the interpreter that has llama-cpp-python."""
    import subprocess
    script = (
        "import json, sys\n"
        "from llama_cpp import Llama\n"
        "v = Llama(model_path=sys.argv[1], vocab_only=True, verbose=False)\n"
        "print(json.dumps([v.tokenize(t.encode(), add_bos=b, special=True) for t, b in json.loads(sys.argv[2])]))\n")
    vocab = os.path.expanduser("~/.cache/glimpse/test-models/" + vocab)
    python = os.environ.get("LLAMA_CPP_PYTHON", "python3")
    out = subprocess.run([python, "-c", script, vocab, json.dumps(segments)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def convert_and_merge():
    import convert_minigpt
    llama = mtv.llama_state_dict()
    merged = convert_minigpt.merge_lora(llama, mtv.minigpt_checkpoint())
    # The GGUF stores the merged weights in F16: compute with the same rounding.
    return {k: mtv.f16(v) for k, v in merged.items()}


def sample(a, rows):
    return a[::rows].astype(np.float32).round(6).tolist()


def main():
    path = os.path.join(ROOT, "Tests", "Fixtures", "vision.json")
    out = json.load(open(path)) if "--only" in sys.argv else {}
    if "--only" not in sys.argv or "minigpt4" in sys.argv:
        pixels, queries, emb = minigpt4_reference()
        out["minigpt4"] = {"pixels_sample": pixels.reshape(-1)[::997].tolist(), "pixels_mean": float(pixels.mean()),
                           "tokens": int(emb.shape[0]), "width": int(emb.shape[1]), "every": 1, "embeddings": sample(emb, 1),
                           "qformer_out_sample": sample(queries, 8), "first_step": minigpt4_first_logits(emb)}
    if "--only" not in sys.argv or "gemma3" in sys.argv:
        pixels, emb, answer = gemma3_reference()
        out["gemma3"] = {"pixels_sample": pixels.reshape(-1)[::97].tolist(), "pixels_every": 97, "pixels_mean": float(pixels.mean()),
                         "tokens": int(emb.shape[0]), "width": int(emb.shape[1]), "every": 1, "embeddings": sample(emb, 1),
                         "chat": answer}
    if "--only" not in sys.argv or "mgm" in sys.argv:
        import make_test_mgm
        torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
        sd = make_test_mgm.mgm_state_dict()
        out["mgm"] = mgm_reference(sd, "test-mgm")
        out["mgm_hd"] = mgm_reference(sd, "test-mgm-hd")
    if "--only" in sys.argv:
        with open(path, "w") as f:
            json.dump(out, f)
        return
    pixels, emb = llava_reference()
    out["llava"] = {"pixels_sample": pixels.reshape(-1)[::997].tolist(), "pixels_mean": float(pixels.mean()),
                    "tokens": int(emb.shape[0]), "width": int(emb.shape[1]), "every": 8, "embeddings": sample(emb, 8)}
    pixels, emb = minigpt_reference()
    out["minigptv2"] = {"pixels_sample": pixels.reshape(-1)[::997].tolist(), "pixels_mean": float(pixels.mean()),
                        "tokens": int(emb.shape[0]), "width": int(emb.shape[1]), "every": 4, "embeddings": sample(emb, 4),
                        "first_step": minigpt_first_logits(emb)}
    with open(path, "w") as f:
        json.dump(out, f)
    print("tokens", out["llava"]["tokens"], out["minigptv2"]["tokens"], "top", out["minigptv2"]["first_step"]["top_ids"][:3])


if __name__ == "__main__":
    main()
