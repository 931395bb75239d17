"""Where the shared detection fixtures live, and the oracle numbers of their README.

The fixtures (real COCO / VOC ground truth and detections) are test data outside the
repository: ``../shared/fixtures/detection/`` next to the repo, or the folder named by the
environment variable ``VISLAB_FIXTURES`` (the ``fixtures`` folder or its ``detection``
subfolder).  Tests that need them skip with a clear reason when they are absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def fixtures_dir() -> Path:
    env = os.environ.get("VISLAB_FIXTURES")
    if env:
        base = Path(env)
        return base / "detection" if (base / "detection").is_dir() else base
    return (REPO / ".." / "shared" / "fixtures" / "detection").resolve()


def require(relpath: str) -> Path:
    path = fixtures_dir() / relpath
    if not path.exists():
        pytest.skip(
            f"detection fixture {relpath} not found under {fixtures_dir()} "
            "(set VISLAB_FIXTURES or place the shared fixtures next to the repo)"
        )
    return path


# (truth file, results file, README bbox stats, tolerance of the printed digits)
SETS = {
    "cocoapi-val2014-100": (
        "cocoapi-val2014-100/instances_val2014_100.json",
        "cocoapi-val2014-100/instances_val2014_fakebbox100_results.json",
        [
            0.504580698724963,
            0.696972724729958,
            0.572981666990482,
            0.585625720941044,
            0.519399694803672,
            0.501397898634747,
            0.386812779645781,
            0.593679576284200,
            0.595352982877607,
            0.639810962611344,
            0.566420597899431,
            0.564290598290598,
        ],
        1e-9,
    ),
    "rodm-cocoapi-sampled": (
        "rodm-cocoapi-sampled/sampled_gts_bbox_area.json",
        "rodm-cocoapi-sampled/sampled_bbox_results.json",
        [
            0.503647,
            0.696973,
            0.571667,
            0.593252,
            0.557991,
            0.489363,
            0.386813,
            0.593680,
            0.595353,
            0.654764,
            0.603130,
            0.553744,
        ],
        5e-7,  # the README prints six digits for this set
    ),
    "rodm-voc2012-100": (
        "rodm-voc2012-100/instances_v2.json",
        "rodm-voc2012-100/coco_dets_remapped_results.json",
        [
            0.346958186266609,
            0.610029680531517,
            0.353714479204606,
            0.075181185191409,
            0.339482094106713,
            0.497880926073570,
            0.373504911754912,
            0.520647200022200,
            0.522570276945277,
            0.158333333333333,
            0.446662109820005,
            0.580922619047619,
        ],
        1e-9,
    ),
    "cartucho-map": (
        "cartucho-map/cartucho_gt_coco.json",
        "cartucho-map/cartucho_dets_coco_results.json",
        [
            0.149491657132368,
            0.312811108905917,
            0.122227707513707,
            0.045132013201320,
            0.083531952142695,
            0.268648673761398,
            0.159852618541725,
            0.185945974416875,
            0.185945974416875,
            0.047291666666667,
            0.113117565767566,
            0.306811720319090,
        ],
        1e-9,
    ),
}
