"""Runs llama.cpp's convert_hf_to_gguf.py (unpacked from the llama-cpp-python source package by
tools/fetch_vocabs.py) with Debian 12's PyTorch 1.13, which lacks dtypes the converter names in its lookup tables
(float8 kinds, uint16/32/64). Those names get stand-in objects that match no tensor: the checkpoints converted
here are float32, so the tables' other entries do all the work and the converter runs unchanged.

Usage: llamacpp_convert.py CONVERTER_FOLDER [convert_hf_to_gguf.py arguments ...]
"""
import os
import runpy
import sys

import torch


class _MissingDType:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name} (not in this PyTorch)"


for _name in ["float8_e4m3fn", "float8_e5m2", "float8_e8m0fnu", "float8_e4m3fnuz", "float8_e5m2fnuz",
              "uint16", "uint32", "uint64"]:
    if not hasattr(torch, _name):
        setattr(torch, _name, _MissingDType(_name))

folder = sys.argv[1]
sys.path.insert(0, os.path.join(folder, "gguf-py"))
sys.path.insert(0, folder)
sys.argv = [os.path.join(folder, "convert_hf_to_gguf.py")] + sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
