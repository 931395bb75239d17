"""One ONNX graph per trained version: the backbone and the trained head together.

Built with the ``onnx`` package's helper API from the committed backbone file and the head's
arrays in ``weights.npz`` (their meaning: :mod:`vislab.engine.training.runtime`).  Imported
only by :func:`vislab.easydl.export`, so ``onnx`` is needed only to export.

Graphs (opset 17, float32):

classification, recipe ``general``
    ``image (N, 3, 224, 224)`` -> backbone ``embedding`` -> L2-normalised -> standardised ->
    linear -> softmax -> (with "other") the distance rule -> ``probabilities (N, K)``.
classification, recipe ``fine``
    ``image (N, 3, 224, 224)`` and ``image_fine (N, 3, 448, 448)`` (the whole image squashed
    to both sizes): the 224 px embedding and the GeM (p = 3) pool of the 448 px view's
    stride-32 map, each normalised, concatenated, then the same head.  The backbone appears
    twice (224 and 448 inputs) sharing one set of weights.
detection
    ``image (1, 3, H, W)`` (the whole image resized and padded to a multiple of 32) -> the
    stride-8/16/32 maps -> per-cell features (the stride-32 projection as a 1 x 1
    convolution, centre-aligned bilinear upsampling, 3 x 3 edge-padded means) -> the MLP as
    two 1 x 1 convolutions -> ``head (1, K + 4, H/8, W/8)`` and the density head ->
    ``density (1, K, H/8, W/8)``.  Peak picking, box decoding and NMS run on those outputs
    in the runner (numpy), as the library decodes them.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from vislab.engine.backbone import MODEL_PATH
from vislab.engine.training.classifier import SOFTNESS
from vislab.engine.training.features import GEM_P

__all__ = ["build_graph", "OPSET"]

OPSET = 17


class _Graph:
    """Nodes and initializers added to a copy of the backbone's graph."""

    def __init__(self, backbone: onnx.ModelProto):
        self.model = backbone
        self.graph = backbone.graph
        self._n = 0

    def const(self, name: str, value) -> str:
        name = f"head/{name}"
        self.graph.initializer.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, inputs, **attrs) -> str:
        self._n += 1
        out = f"head/{op_type.lower()}_{self._n}"
        self.graph.node.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def unit_rows(self, x: str) -> str:
        """Rows over axis 1 scaled to unit length, as ``features.unit_rows`` (eps 1e-12)."""
        norm = self.op("ReduceL2", [x], axes=[1], keepdims=1)
        norm = self.op("Max", [norm, self.const(f"eps_{self._n}", np.float32(1e-12))])
        return self.op("Div", [x, norm])


def _backbone() -> onnx.ModelProto:
    model = onnx.load(str(MODEL_PATH))
    if {o.version for o in model.opset_import if o.domain in ("", "ai.onnx")} != {OPSET}:
        raise RuntimeError(f"{MODEL_PATH} is not opset {OPSET}; rebuild the export for it")
    return model


def _add_backbone_copy(g: _Graph, source: onnx.GraphProto, prefix: str, image: str) -> dict:
    """The backbone's nodes again, on input ``image``, sharing its weights; returns the map
    from the backbone's output names to this copy's."""
    shared = {init.name for init in source.initializer}
    rename = {source.input[0].name: image}

    def new(name):
        if not name or name in shared:
            return name
        return rename.setdefault(name, f"{prefix}{name}")

    for node in list(source.node):
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        copy.name = f"{prefix}{node.name}" if node.name else ""
        copy.input[:] = [new(n) for n in node.input]
        copy.output[:] = [new(n) for n in node.output]
        g.graph.node.append(copy)
    return {o.name: rename[o.name] for o in source.output}


def _classifier_head(g: _Graph, x: str, model) -> str:
    a = model.arrays
    z = g.op("Sub", [x, g.const("clf_mean", a["clf_mean"].astype(np.float32))])
    z = g.op("Div", [z, g.const("clf_scale", a["clf_scale"].astype(np.float32))])
    z = g.op(
        "MatMul", [z, g.const("clf_coef_t", np.ascontiguousarray(a["clf_coef"].T, np.float32))]
    )
    z = g.op("Add", [z, g.const("clf_intercept", a["clf_intercept"].astype(np.float32))])
    probs = g.op("Softmax", [z], axis=1)
    head = model.meta.get("head", {})
    if head.get("other_threshold") is None:
        return probs
    # The distance rule of Rejection.apply: r = sigmoid((threshold - max cos sim) / SOFTNESS).
    protos = np.ascontiguousarray(a["other_prototypes"].T, np.float32)
    sim = g.op("MatMul", [g.unit_rows(x), g.const("other_prototypes_t", protos)])
    sim = g.op("ReduceMax", [sim], axes=[1], keepdims=1)
    gap = g.op("Sub", [g.const("other_threshold", np.float32(head["other_threshold"])), sim])
    r = g.op("Sigmoid", [g.op("Div", [gap, g.const("softness", np.float32(SOFTNESS))])])
    keep = g.op("Sub", [g.const("one", np.float32(1.0)), r])
    onehot = np.zeros((1, len(model.classes)), np.float32)
    onehot[0, int(head["other_index"])] = 1.0
    return g.op("Add", [g.op("Mul", [probs, keep]), g.op("Mul", [r, g.const("onehot", onehot)])])


def _classification(g: _Graph, model, outs: dict) -> tuple[list, str]:
    recipe = model.meta.get("recipe", "general")
    if recipe == "general":
        return ["image"], g.unit_rows(outs["embedding"])
    if recipe != "fine":
        raise ValueError(f"cannot export the feature recipe {recipe!r}")
    # features._fine_features: the 224 px embedding and the GeM (p = 3) pool of the 448 px view's
    # stride-32 map, each normalised; the 448 px view runs a second copy of the backbone.
    source = onnx.GraphProto()
    source.CopyFrom(g.graph)
    whole = g.unit_rows(outs["embedding"])
    fine = _add_backbone_copy(g, _pruned(source, ["features_s32"]), "fine/", "image_fine")
    cube = g.op("Pow", [fine["features_s32"], g.const("gem_p", np.float32(GEM_P))])
    gem = g.op(
        "Pow",
        [
            g.op("ReduceMean", [cube], axes=[2, 3], keepdims=0),
            g.const("gem_inv", np.float32(1.0 / GEM_P)),
        ],
    )
    x = g.op("Concat", [whole, g.unit_rows(gem)], axis=1)
    return ["image", "image_fine"], x


def _pruned(graph: onnx.GraphProto, outputs: list[str]) -> onnx.GraphProto:
    """The nodes of ``graph`` that ``outputs`` need (initializers stay in the main graph)."""
    needed, keep = set(outputs), []
    for node in reversed(list(graph.node)):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(node.input)
    out = onnx.GraphProto()
    out.node.extend(reversed(keep))
    out.input.extend(graph.input[:1])
    out.output.extend(o for o in graph.output if o.name in outputs)
    out.initializer.extend(graph.initializer)  # names only: read to know what is shared
    return out


def _detection(g: _Graph, model, outs: dict) -> list[str]:
    a = model.arrays
    s8, s16, s32 = outs["features_s8"], outs["features_s16"], outs["features_s32"]
    comp = a["proj_components"].astype(np.float32)  # (k, 1280)
    bias = -(comp @ a["proj_mean"].astype(np.float32))
    proj = g.op(
        "Conv",
        [
            s32,
            g.const("proj_w", comp[:, :, None, None]),
            g.const("proj_b", bias.astype(np.float32)),
        ],
    )
    # grid.bilinear_resize: centre-aligned ("half_pixel"), edges clamped.
    resize = dict(mode="linear", coordinate_transformation_mode="half_pixel")
    empty = g.const("no_roi", np.zeros(0, np.float32))
    up16 = g.op("Resize", [s16, empty, g.const("x2", np.array([1, 1, 2, 2], np.float32))], **resize)
    up32 = g.op(
        "Resize", [proj, empty, g.const("x4", np.array([1, 1, 4, 4], np.float32))], **resize
    )
    fine = g.op("Concat", [s8, up16], axis=1)
    # uniform_filter(size 3, mode="nearest"): edge padding, then a 3 x 3 mean.
    pads = g.const("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64))
    padded = g.op("Pad", [fine, pads], mode="edge")
    context = g.op("AveragePool", [padded], kernel_shape=[3, 3], strides=[1, 1])
    cells = g.op("Concat", [fine, context, up32], axis=1)

    def standardised(prefix):
        mean = a[f"{prefix}mean"].astype(np.float32)[None, :, None, None]
        scale = a[f"{prefix}scale"].astype(np.float32)[None, :, None, None]
        return g.op(
            "Div",
            [
                g.op("Sub", [cells, g.const(f"{prefix}mean4", mean)]),
                g.const(f"{prefix}scale4", scale),
            ],
        )

    def conv1x1(x, name, w, b):
        w = np.ascontiguousarray(np.asarray(w, np.float32).T)[:, :, None, None]
        return g.op(
            "Conv", [x, g.const(f"{name}_w", w), g.const(f"{name}_b", np.asarray(b, np.float32))]
        )

    hidden = g.op("Relu", [conv1x1(standardised("det_"), "det1", a["det_w1"], a["det_b1"])])
    head = conv1x1(hidden, "det2", a["det_w2"], a["det_b2"])
    density = conv1x1(
        standardised("density_"), "density", a["density_coef"], a["density_intercept"]
    )
    return [head, density]


def build_graph(model) -> onnx.ModelProto:
    """The self-contained ONNX model of a :class:`~vislab.engine.training.store.TrainedModel`.

    Parameters
    ----------
    model : TrainedModel

    Returns
    -------
    onnx.ModelProto
        Inputs and outputs as in the module docstring; checked with ``onnx.checker``.

    Examples
    --------
    >>> build_graph  # doctest: +ELLIPSIS
    <function build_graph at ...>
    """
    g = _Graph(_backbone())
    outs = {o.name: o.name for o in g.graph.output}
    if model.kind == "classification":
        inputs, x = _classification(g, model, outs)
        results = [(_classifier_head(g, x, model), "probabilities", ["N", len(model.classes)])]
        shapes = {"image": ["N", 3, 224, 224], "image_fine": ["N", 3, 448, 448]}
    else:
        head, density = _detection(g, model, outs)
        k = len(model.classes)
        results = [(head, "head", [1, k + 4, "h", "w"]), (density, "density", [1, k, "h", "w"])]
        inputs, shapes = ["image"], {"image": [1, 3, "H", "W"]}
    for value, name, _dims in results:
        g.graph.node.append(helper.make_node("Identity", [value], [name]))
    del g.graph.output[:]
    g.graph.output.extend(
        helper.make_tensor_value_info(name, TensorProto.FLOAT, dims) for _, name, dims in results
    )
    del g.graph.input[:]
    g.graph.input.extend(
        helper.make_tensor_value_info(n, TensorProto.FLOAT, shapes[n]) for n in inputs
    )
    g.graph.name = f"vislab_easydl_{model.name}_{model.version}"
    del g.graph.value_info[:]
    pruned = _pruned(g.graph, [name for _, name, _ in results])
    del g.graph.node[:]
    g.graph.node.extend(pruned.node)
    used = {n for node in g.graph.node for n in node.input}
    kept = [init for init in g.graph.initializer if init.name in used]
    del g.graph.initializer[:]
    g.graph.initializer.extend(kept)
    g.model.producer_name = "vislab.easydl.export"
    onnx.checker.check_model(g.model)
    return g.model
