"""Writing mmproj GGUF files (llama.cpp's clip.* conventions plus Glimpse's extensions, docs/mmproj-extensions.md)
from NumPy arrays. Used by the converters."""
import numpy as np
import gguf

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
# Learned inputs rather than weights of a product: kept exact.
F32_TENSORS = {"v.position_embd.weight", "mm.qformer.query"}


def write_mmproj(path, tensors, *, projector, image_size, patch_size, width, ff, blocks, heads, eps,
                 projection_dim, mean=CLIP_MEAN, std=CLIP_STD, activation=None, post_ln_eps=None,
                 use_gelu=False, scale_factor=None, name="mmproj", weight_dtype=np.float16, extra=None):
    """tensors: GGUF name -> float array (PyTorch layout). 2-D+ weights are stored as `weight_dtype`,
    1-D tensors (norms, biases, class embedding) as F32; the patch embedding stays 4-D.
    extra: more metadata, key -> string, bool, int (u32), float (f32), list of ints (i32, as LLaVA-1.6's converter
    writes its pinpoints) or a NumPy uint32 array (a u32 array)."""
    w = gguf.GGUFWriter(path, "clip")
    w.add_type("mmproj")
    w.add_name(name)
    w.add_string("clip.projector_type", projector)
    w.add_bool("clip.has_vision_encoder", True)
    w.add_bool("clip.use_gelu", use_gelu)
    w.add_uint32("clip.vision.image_size", image_size)
    w.add_uint32("clip.vision.patch_size", patch_size)
    w.add_uint32("clip.vision.embedding_length", width)
    w.add_uint32("clip.vision.feed_forward_length", ff)
    w.add_uint32("clip.vision.block_count", blocks)
    w.add_uint32("clip.vision.attention.head_count", heads)
    w.add_float32("clip.vision.attention.layer_norm_epsilon", eps)
    w.add_uint32("clip.vision.projection_dim", projection_dim)
    w.add_array("clip.vision.image_mean", [float(x) for x in mean])
    w.add_array("clip.vision.image_std", [float(x) for x in std])
    if activation is not None:
        w.add_string("clip.vision.feed_forward_activation", activation)
    if scale_factor is not None:
        w.add_uint32("clip.vision.projector.scale_factor", scale_factor)
    if post_ln_eps is not None:
        w.add_float32("clip.vision.post_ln_epsilon", post_ln_eps)
    for key, value in (extra or {}).items():
        if isinstance(value, str):
            w.add_string(key, value)
        elif isinstance(value, (bool, np.bool_)):
            w.add_bool(key, bool(value))
        elif isinstance(value, np.ndarray) and value.dtype == np.uint32:
            w.add_key_value(key, [int(v) for v in value], gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.UINT32)
        elif isinstance(value, int):
            w.add_uint32(key, value)
        elif isinstance(value, float):
            w.add_float32(key, value)
        else:
            w.add_array(key, [int(v) for v in value])
    for name, t in tensors.items():
        t = np.ascontiguousarray(t, dtype=np.float32)
        if t.ndim >= 2 and name not in F32_TENSORS:
            w.add_tensor(name, t.astype(weight_dtype))
        else:
            w.add_tensor(name, t)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def bicubic_resize_grid(grid, new_side):
    """torch.nn.functional.interpolate(mode='bicubic', align_corners=False) of a [side, side, C] grid,
    in NumPy (A = -0.75, border-clamped taps), so converting needs no torch."""
    side = grid.shape[0]
    a = -0.75

    def cubic(x):
        x = abs(x)
        if x <= 1:
            return ((a + 2) * x - (a + 3)) * x * x + 1
        if x < 2:
            return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        return 0.0

    scale = side / new_side
    weights = np.zeros((new_side, side))
    for o in range(new_side):
        src = (o + 0.5) * scale - 0.5
        f = int(np.floor(src))
        t = src - f
        for k in range(-1, 3):
            idx = min(max(f + k, 0), side - 1)
            weights[o, idx] += cubic(k - t)
    g = grid.astype(np.float64)
    out = np.einsum("ij,jkc->ikc", weights, g)
    out = np.einsum("ij,kjc->kic", weights, out)
    return out.astype(np.float32)
