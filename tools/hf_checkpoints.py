"""Turning a random-weight Hugging Face checkpoint into the GGUF pair users download, with llama.cpp's own
convert_hf_to_gguf.py (tools/llamacpp_convert.py runs it), for the small VLMs' test models.
"""
import os
import subprocess
import sys
import tempfile


def convert(hf, converter, out, mmproj):
    """convert_hf_to_gguf.py on folder `hf` into `out` (F16), the language model or, with `mmproj`, the projector."""
    tool = os.path.join(os.path.dirname(os.path.abspath(__file__)), "llamacpp_convert.py")
    cmd = [sys.executable, tool, converter, hf, "--outfile", out, "--outtype", "f16"]
    if mmproj:
        cmd.append("--mmproj")
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_pair(models, name, version, write, title, keep=None):
    """MODELS/test-NAME.gguf and MODELS/mmproj-test-NAME.gguf from `write(folder)`'s checkpoint, unless those of
    `version` are there already. The folder is called `title` (the converter's general.name comes from it);
    `keep` names a folder to leave the checkpoint in instead."""
    stamp = os.path.join(models, f"test-{name}.version")
    text, proj = os.path.join(models, f"test-{name}.gguf"), os.path.join(models, f"mmproj-test-{name}.gguf")
    current = os.path.exists(stamp) and open(stamp).read() == version
    if not keep and current and os.path.exists(text) and os.path.exists(proj):
        return
    converter = os.path.join(models, "llama.cpp-converter")
    with tempfile.TemporaryDirectory() as tmp:
        hf = keep or os.path.join(tmp, title)
        write(hf)
        try:
            convert(hf, converter, text, mmproj=False)
            convert(hf, converter, proj, mmproj=True)
        except subprocess.CalledProcessError as e:
            sys.exit("convert_hf_to_gguf.py failed:\n" + e.stderr.decode(errors="replace")[-3000:])
    with open(stamp, "w") as f:
        f.write(version)


def make_mmproj(models, out_name, write):
    """MODELS/OUT_NAME, a projector alone from `write(folder)`'s checkpoint, unless it is there (the benchmark's
    full-depth towers)."""
    out = os.path.join(models, out_name)
    if os.path.exists(out):
        return
    with tempfile.TemporaryDirectory() as tmp:
        write(tmp)
        convert(tmp, os.path.join(models, "llama.cpp-converter"), out, mmproj=True)
