"""Simple min/max quantizers for the K-quant block layouts (Q4_K, Q5_K, Q6_K), for test models.
They produce valid blocks (checked against the gguf package's dequantizer), not llama.cpp's optimised ones.
"""
import numpy as np

QK = 256


def _f16(x):
    return np.asarray(x, dtype=np.float16)


def _pack_scale_min(sc, mn):
    """Inverse of get_scale_min_k4: 8 six-bit scales and mins -> 12 bytes (per block, vectorised over rows)."""
    s = np.zeros(sc.shape[:-1] + (12,), dtype=np.uint8)
    for j in range(4):
        s[..., j] = sc[..., j] & 63
        s[..., j + 4] = mn[..., j] & 63
    for j in range(4, 8):
        s[..., j + 4] = (sc[..., j] & 0xF) | ((mn[..., j] & 0xF) << 4)
        s[..., j - 4] |= (sc[..., j] >> 4) << 6
        s[..., j] |= (mn[..., j] >> 4) << 6
    return s


def _scale_min_blocks(x, levels):
    """x: [n, 256] -> (d, dmin, sc[n,8], m[n,8], q[n,256]) with q in 0..levels."""
    sub = x.reshape(-1, 8, 32)
    lo = np.minimum(sub.min(axis=2), 0.0)
    hi = sub.max(axis=2)
    scale = (hi - lo) / levels
    mins = -lo
    d = _f16(scale.max(axis=1) / 63).astype(np.float32)
    dmin = _f16(mins.max(axis=1) / 63).astype(np.float32)
    sc = np.where(d[:, None] > 0, np.round(scale / np.where(d[:, None] > 0, d[:, None], 1)), 0).clip(0, 63).astype(np.uint8)
    m = np.where(dmin[:, None] > 0, np.round(mins / np.where(dmin[:, None] > 0, dmin[:, None], 1)), 0).clip(0, 63).astype(np.uint8)
    step = (d[:, None] * sc)[:, :, None]
    off = (dmin[:, None] * m)[:, :, None]
    q = np.where(step > 0, np.round((sub + off) / np.where(step > 0, step, 1)), 0).clip(0, levels).astype(np.uint8)
    return d, dmin, sc, m, q.reshape(-1, QK)


def quantize_q4_k(x):
    x = x.reshape(-1, QK).astype(np.float32)
    d, dmin, sc, m, q = _scale_min_blocks(x, 15)
    qs = np.zeros((x.shape[0], 128), dtype=np.uint8)
    for c in range(4):
        qs[:, 32 * c:32 * c + 32] = q[:, 64 * c:64 * c + 32] | (q[:, 64 * c + 32:64 * c + 64] << 4)
    return np.concatenate([_f16(d)[:, None].view(np.uint8), _f16(dmin)[:, None].view(np.uint8),
                           _pack_scale_min(sc, m), qs], axis=1)


def quantize_q5_k(x):
    x = x.reshape(-1, QK).astype(np.float32)
    d, dmin, sc, m, q = _scale_min_blocks(x, 31)
    qs = np.zeros((x.shape[0], 128), dtype=np.uint8)
    qh = np.zeros((x.shape[0], 32), dtype=np.uint8)
    for c in range(4):
        lo, hi = q[:, 64 * c:64 * c + 32], q[:, 64 * c + 32:64 * c + 64]
        qs[:, 32 * c:32 * c + 32] = (lo & 0xF) | ((hi & 0xF) << 4)
        qh |= ((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1))
    return np.concatenate([_f16(d)[:, None].view(np.uint8), _f16(dmin)[:, None].view(np.uint8),
                           _pack_scale_min(sc, m), qh, qs], axis=1)


def quantize_q6_k(x):
    x = x.reshape(-1, QK).astype(np.float32)
    groups = x.reshape(-1, 16, 16)
    amax = np.abs(groups).max(axis=2)
    scale = amax / 31
    d = _f16(scale.max(axis=1) / 127).astype(np.float32)
    sc = np.where(d[:, None] > 0, np.round(scale / np.where(d[:, None] > 0, d[:, None], 1)), 0).clip(-128, 127).astype(np.int8)
    step = (d[:, None] * sc)[:, :, None]
    q = (np.where(step != 0, np.round(groups / np.where(step != 0, step, 1)), 0).clip(-32, 31) + 32).astype(np.uint8)
    q = q.reshape(-1, QK)
    ql = np.zeros((x.shape[0], 128), dtype=np.uint8)
    qh = np.zeros((x.shape[0], 64), dtype=np.uint8)
    for h in range(2):
        q1, q2 = q[:, 128 * h:128 * h + 32], q[:, 128 * h + 32:128 * h + 64]
        q3, q4 = q[:, 128 * h + 64:128 * h + 96], q[:, 128 * h + 96:128 * h + 128]
        ql[:, 64 * h:64 * h + 32] = (q1 & 0xF) | ((q3 & 0xF) << 4)
        ql[:, 64 * h + 32:64 * h + 64] = (q2 & 0xF) | ((q4 & 0xF) << 4)
        qh[:, 32 * h:32 * h + 32] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6)
    return np.concatenate([ql, qh, sc.view(np.uint8), _f16(d)[:, None].view(np.uint8)], axis=1)


if __name__ == "__main__":
    # Round trip through the gguf package's (independent) dequantizer.
    from gguf import GGMLQuantizationType as T
    from gguf.quants import dequantize
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 512)).astype(np.float32)
    for name, fn, t in [("Q4_K", quantize_q4_k, T.Q4_K), ("Q5_K", quantize_q5_k, T.Q5_K), ("Q6_K", quantize_q6_k, T.Q6_K)]:
        packed = fn(x).reshape(64, -1)
        back = dequantize(packed, t).reshape(x.shape)
        err = np.abs(back - x).max() / np.abs(x).max()
        print(name, packed.shape, f"max relative error {err:.4f}")
