"""Screenshots of every widget, live in JupyterLab + headless Chromium, for the README.

Usage (after ``bash .ci/browser-deps.sh``)::

    python tests/browser/make_screenshots.py [--out docs/screenshots]

Writes ``threshold_tuner.png``, ``similarity_cutoff.png``, ``confusion_matrix.png``,
``report_view.png`` and ``box_annotator.png``.  Everything is generated offline from the
sample set and scikit-image photographs, so the pictures are the same on every machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from tests.browser.lab import jupyter_lab, run_plan, write_notebook  # noqa: E402

CELLS = [
    """import os, tempfile
os.environ["VISLAB_HOME"] = tempfile.mkdtemp()
import numpy as np
import pandas as pd
from IPython.display import display
from PIL import Image, ImageEnhance, ImageFilter
from skimage import data
from vislab import baidu
from vislab.datasets.samples import sample_detections
from vislab.evaluate import match_detections
from vislab.widgets import (BoxAnnotator, ConfusionMatrixView, ReportView, SimilarityCutoff,
                            ThresholdTuner)
s = sample_detections(48, seed=4)""",
    """tuner = ThresholdTuner(s.truth, s.pred, images=s.images, threshold=0.5)
tuner""",
    """# Classification view of the same set: each true object cropped out, labelled with the
# detector's label for it (or nothing, when it missed the object).
m = match_detections(s.truth, s.pred, class_aware=False)
tp = m[m["match"] == "tp"]
crops, t_rows, p_rows = {}, [], []
for r in s.truth.itertuples():
    key = f"object_{r.id:03d}"
    crops[key] = s.images[r.image][int(r.y):int(r.y + r.h), int(r.x):int(r.x + r.w)]
    t_rows.append({"image": key, "label": r.label})
    hit = tp[tp["truth_id"] == r.id]
    if len(hit):
        p_rows.append({"image": key, "rank": 1, "label": hit.iloc[0]["label"],
                       "score": hit.iloc[0]["score"]})
truth_labels, pred_labels = pd.DataFrame(t_rows), pd.DataFrame(p_rows)
ConfusionMatrixView(truth_labels, pred_labels, images=crops)""",
    """ReportView(truth_labels, pred_labels)""",
    """def rgb(a):
    a = np.asarray(a)
    a = a.astype(np.uint8) * 255 if a.dtype == bool else a
    a = np.stack([a] * 3, axis=2) if a.ndim == 2 else a
    return Image.fromarray(a[..., :3].astype(np.uint8))
names = ["astronaut", "camera", "chelsea", "clock", "coffee", "coins", "colorwheel", "horse",
         "hubble_deep_field", "immunohistochemistry", "logo", "page", "brick", "grass",
         "gravel", "retina", "moon", "rocket", "text"]
photos = {n: rgb(getattr(data, n)()) for n in names}
gallery = {n: photos[n] for n in names[:16]}
edits = {"astronaut": lambda im: im.crop((150, 20, 330, 220)),
         "chelsea": lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT).crop((100, 0, 451, 250)),
         "coffee": lambda im: ImageEnhance.Brightness(im).enhance(0.3),
         "coins": lambda im: im.filter(ImageFilter.GaussianBlur(6)),
         "clock": lambda im: im.rotate(30),
         "colorwheel": lambda im: im.rotate(90, expand=True).crop((0, 0, 200, 200)),
         "immunohistochemistry": lambda im: ImageEnhance.Color(im).enhance(0.0),
         "brick": lambda im: im.crop((0, 0, 200, 200)),
         "page": lambda im: im.filter(ImageFilter.GaussianBlur(3))}
queries = {f"{n}_edited": e(gallery[n]) for n, e in edits.items()}
queries.update({n: photos[n] for n in ["moon", "rocket", "text"]})
search = baidu.ImageSearch()
added = search.similar_add(gallery, tags=[1])
matches = search.similar_search(queries, rn=16)
sign = dict(zip(added["image"], added["cont_sign"]))
relevant = pd.DataFrame({"query": [f"{n}_edited" for n in edits],
                         "cont_sign": [sign[n] for n in edits]})
SimilarityCutoff(relevant, matches, images={**gallery, **queries})""",
    """BoxAnnotator({k: s.images[k] for k in sorted(s.images)[:6]}, labels=list(s.classes),
             boxes=s.pred, min_score=0.4)""",
]

# (file name, CSS selector of the widget, JavaScript that is true once it has finished drawing)
SHOTS = [
    ("threshold_tuner.png", ".vislab-threshold-tuner", ".vislab-threshold-tuner .vislab-grid"),
    ("confusion_matrix.png", ".vislab-confusion-matrix", ".vislab-confusion-matrix .vislab-grid"),
    ("report_view.png", ".vislab-report-view", ".vislab-report-view table"),
    (
        "similarity_cutoff.png",
        ".vislab-similarity-cutoff",
        ".vislab-similarity-cutoff .vislab-grid",
    ),
    ("box_annotator.png", ".vislab-box-annotator", ".vislab-box-annotator img"),
]


def ready(selector: str) -> str:
    return f"""() => {{
  const el = document.querySelector({selector!r});
  if (!el) return false;
  if (el.tagName === 'IMG') return el.complete && el.naturalWidth > 0;
  return true;
}}"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshots"))
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vislab-shots-") as tmp:
        tmp = Path(tmp)
        root = tmp / "lab"
        root.mkdir()
        write_notebook(root / "widgets.ipynb", CELLS)
        with jupyter_lab(root) as lab:
            steps = [
                {"op": "goto", "url": lab.notebook_url("widgets.ipynb"), "timeoutMs": 60000},
                {"op": "waitKernelIdle", "timeoutMs": 120000},
                {"op": "command", "id": "application:toggle-left-area", "optional": True},
                {"op": "command", "id": "notebook:run-all-cells"},
            ]
            for name, selector, done in SHOTS:
                steps += [
                    {"op": "waitFor", "js": ready(done), "timeoutMs": 180000},
                    {"op": "scrollIntoView", "selector": selector},
                    {"op": "sleep", "ms": 800},
                    {"op": "screenshot", "path": str(out / name), "selector": selector},
                ]
            run_plan(
                {"url": lab.url, "viewport": {"width": 1280, "height": 2400}, "steps": steps},
                workdir=tmp,
                timeout=420,
            )
    for name, _, _ in SHOTS:
        shrink(out / name)
        print(out / name)
    return 0


def shrink(path: Path) -> None:
    """256-colour PNG: a README picture at a third of the bytes, still sharp text."""
    from PIL import Image

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


if __name__ == "__main__":
    raise SystemExit(main())
