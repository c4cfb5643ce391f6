"""Small test images of every kind the image loader must read, and the pixels Pillow decodes from them
(the reference): Tests/Fixtures/images/NAME.{jpg,png} and NAME.rgb (raw RGB bytes after convert("RGB")
and, for JPEGs, ImageOps.exif_transpose).

Usage: make_image_fixtures.py
"""
import io
import os

import numpy as np
from PIL import Image, ImageOps

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "images")


def scene(w=37, h=23):
    """A deterministic picture with edges and gradients (so decoders and orientations are distinguishable)."""
    y, x = np.mgrid[0:h, 0:w]
    r = (x * 255 // (w - 1)).astype(np.uint8)
    g = (y * 255 // (h - 1)).astype(np.uint8)
    b = (((x // 5 + y // 4) % 2) * 200 + 30).astype(np.uint8)
    img = np.stack([r, g, b], axis=-1)
    img[2:6, 3:9] = [250, 20, 20]
    return Image.fromarray(img, "RGB")


def exif_with_orientation(o):
    exif = Image.Exif()
    exif[0x0112] = o
    return exif.tobytes()


def save(name, image, fmt, **kw):
    image.save(os.path.join(OUT, name), fmt, **kw)
    reference(name)


def reference(name):
    path = os.path.join(OUT, name)
    fmt = "JPEG" if name.endswith(".jpg") else "PNG"
    with Image.open(path) as im:
        im.load()
        ref = ImageOps.exif_transpose(im) if fmt == "JPEG" else im
        with open(path + ".rgb", "wb") as f:
            f.write(ref.convert("RGB").tobytes())
        print(name, im.mode, im.size, "->", ref.size)


def main():
    os.makedirs(OUT, exist_ok=True)
    base = scene()
    save("baseline.jpg", base, "JPEG", quality=85)
    save("progressive.jpg", base, "JPEG", quality=85, progressive=True)
    save("gray.jpg", base.convert("L"), "JPEG", quality=90)
    save("cmyk.jpg", base.convert("CMYK"), "JPEG", quality=90)
    save("subsampled420.jpg", base, "JPEG", quality=75, subsampling=2)
    for o in range(2, 9):
        save(f"orientation{o}.jpg", base, "JPEG", quality=90, exif=exif_with_orientation(o))
    save("rgb.png", base, "PNG")
    save("palette.png", base.quantize(16), "PNG")
    save("gray.png", base.convert("L"), "PNG")
    save("gray-alpha.png", base.convert("LA"), "PNG")
    rgba = base.copy()
    rgba.putalpha(Image.linear_gradient("L").resize(base.size))
    save("rgba.png", rgba, "PNG")
    # Interlaced and 16-bit files are written with pypng (Pillow writes neither).
    import png
    rgb = np.asarray(base)
    h, w = rgb.shape[:2]
    with open(os.path.join(OUT, "interlaced.png"), "wb") as f:
        png.Writer(w, h, greyscale=False, interlace=True).write(f, rgb.reshape(h, w * 3).tolist())
    reference("interlaced.png")
    rgb16 = rgb.astype(np.uint16) * 257 + 3
    with open(os.path.join(OUT, "rgb16.png"), "wb") as f:
        png.Writer(w, h, greyscale=False, bitdepth=16).write(f, rgb16.reshape(h, w * 3).tolist())
    reference("rgb16.png")
    # 16-bit grey: Pillow's convert("RGB") clips 16-bit values to 255 (a known quirk that turns such images
    # white); Glimpse keeps the high byte, so this reference is computed directly.
    grey16 = np.asarray(base.convert("L"), dtype=np.uint16) * 257
    with open(os.path.join(OUT, "gray16.png"), "wb") as f:
        png.Writer(w, h, greyscale=True, bitdepth=16).write(f, grey16.tolist())
    high = (grey16 >> 8).astype(np.uint8)
    open(os.path.join(OUT, "gray16.png.rgb"), "wb").write(np.stack([high] * 3, axis=-1).tobytes())
    # 1-bit black and white.
    save("bilevel.png", base.convert("1"), "PNG")
    # Bad files: truncated JPEG and PNG, and text.
    # Cut inside the scan data: libjpeg then fills the rest with grey and only warns.
    data = open(os.path.join(OUT, "baseline.jpg"), "rb").read()
    open(os.path.join(OUT, "truncated.jpg.bad"), "wb").write(data[: len(data) - 200])
    data = open(os.path.join(OUT, "rgb.png"), "rb").read()
    open(os.path.join(OUT, "truncated.png.bad"), "wb").write(data[: len(data) // 2])
    open(os.path.join(OUT, "text.txt.bad"), "w").write("not an image\n")


if __name__ == "__main__":
    main()


def resize_fixtures():
    """Pillow's resize of baseline.jpg's pixels to several sizes: Tests/Fixtures/images/resize-WxH-FILTER.rgb."""
    src = Image.open(os.path.join(OUT, "baseline.jpg")).convert("RGB")
    big = src.resize((150, 90), Image.Resampling.NEAREST)  # a larger source, for shrinking tests
    big.save(os.path.join(OUT, "resize-source.png"))
    reference("resize-source.png")
    for (w, h) in [(336, 336), (64, 64), (448, 448), (17, 40), (150, 90), (224, 224)]:
        for name, f in [("bicubic", Image.Resampling.BICUBIC), ("bilinear", Image.Resampling.BILINEAR),
                        ("lanczos", Image.Resampling.LANCZOS)]:
            out = big.resize((w, h), f)
            open(os.path.join(OUT, f"resize-{w}x{h}-{name}.rgb"), "wb").write(out.tobytes())


if __name__ == "__main__":
    resize_fixtures()
