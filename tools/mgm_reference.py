"""Mini-Gemini's forward pass in PyTorch, ported from MGM's code (mgm/serve/cli.py's image preparation,
mgm/mm_utils.py's expand2square / process_images, MGMMetaForCausalLM.encode_images and unified_resampler in
mgm/model/mgm_arch.py, OpenCLIPVisionTower.backbone in openclip_encoder.py), on the libraries MGM uses:
transformers' CLIPImageProcessor and CLIPVisionModel, timm's ConvNeXt (its stem and stages, eval mode), and
transformers' GemmaForCausalLM fed `inputs_embeds` with the image rows spliced in where `<image>` was (so Gemma's
sqrt(width) scaling applies to them, as in MGM). fp32 on the CPU.

Used by tools/make_vision_fixtures.py (`--only mgm`: the "mgm" and "mgm_hd" entries of Tests/Fixtures/vision.json)
and tools/bench_mgm_vs_torch.py.

Environment: torch, transformers (4.40.2 here; Gemma needs >= 4.38), timm (0.9.16, MGM's pin; it imports
torchvision), e.g. `/usr/bin/python3 -m venv --system-site-packages .venv-ref-torch` over Debian's python3-torch and
python3-torchvision, then `.venv-ref-torch/bin/pip install transformers==4.40.2 timm==0.9.16 gguf safetensors`.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
CLIP_PREFIX = "model.vision_tower.vision_tower."
HR_PREFIX = "model.vision_tower_aux."


# ---------------------------------------------------------------------------------------------------------------
# Preprocessing (cli.py main; mm_utils.process_images with image_aspect_ratio "pad").

def expand2square(img, background):
    """The image centred on a square canvas of `background` (the wider side kept)."""
    w, h = img.size
    if w == h:
        return img
    side = max(w, h)
    canvas = Image.new(img.mode, (side, side), background)
    canvas.paste(img, ((side - w) // 2, (side - h) // 2))
    return canvas


def preprocess(img, *, image_size_aux, image_size=336, image_grid=1, image_global=False):
    """-> (hr [1,3,A,A], lr [1,3,G*S,G*S], views [V,3,S,S] in the order CLIP sees them: the tiles row-major, then the
    global view). The CLIP processor retargeted to image_size_aux gives the HR tensor; the LR one is interpolated
    from it."""
    from transformers import CLIPImageProcessor
    proc = CLIPImageProcessor(size={"shortest_edge": image_size_aux}, crop_size={"height": image_size_aux, "width": image_size_aux},
                              resample=Image.Resampling.BICUBIC, image_mean=list(CLIP_MEAN), image_std=list(CLIP_STD))
    square = expand2square(img.convert("RGB"), tuple(int(x * 255) for x in CLIP_MEAN))
    hr = torch.from_numpy(proc.preprocess(square, return_tensors="np")["pixel_values"][0])[None].float()
    lr = F.interpolate(hr, size=[image_size * image_grid] * 2, mode="bilinear", align_corners=False)
    if image_grid < 2:
        return hr, lr, lr
    views = lr.reshape(3, image_grid, image_size, image_grid, image_size).permute(1, 3, 0, 2, 4)
    views = views.reshape(-1, 3, image_size, image_size)
    if image_global:
        views = torch.cat([views, F.interpolate(lr, size=[image_size] * 2, mode="bilinear", align_corners=False)])
    return hr, lr, views.contiguous()


# ---------------------------------------------------------------------------------------------------------------
# The modules, built from a state dict in MGM's key names.

def _load(module, weights, allow_missing=()):
    missing, unexpected = module.load_state_dict(weights, strict=False)
    assert not unexpected, unexpected
    assert all(any(a in m for a in allow_missing) for m in missing), missing


def build_clip(sd, heads=16, eps=1e-5):
    from transformers import CLIPVisionConfig, CLIPVisionModel
    v = {k[len(CLIP_PREFIX):]: torch.from_numpy(np.asarray(a, np.float32)) for k, a in sd.items() if k.startswith(CLIP_PREFIX)}
    d = v["vision_model.embeddings.class_embedding"].shape[0]
    patch = v["vision_model.embeddings.patch_embedding.weight"].shape[-1]
    side = int(round((v["vision_model.embeddings.position_embedding.weight"].shape[0] - 1) ** 0.5))
    layers = 1 + max(int(k.split(".")[3]) for k in v if k.startswith("vision_model.encoder.layers."))
    cfg = CLIPVisionConfig(hidden_size=d, intermediate_size=v["vision_model.encoder.layers.0.mlp.fc1.weight"].shape[0],
                           num_hidden_layers=layers, num_attention_heads=heads, image_size=side * patch, patch_size=patch,
                           hidden_act="quick_gelu", layer_norm_eps=eps)
    model = CLIPVisionModel(cfg).eval()
    if "vision_model.post_layernorm.weight" not in v:  # not used at feature layer -2 either way
        v["vision_model.post_layernorm.weight"], v["vision_model.post_layernorm.bias"] = torch.ones(d), torch.zeros(d)
    _load(model, v, allow_missing=("position_ids",))
    return model


def build_convnext(sd, prefix=HR_PREFIX + "vision_"):
    """timm's ConvNeXt at the checkpoint's depths and widths; only its stem and stages are used (MGM sets norm_pre
    and the head to None). eval(): no drop path."""
    from timm.models.convnext import ConvNeXt
    t = {k[len(prefix):]: torch.from_numpy(np.asarray(a, np.float32)) for k, a in sd.items() if k.startswith(prefix)}
    dims = [t["stem.0.weight"].shape[0]] + [t[f"stages.{s}.downsample.1.weight"].shape[0] for s in (1, 2, 3)]
    depths = [1 + max(int(k.split(".")[3]) for k in t if k.startswith(f"stages.{s}.blocks.")) for s in range(4)]
    model = ConvNeXt(depths=depths, dims=dims, num_classes=0, global_pool="", drop_path_rate=0.1).eval()
    model.norm_pre, model.head = None, None
    missing, unexpected = model.load_state_dict(t, strict=False)
    assert not unexpected and not [m for m in missing if m.startswith(("stem.", "stages."))], (missing, unexpected)
    return model


class Mining(nn.Module):
    """MGM's vlm_uni_{query,aux,val}_projector (LayerNorm + Linear each) and mm_projector (mlp2x_gelu)."""

    def __init__(self, sd):
        super().__init__()
        g = lambda k: torch.from_numpy(np.asarray(sd[k], np.float32))
        c, ca, d = g("model.vlm_uni_query_projector.1.weight").shape[0], g("model.vlm_uni_aux_projector.0.weight").shape[0], \
            g("model.mm_projector.0.weight").shape[0]
        self.vlm_uni_query_projector = nn.Sequential(nn.LayerNorm(c), nn.Linear(c, c))
        self.vlm_uni_aux_projector = nn.Sequential(nn.LayerNorm(ca), nn.Linear(ca, c))
        self.vlm_uni_val_projector = nn.Sequential(nn.LayerNorm(ca), nn.Linear(ca, c))
        self.mm_projector = nn.Sequential(nn.Linear(c, d), nn.GELU(), nn.Linear(d, d))
        _load(self, {k[len("model."):]: g(k) for k in sd if k.startswith(("model.vlm_uni_", "model.mm_projector."))})
        self.eval()


class MGMReference:
    """The image path and the decoder's first step, on a state dict in MGM's names (make_test_mgm.mgm_state_dict)."""

    def __init__(self, sd, *, image_size_aux, image_grid=1, image_global=False, llm=None):
        self.sd = sd
        self.image_size_aux, self.image_grid, self.image_global = image_size_aux, image_grid, image_global
        self.clip = build_clip(sd)
        self.convnext = build_convnext(sd)
        self.mining = Mining(sd)
        self.llm = llm  # dict of GemmaConfig fields; built on first use

    # --- the towers ---

    def clip_features(self, views, select_layer=-2):
        """CLIPVisionTower.feature_select: hidden_states[select_layer], the class token dropped."""
        out = self.clip(pixel_values=views, output_hidden_states=True)
        return out.hidden_states[select_layer][:, 1:]

    def convnext_stages(self, hr):
        x = self.convnext.stem(hr)
        stages = []
        for stage in self.convnext.stages:
            x = stage(x)
            stages.append(x)
        return stages

    @staticmethod
    def fuse(stages):
        """OpenCLIPVisionTower.backbone: stages 1-3 resized bilinearly to stage 0's size, all concatenated."""
        size = stages[0].shape[-2:]
        return torch.cat([stages[0]] + [F.interpolate(s.float(), size=size, mode="bilinear", align_corners=False)
                                        for s in stages[1:]], dim=1)

    # --- mining (encode_images, unified_resampler) ---

    def unified_resampler(self, images, images_aux, want_attention=False):
        """images [B,N,C]; images_aux [B,Ca,H,W] -> (images, mined [B,N,C]): each token attends over its MxM block."""
        m = self.mining
        p = int(images.shape[1] ** 0.5)
        s = images_aux.shape[-1] // p
        aux = images_aux.permute(0, 2, 3, 1)
        aux = aux.reshape(len(aux), p, s, p, s, aux.shape[-1]).permute(0, 1, 3, 2, 4, 5)
        aux = aux.reshape(len(aux), p * p, s * s, aux.shape[-1]).contiguous()
        q = m.vlm_uni_query_projector(images)
        k = m.vlm_uni_aux_projector(aux)
        v = m.vlm_uni_val_projector(aux)
        att = (q[:, :, None] @ (k.transpose(-1, -2) / k.shape[-1] ** 0.5)).nan_to_num()
        probs = att.softmax(-1)
        mined = (probs @ v).mean(2)
        return (images, mined, probs[:, :, 0]) if want_attention else (images, mined)

    def encode(self, views, hr, keep=None):
        """encode_images: CLIP on the views, ConvNeXt on the HR tensor, mining per view, [global, tiles] order, then
        mm_projector. `keep`: a dict that receives the intermediate tensors."""
        keep = {} if keep is None else keep
        grid, glob = self.image_grid, self.image_global
        feats = self.clip_features(views)
        if glob:
            feat_global, feats = feats[-1:], feats[:-1]
        stages = self.convnext_stages(hr)
        aux = self.fuse(stages)
        keep["stages"], keep["hr_map"], keep["clip"] = stages, aux, feats
        probs = []
        if glob:
            aux_global = F.interpolate(aux.float(), scale_factor=1 / grid, mode="bilinear", align_corners=False)
            feat_global, mined_global, pg = self.unified_resampler(feat_global, aux_global, want_attention=True)
            keep["hr_map_global"] = aux_global
        if grid > 1:
            aux = aux.reshape(*aux.shape[:2], grid, aux.shape[-2] // grid, grid, aux.shape[-1] // grid)
            aux = aux.permute(0, 2, 4, 1, 3, 5).flatten(1, 2).flatten(0, 1).contiguous()
        feats, mined, pt = self.unified_resampler(feats, aux, want_attention=True)
        feats, mined = feats.reshape(1, -1, feats.shape[-1]), mined.reshape(1, -1, mined.shape[-1])
        probs = pt.reshape(-1, pt.shape[-1])
        if glob:
            feats, mined = torch.cat([feat_global, feats], dim=1), torch.cat([mined_global, mined], dim=1)
            probs = torch.cat([pg.reshape(-1, pg.shape[-1]), probs])
        keep["raw"], keep["mined_only"], keep["attention"] = feats[0], mined[0], probs
        x = feats + mined
        keep["mined"] = x[0]
        return self.mining.mm_projector(x)[0]

    def image_embeddings(self, img, keep=None):
        hr, lr, views = preprocess(img, image_size_aux=self.image_size_aux, image_grid=self.image_grid,
                                   image_global=self.image_global)
        keep = {} if keep is None else keep
        keep["hr"], keep["lr"], keep["views"] = hr, lr, views
        with torch.no_grad():
            return self.encode(views, hr, keep)

    # --- the decoder ---

    def gemma(self):
        if isinstance(self.llm, dict):
            from transformers import GemmaConfig, GemmaForCausalLM
            cfg = GemmaConfig(**self.llm)
            model = GemmaForCausalLM(cfg).eval()
            w = {k: torch.from_numpy(np.asarray(a, np.float32)) for k, a in self.sd.items()
                 if k.startswith(("model.embed_tokens.", "model.layers.", "model.norm."))}
            _load(model, w, allow_missing=("lm_head.weight", "rotary_emb"))
            model.tie_weights()
            assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
            self.llm = model
        return self.llm

    def first_step_logits(self, ids_before, image_embeddings, ids_after):
        """prepare_inputs_labels_for_multimodal for one image: the embeddings of the ids around it, the image rows
        between, positions 0..n-1, causal; the next-token logits at the last position."""
        model = self.gemma()
        emb = model.model.embed_tokens
        with torch.no_grad():
            x = torch.cat([emb(torch.tensor(ids_before)), image_embeddings, emb(torch.tensor(ids_after))])
            return model(inputs_embeds=x[None]).logits[0, -1]


def mining_reformulated(sd, raw, hr_map, patches, eps=1e-5):
    """The mining computed another way, in float64 NumPy, to check the port: the keys never formed
    (q·(Wk·n + bk) = (Wkᵀq)·n + q·bk, the last term alike for every candidate), the values' projection applied
    once to the attention-weighted normalized features. raw [N,C], hr_map [Ca,H,W] of one view -> mined [N,C]."""
    g = lambda k: np.asarray(sd[k], np.float64)
    ln = lambda x, w, b: (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps) * w + b
    x = np.asarray(raw, np.float64)
    c = x.shape[1]
    q = ln(x, g("model.vlm_uni_query_projector.0.weight"), g("model.vlm_uni_query_projector.0.bias")) @ \
        g("model.vlm_uni_query_projector.1.weight").T + g("model.vlm_uni_query_projector.1.bias")
    f = np.asarray(hr_map, np.float64)
    ca, side = f.shape[0], f.shape[-1]
    m = side // patches
    out = np.zeros_like(x)
    qk = q @ g("model.vlm_uni_aux_projector.1.weight")  # [N, Ca]
    for r in range(patches):
        block = f[:, r * m:(r + 1) * m, :].reshape(ca, m, patches, m).transpose(2, 1, 3, 0).reshape(patches, m * m, ca)
        nk = ln(block, g("model.vlm_uni_aux_projector.0.weight"), g("model.vlm_uni_aux_projector.0.bias"))
        nv = ln(block, g("model.vlm_uni_val_projector.0.weight"), g("model.vlm_uni_val_projector.0.bias"))
        rows = slice(r * patches, (r + 1) * patches)
        s = np.einsum("pc,pjc->pj", qk[rows], nk) / np.sqrt(c)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        mixed = np.einsum("pj,pjc->pc", s, nv)
        out[rows] = mixed @ g("model.vlm_uni_val_projector.1.weight").T + g("model.vlm_uni_val_projector.1.bias")
    return out
