#!/usr/bin/env python3
"""Converts dlib's face recognition ResNet (`dlib_face_recognition_resnet_model_v1.dat`, from
the PyPI package `face_recognition_models`, CC0 / public domain) into an ONNX graph.

No dlib build is needed: the script reads dlib's serialisation of the network directly
(integers, floats, strings and tensors as dlib's `serialize` writes them) and rebuilds the
network it describes, `anet_type` of dlib's `dnn_face_recognition_ex.cpp`:

    input 150x150 RGB, (pixel - avg) / 256 per channel
    con 32 7x7 /2, affine, relu, max_pool 3x3 /2
    level 4: 3 x residual(32); level 3: residual_down(64) + 3 x residual(64)
    level 2: residual_down(128) + 2 x residual(128); level 1: residual_down(256) + 2 x residual(256)
    level 0: residual_down(256); global average pool; fc 128 without bias

A residual block is con 3x3, affine, relu, con 3x3, affine, added to its input, relu. A
"down" block starts with a stride-2 convolution and adds a 2x2 average pool of its input;
dlib's `add_prev` zero-pads the smaller operand (channels and, at 8x8 -> 3x3 vs 4x4, space),
which the graph reproduces with Pad. Every affine layer is folded into its convolution.

The ONNX input is `image` (1x3x150x150, NCHW, RGB) in dlib's input scaling; the manifest's
mean/std carry that scaling, so the graph takes what the Rust pipeline feeds any embedder.
Output `embedding`: 1x128, not normalised (dlib compares Euclidean distances of these raw
vectors; the pipeline L2-normalises and compares cosines, which is monotone in them only
approximately — measured in models/README.md).

Usage: dlib_to_onnx.py [DAT] [OUT.onnx] [--check]
  --check: compare against dlib's own `compute_face_descriptor` on aligned chips of the test
  photos (needs the `dlib-bin` wheel and face_recognition_models; see requirements-dlib.txt).
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Reader:
    """dlib's serialisation primitives (dlib/serialize.h, dlib/dnn/tensor.h)."""

    def __init__(self, data):
        self.d = data
        self.p = 0

    def byte(self):
        b = self.d[self.p]
        self.p += 1
        return b

    def int(self):
        # One control byte: 0x80 = negative, low nibble = number of little-endian bytes.
        c = self.byte()
        n = c & 0x0F
        if n > 8:
            raise ValueError(f"bad integer control byte {c:#x} at {self.p - 1}")
        v = int.from_bytes(self.d[self.p:self.p + n], "little")
        self.p += n
        return -v if c & 0x80 else v

    def float(self):
        # float_details: int64 mantissa, int16 exponent -> mantissa * 2^exponent.
        m = self.int()
        e = self.int()
        return float(np.ldexp(float(m), e))

    def bool(self):
        b = self.byte()
        if b not in (0, 1, 48, 49):
            raise ValueError(f"bad bool {b} at {self.p - 1}")
        return b in (1, 49)

    def str(self):
        n = self.int()
        s = self.d[self.p:self.p + n].decode("ascii")
        self.p += n
        return s

    def tensor(self):
        version = self.int()
        if version != 2:
            raise ValueError(f"tensor version {version} at {self.p}")
        dims = [self.int() for _ in range(4)]
        count = int(np.prod(dims))
        arr = np.frombuffer(self.d, "<f4", count, self.p).reshape(dims).copy()
        self.p += 4 * count
        return arr

    def alias(self):
        if self.int() != 1:
            raise ValueError("alias_tensor version")
        return [self.int() for _ in range(4)]


def read_layer(r):
    """One layer's details, as dlib's `serialize(layer_details)` writes them."""
    name = r.str()
    if name == "con_4":
        params = r.tensor()
        nf, nr, nc, sy, sx, py, px = (r.int() for _ in range(7))
        filt, bias = r.alias(), r.alias()
        for _ in range(4):
            r.float()  # learning-rate and weight-decay multipliers
        flat = params.ravel()
        k = int(np.prod(filt)) // nf
        w = flat[:nf * k].reshape(nf, k // (nr * nc), nr, nc)
        b = flat[nf * k:nf * k + int(np.prod(bias))] if np.prod(bias) else np.zeros(nf, np.float32)
        return {"op": "con", "w": w, "b": b, "stride": (sy, sx), "pad": (py, px)}
    if name == "affine_":
        params = r.tensor()
        g, _ = r.alias(), r.alias()
        mode = r.int()
        flat = params.ravel()
        n = int(np.prod(g))
        return {"op": "affine", "gamma": flat[:n], "beta": flat[n:2 * n], "mode": mode}
    if name == "relu_":
        return {"op": "relu"}
    if name in ("max_pool_2", "avg_pool_2"):
        nr, nc, sy, sx, py, px = (r.int() for _ in range(6))
        return {"op": name[:-2], "size": (nr, nc), "stride": (sy, sx), "pad": (py, px)}
    if name == "add_prev_":
        return {"op": "add_prev"}
    if name == "fc_2":
        n_out, n_in = r.int(), r.int()
        params = r.tensor()
        r.alias()
        r.alias()
        bias_mode = r.int()
        for _ in range(4):
            r.float()
        w = params.ravel()[:n_in * n_out].reshape(n_in, n_out)
        return {"op": "fc", "w": w, "bias_mode": bias_mode}
    raise ValueError(f"unknown layer {name!r} at {r.p}")


def parse(data):
    """Layers in forward order (input first), plus the input's mean and size."""
    r = Reader(data)
    if r.int() != 1:
        raise ValueError("add_loss_layer version")
    loss = r.str()
    if loss != "loss_metric_2":
        raise ValueError(f"expected loss_metric_2, found {loss}")
    r.float()  # margin
    r.float()  # distance threshold
    # The wrappers nest outer -> inner, each writing its version before its subnet: add_layer
    # 2, tag/skip 1, the add_layer holding the input layer 3 (dlib's specialisation).
    versions = []
    while True:
        v = r.int()
        versions.append(v)
        if v == 3:
            break
        if v not in (1, 2):
            raise ValueError(f"unexpected wrapper version {v}")
    name = r.str()
    if name != "input_rgb_image_sized":
        raise ValueError(f"expected input_rgb_image_sized, found {name}")
    avg = [r.float() for _ in range(3)]
    size = (r.int(), r.int())
    layers = []
    n_layers = sum(1 for v in versions if v in (2, 3))
    for i in range(n_layers):
        layers.append(read_layer(r))
        # this_layer_setup_called, gradient_input_is_stale, get_output_and_gradient_input_disabled
        # (written as the characters '0'/'1'), then x_grad, cached_output and params_grad, all
        # empty in a saved model; the add_layer holding the input adds its sample expansion factor.
        for _ in range(3):
            r.bool()
        for _ in range(3):
            if r.tensor().size:
                raise ValueError("unexpected non-empty gradient/cache tensor")
        if i == 0 and r.int() != 1:
            raise ValueError("sample expansion factor")
    if r.p != len(data):
        raise ValueError(f"{len(data) - r.p} trailing bytes")
    return layers, avg, size


class Graph:
    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, base):
        self.n += 1
        return f"{base}_{self.n}"

    def const(self, arr, base):
        nm = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), nm))
        return nm

    def op(self, op, inputs, base=None, **attrs):
        out = self.name(base or op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out


def build(layers, avg, size):
    """The ONNX graph of anet_type; returns the model and a trace of tensor shapes."""
    g = Graph()
    it = iter(layers)
    shape = [3, size[0], size[1]]

    def take(op):
        l = next(it)
        if l["op"] != op:
            raise ValueError(f"expected {op}, found {l['op']}")
        return l

    def conv_affine(x, shape):
        c, a = take("con"), take("affine")
        w = c["w"] * a["gamma"][:, None, None, None]
        b = c["b"] * a["gamma"] + a["beta"]
        (sy, sx), (py, px) = c["stride"], c["pad"]
        kh, kw = w.shape[2:]
        y = g.op("Conv", [x, g.const(w.astype(np.float32), "w"), g.const(b.astype(np.float32), "b")],
                 strides=[sy, sx], pads=[py, px, py, px], kernel_shape=[kh, kw])
        oh = (shape[1] + 2 * py - kh) // sy + 1
        ow = (shape[2] + 2 * px - kw) // sx + 1
        return y, [w.shape[0], oh, ow]

    def pool(x, shape, op):
        p = take(op)
        (kh, kw), (sy, sx), (py, px) = p["size"], p["stride"], p["pad"]
        if (py, px) != (0, 0):
            raise ValueError("padded pooling is not reproduced")
        onnx_op = "MaxPool" if op == "max_pool" else "AveragePool"
        y = g.op(onnx_op, [x], kernel_shape=[kh, kw], strides=[sy, sx])
        return y, [shape[0], (shape[1] - kh) // sy + 1, (shape[2] - kw) // sx + 1]

    def pad_to(x, shape, target):
        extra = [t - s for s, t in zip(shape, target)]
        if not any(extra):
            return x
        pads = g.const(np.array([0, 0, 0, 0, 0, *extra], np.int64), "pads")
        return g.op("Pad", [x, pads])

    def add(a, sa, b, sb):
        t = [max(p, q) for p, q in zip(sa, sb)]
        return g.op("Add", [pad_to(a, sa, t), pad_to(b, sb, t)]), t

    def residual(x, shape, down):
        y, s = conv_affine(x, shape)
        take("relu")
        y = g.op("Relu", [y])
        y, s = conv_affine(y, s)
        if down:
            x, shape = pool(x, shape, "avg_pool")
        take("add_prev")
        y, s = add(y, s, x, shape)
        take("relu")
        return g.op("Relu", [y]), s

    x, shape = conv_affine("image", shape)
    take("relu")
    x = g.op("Relu", [x])
    x, shape = pool(x, shape, "max_pool")
    trace = [("stem", shape)]
    for n, (width, down) in enumerate([(32, 0), (32, 0), (32, 0),
                                       (64, 1), (64, 0), (64, 0), (64, 0),
                                       (128, 1), (128, 0), (128, 0),
                                       (256, 1), (256, 0), (256, 0),
                                       (256, 1)]):
        x, shape = residual(x, shape, bool(down))
        if shape[0] != width:
            raise ValueError(f"block {n}: {shape[0]} channels, expected {width}")
        trace.append((f"block{n}", shape))
    p = take("avg_pool")
    if p["size"] != (0, 0):
        raise ValueError("expected avg_pool_everything")
    x = g.op("GlobalAveragePool", [x])
    x = g.op("Flatten", [x])
    fc = take("fc")
    if fc["bias_mode"] != 1:  # dlib: FC_HAS_BIAS = 0, FC_NO_BIAS = 1
        raise ValueError("expected fc_no_bias")
    out = "embedding"
    g.nodes.append(helper.make_node("MatMul", [x, g.const(fc["w"].astype(np.float32), "fc")], [out], name="fc"))
    rest = list(it)
    if rest:
        raise ValueError(f"{len(rest)} layers left over")
    graph = helper.make_graph(
        g.nodes, "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, size[0], size[1]])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, fc["w"].shape[1]])],
        g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="gerbang scripts/models/dlib_to_onnx.py")
    model.ir_version = 8
    model.doc_string = ("dlib_face_recognition_resnet_model_v1 (Davis King, public domain / CC0), "
                        f"input (rgb - {avg}) / 256, NCHW")
    onnx.checker.check_model(model)
    return model, trace


def default_dat():
    import face_recognition_models
    return face_recognition_models.face_recognition_model_location()


def check(path, dat):
    """Our graph vs dlib's own network on aligned chips of the test photos."""
    import dlib
    import onnxruntime as ort
    from PIL import Image, ImageOps
    import face_recognition_models as frm
    det = dlib.get_frontal_face_detector()
    sp = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
    rec = dlib.face_recognition_model_v1(dat)
    sess = ort.InferenceSession(path)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../models/testdata")
    worst = 0.0
    n = 0
    for sub in ("people/obama", "people/biden", "strangers"):
        for f in sorted(os.listdir(os.path.join(root, sub))):
            img = np.asarray(ImageOps.exif_transpose(Image.open(os.path.join(root, sub, f))).convert("RGB"))
            for d in det(img, 1):
                chip = dlib.get_face_chip(img, sp(img, d), size=150, padding=0.25)
                ref = np.array(rec.compute_face_descriptor(chip))
                x = (chip.astype(np.float32) - np.array([122.782, 117.001, 104.298], np.float32)) / 256
                ours = sess.run(None, {"image": x.transpose(2, 0, 1)[None]})[0][0]
                worst = max(worst, float(np.abs(ours - ref).max()))
                n += 1
    print(f"{n} faces: max |ours - dlib| = {worst:.2e}")
    # A reference for the Rust tests: dlib's chip of obama.jpg and dlib's descriptor of it.
    img = np.asarray(Image.open(os.path.join(root, "people/obama/obama.jpg")).convert("RGB"))
    chip = dlib.get_face_chip(img, sp(img, max(det(img, 1), key=lambda d: d.area())), size=150, padding=0.25)
    out = os.path.join(root, "dlib")
    os.makedirs(out, exist_ok=True)
    Image.fromarray(chip).save(os.path.join(out, "obama_chip.png"))
    with open(os.path.join(out, "obama_chip.json"), "w") as f:
        json.dump({"source": "people/obama/obama.jpg, dlib.get_face_chip(size=150, padding=0.25)",
                   "dlib": dlib.__version__,
                   "descriptor": [round(float(v), 7) for v in rec.compute_face_descriptor(chip)]}, f)
        f.write("\n")
    return worst


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    dat = args[0] if args else default_dat()
    out = args[1] if len(args) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "../../models/onnx/dlib-resnet.onnx")
    with open(dat, "rb") as f:
        layers, avg, size = parse(f.read())
    print(f"{len(layers)} layers; input {size}, mean {[round(a, 3) for a in avg]}")
    model, trace = build(layers, avg, size)
    for name, shape in trace:
        print(f"  {name}: {shape}")
    onnx.save(model, out)
    print(f"wrote {out} ({os.path.getsize(out) / 1e6:.1f} MB)")
    if "--check" in sys.argv:
        worst = check(out, dat)
        if not worst < 1e-3:
            sys.exit("ONNX graph differs from dlib")


if __name__ == "__main__":
    main()
