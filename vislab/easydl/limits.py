"""EasyDL's data limits and the rules :func:`vislab.easydl.rules.check` applies, as data.

The values are restated from the spec (F2a, F2b, F9); :func:`rule_table` lists every rule
with its severity, the kinds it applies to, its limit and its spec section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

__all__ = [
    "LIMITS",
    "FORMATS",
    "EXTENSIONS",
    "NAME_PATTERNS",
    "COLUMNS",
    "Rule",
    "RULES",
    "finding",
    "rule_table",
    "archive_findings",
]

#: EasyDL's limits, restated from the spec (F2a, F2b, F9).
LIMITS = {
    "min_classes": 2,
    "max_classes": 1000,
    "min_images_per_class": 20,
    "recommended_images_per_class": 100,
    "max_images": 100_000,
    "min_detection_images": 4,
    "min_instances_per_label": 20,
    "max_file_bytes": 4 * 1024 * 1024,
    "max_aspect": 3.0,
    "max_side": 4096,  # the longest side must be below this
    "min_side": 30,  # the shortest side must be above this
    "max_zip_bytes": 5 * 1024**3,
    "max_zip_images": 100_000,
}
FORMATS = ("JPEG", "PNG", "BMP")
EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
NAME_PATTERNS = {
    "classification": re.compile(r"[A-Za-z0-9_]+"),
    "detection": re.compile(r"[A-Za-z0-9]+"),
}
COLUMNS = ["severity", "rule", "image", "label", "limit", "value", "message"]


@dataclass(frozen=True)
class Rule:
    """One rule: name, severity, the kinds it applies to, its limit and where it comes from.

    Examples
    --------
    >>> RULES[0].name
    'kind'
    """

    name: str
    severity: str
    kinds: str
    limit: str
    source: str


#: Every rule :func:`check` applies, in report order.
RULES = (
    Rule("kind", "error", "both", "dataset kind = model kind", "F2"),
    Rule("class_count", "error", "both", "2..1000 classes; 1..1000 labels", "F2a, F2b, F3"),
    Rule(
        "class_name",
        "error",
        "both",
        "[A-Za-z0-9_] (classification), [A-Za-z0-9] (detection)",
        "F2a, F2b",
    ),
    Rule(
        "images_per_class",
        "error/warning",
        "classification",
        ">= 20 images (error), >= 100 recommended (warning)",
        "F2a, F4",
    ),
    Rule("total_images", "error", "both", "<= 100,000; detection >= 4", "F2a, F2b, F9"),
    Rule("instances_per_label", "error", "detection", ">= 20 boxes per label", "F2b"),
    Rule("images_per_label", "warning", "detection", ">= 100 images per label", "F2b, F4"),
    Rule("unreadable", "error", "both", "a readable image file", "F2a"),
    Rule("decode", "error", "both", "decodes completely (decode=True)", "F2a"),
    Rule("format", "error", "both", "PNG, JPEG or BMP (.png .jpg .jpeg .bmp)", "F2a"),
    Rule("extension", "warning", "both", "the extension names the content's format", "F2a"),
    Rule("file_size", "error", "both", "<= 4 MiB", "F2a, F9"),
    Rule("min_side", "error", "both", "shortest side > 30 px", "F2a, F9"),
    Rule("max_side", "error", "both", "longest side < 4096 px", "F2a, F9"),
    Rule("aspect_ratio", "error", "both", "longest / shortest <= 3", "F2a, F9"),
    Rule("no_boxes", "warning", "detection", "every image has its instances boxed", "F2b"),
    Rule("box", "warning", "detection", "boxes inside the image, with an area", "F2b"),
    Rule("duplicate", "warning", "both", "each image once (copies leak into the test set)", "F4"),
    Rule("layout", "warning", "both", "files where EasyDL's upload format expects them", "F2a"),
    Rule("annotation", "error", "detection", "readable annotation files", "F2b"),
    Rule("class_merged", "warning", "both", "same-named classes of several zips merge", "F2a"),
    Rule("zip_size", "error", "both", "<= 5 GiB per zip", "F2a, F9"),
    Rule("zip_images", "error", "both", "<= 100,000 images per zip", "F2a"),
)


def finding(
    rule: str, severity: str, message: str, *, image=None, label=None, limit=None, value=None
) -> dict:
    """One row of a check report.

    Examples
    --------
    >>> finding("min_side", "error", "too small", image="a.jpg", limit=30, value=24)["value"]
    24
    """
    return {
        "severity": severity,
        "rule": rule,
        "image": image,
        "label": label,
        "limit": limit,
        "value": value,
        "message": message,
    }


def rule_table() -> pd.DataFrame:
    """Every rule :func:`check` applies, with its severity, kinds, limit and spec section.

    Examples
    --------
    >>> t = rule_table()
    >>> t.loc[t["rule"] == "min_side", "limit"].item()
    'shortest side > 30 px'
    """
    return pd.DataFrame(
        [
            {
                "rule": r.name,
                "severity": r.severity,
                "kinds": r.kinds,
                "limit": r.limit,
                "source": r.source,
            }
            for r in RULES
        ]
    )


def archive_findings(archive, nbytes: int, n_images: int) -> list[dict]:
    """Findings for one zip of an import: its size and image count against EasyDL's caps.

    Examples
    --------
    >>> archive_findings("big.zip", 6 * 1024**3, 10)[0]["rule"]
    'zip_size'
    """
    out = []
    if nbytes > LIMITS["max_zip_bytes"]:
        out.append(
            finding(
                "zip_size",
                "error",
                f"{archive} is {nbytes} bytes; EasyDL takes "
                "zips of at most 5 GiB: split it (Dataset.to_zip splits)",
                image=str(archive),
                limit=LIMITS["max_zip_bytes"],
                value=nbytes,
            )
        )
    if n_images > LIMITS["max_zip_images"]:
        out.append(
            finding(
                "zip_images",
                "error",
                f"{archive} holds {n_images} images; EasyDL "
                "takes at most 100,000 per zip: split it",
                image=str(archive),
                limit=LIMITS["max_zip_images"],
                value=n_images,
            )
        )
    return out
