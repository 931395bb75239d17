"""Pascal VOC: the text format of many mAP tools, and the XML annotation files.

* :func:`read_voc_txt` — the text format of Cartucho/mAP and similar tools.  One ``.txt`` file
  per image, named after the image; one object per line, absolute pixels::

      class left top right bottom              # ground truth (optionally: ... difficult)
      class score left top right bottom        # detections

  Class names may contain spaces: the numbers are read from the right.  An empty file is an
  image without objects (or without detections).
* :func:`read_voc_xml` / :func:`write_voc_xml` — the XML files of Pascal VOC, LabelImg and
  EasyDL's detection export (one ``<annotation>`` per image: ``<filename>``, ``<size>`` and one
  ``<object>`` with ``<name>`` and ``<bndbox>`` per box).

Boxes are ``x = xmin, y = ymin, w = xmax - xmin, h = ymax - ymin`` in both formats, the values
as written (VOC's 1-based pixel convention is not shifted: the tools that read these files,
like Cartucho/mAP and LabelImg, do not shift either), so a write and a read give back the same
numbers.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd

from vislab.errors import InvalidFrame

__all__ = ["read_voc_txt", "read_voc_xml", "write_voc_xml"]

#: Largest XML annotation file read (a VOC file is a few kB; the cap bounds a wrong path).
MAX_XML_BYTES = 16 * 1024 * 1024


def _files(source, pattern: str = "*.txt") -> list[Path]:
    if isinstance(source, (str, Path)):
        p = Path(source)
        if p.is_dir():
            return sorted(p.glob(pattern))
        if p.is_file():
            return [p]
        raise FileNotFoundError(f"no such file or folder: {p}")
    return [Path(s) for s in source]


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def read_voc_txt(source, *, scores: bool | None = None, image_ext: str = "") -> pd.DataFrame:
    """Read VOC-style text files into a truth boxes frame or a boxes (predictions) frame.

    Parameters
    ----------
    source : str, Path or list of paths
        A folder of ``.txt`` files (read in name order), one file, or a list of files.
    scores : bool, optional
        ``True`` for detections (``class score left top right bottom``), ``False`` for truth.
        Default: detections if every line has a score column.
    image_ext : str, default ""
        Appended to each file's stem to form ``image`` (e.g. ``".jpg"`` so that ``image``
        names the picture file).

    Returns
    -------
    DataFrame
        Truth: ``image, label, x, y, w, h, difficult``.  Detections: ``image, label, score, x,
        y, w, h, error_code, error_msg``.  Boxes are ``x = left, y = top, w = right - left,
        h = bottom - top``.  ``attrs["images"]`` (``{"image": [...]}``) lists every file's
        image, including empty ones, in order.

    Raises
    ------
    vislab.errors.InvalidFrame
        A line that does not fit the format (the message names file and line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "img1.txt").write_text("potted plant 0.8 10 20 50 80\\ncat 0.3 0 0 5 5\\n")
    >>> read_voc_txt(d)[["image", "label", "score", "x", "w", "h"]].values.tolist()
    [['img1', 'potted plant', 0.8, 10.0, 40.0, 60.0], ['img1', 'cat', 0.3, 0.0, 5.0, 5.0]]
    """
    files = _files(source)
    parsed = []  # (image, tokens, file, line number)
    for f in files:
        image = f.stem + image_ext
        for no, line in enumerate(f.read_text(encoding="utf-8").splitlines(), start=1):
            tokens = line.split()
            if tokens:
                parsed.append((image, tokens, f, no))
    if scores is None:
        scores = bool(parsed) and all(
            len(t) >= 6 and t[-1] != "difficult" and all(_is_number(v) for v in t[-5:])
            for _, t, _, _ in parsed
        )
    n_num = 5 if scores else 4
    images, labels, nums, difficult = [], [], [], []
    for image, tokens, f, no in parsed:
        hard = not scores and tokens[-1] == "difficult"
        body = tokens[:-1] if hard else tokens
        if len(body) < n_num + 1 or not all(_is_number(v) for v in body[-n_num:]):
            want = "class score left top right bottom" if scores else "class left top right bottom"
            raise InvalidFrame(f"{f.name} line {no}: expected '{want}', got {' '.join(tokens)!r}")
        images.append(image)
        labels.append(" ".join(body[:-n_num]))
        nums.append([float(v) for v in body[-n_num:]])
        difficult.append(hard)
    arr = np.array(nums, dtype=float).reshape(len(nums), n_num)
    ltrb = arr[:, -4:]
    df = pd.DataFrame(
        {
            "image": pd.Series(images, dtype=str if images else object),
            "label": pd.Series(labels, dtype=str if labels else object),
        }
    )
    if scores:
        df["score"] = arr[:, 0]
    df["x"] = ltrb[:, 0]
    df["y"] = ltrb[:, 1]
    df["w"] = ltrb[:, 2] - ltrb[:, 0]
    df["h"] = ltrb[:, 3] - ltrb[:, 1]
    if scores:
        df["error_code"] = None
        df["error_msg"] = None
        df.attrs["kind"] = "boxes"
    else:
        df["difficult"] = np.array(difficult, dtype=bool)
        df.attrs["kind"] = "truth_boxes"
    df.attrs["images"] = {"image": [f.stem + image_ext for f in files]}
    return df


def _number(text: str | None, where: str) -> float:
    try:
        return float((text or "").strip())
    except ValueError:
        raise InvalidFrame(f"{where}: expected a number, got {text!r}") from None


def _parse_xml(path: Path) -> ET.Element:
    data = path.read_bytes() if path.stat().st_size <= MAX_XML_BYTES else None
    if data is None:
        raise InvalidFrame(f"{path.name} is larger than {MAX_XML_BYTES} bytes; not a VOC file")
    # Entity declarations are how an XML "billion laughs" bomb expands; VOC files have none.
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise InvalidFrame(f"{path.name}: DOCTYPE / ENTITY declarations are not accepted")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise InvalidFrame(f"{path.name} is not well-formed XML ({exc})") from None
    if root.tag != "annotation":
        raise InvalidFrame(f"{path.name}: the root element is <{root.tag}>, not <annotation>")
    return root


def read_voc_xml(source, *, recursive: bool = False) -> pd.DataFrame:
    """Read Pascal VOC XML annotation files into a truth boxes frame.

    Parameters
    ----------
    source : str, Path or list of paths
        A folder of ``.xml`` files (read in name order), one file, or a list of files.
    recursive : bool, default False
        Also read the ``.xml`` files of sub-folders (a folder only).

    Returns
    -------
    DataFrame
        ``image, label, x, y, w, h, difficult, truncated``.  ``image`` is the file's
        ``<filename>`` (its stem when there is none).  ``attrs["images"]`` (a dict of lists:
        ``image, width, height, annotation``) lists every file's image, including those with
        no object, with the ``<size>`` it declares (NaN when absent) and the XML path.

    Raises
    ------
    vislab.errors.InvalidFrame
        A file that is not a VOC annotation (the message names the file and element).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.xml").write_text(
    ...     "<annotation><filename>a.jpg</filename><size><width>64</width>"
    ...     "<height>48</height><depth>3</depth></size><object><name>cat</name>"
    ...     "<bndbox><xmin>5</xmin><ymin>6</ymin><xmax>25</xmax><ymax>16</ymax></bndbox>"
    ...     "</object></annotation>")
    >>> read_voc_xml(d)[["image", "label", "x", "y", "w", "h"]].values.tolist()
    [['a.jpg', 'cat', 5.0, 6.0, 20.0, 10.0]]
    """
    if recursive and isinstance(source, (str, Path)) and Path(source).is_dir():
        files = sorted(Path(source).rglob("*.xml"))
    else:
        files = _files(source, "*.xml")
    rows, listed = [], {"image": [], "width": [], "height": [], "annotation": []}
    for f in files:
        root = _parse_xml(f)
        name = (root.findtext("filename") or "").strip() or f.stem
        size = root.find("size")
        dims = [np.nan, np.nan]
        if size is not None:
            for i, key in enumerate(("width", "height")):
                if (size.findtext(key) or "").strip():
                    dims[i] = _number(size.findtext(key), f"{f.name} <size><{key}>")
        listed["image"].append(name)
        listed["width"].append(dims[0])
        listed["height"].append(dims[1])
        listed["annotation"].append(str(f))
        for k, obj in enumerate(root.iter("object"), start=1):
            where = f"{f.name} object {k}"
            label = (obj.findtext("name") or "").strip()
            box = obj.find("bndbox")
            if not label or box is None:
                raise InvalidFrame(f"{where}: needs <name> and <bndbox>")
            x0, y0, x1, y1 = (
                _number(box.findtext(key), f"{where} <{key}>")
                for key in ("xmin", "ymin", "xmax", "ymax")
            )
            rows.append(
                {
                    "image": name,
                    "label": label,
                    "x": x0,
                    "y": y0,
                    "w": x1 - x0,
                    "h": y1 - y0,
                    "difficult": (obj.findtext("difficult") or "0").strip() in ("1", "true"),
                    "truncated": (obj.findtext("truncated") or "0").strip() in ("1", "true"),
                }
            )
    columns = ["image", "label", "x", "y", "w", "h", "difficult", "truncated"]
    df = pd.DataFrame(rows, columns=columns).astype(
        {"x": float, "y": float, "w": float, "h": float, "difficult": bool, "truncated": bool}
    )
    df.attrs["kind"] = "truth_boxes"
    df.attrs["images"] = listed
    return df


def _text(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def write_voc_xml(truth: pd.DataFrame, folder, *, images=None) -> list[Path]:
    """Write a truth boxes frame as one Pascal VOC XML file per image.

    Parameters
    ----------
    truth : DataFrame
        ``image, label, x, y, w, h`` (+ ``difficult``, ``truncated``).
    folder : str or Path
        Where the files go: ``<image without its extension>.xml`` (an ``image`` holding
        ``/`` keeps its sub-folders).
    images : DataFrame or dict of lists, optional
        Every image to write, boxes or not, with ``width`` and ``height`` (``image, width,
        height``); default ``truth.attrs["images"]``, else the images of ``truth``.

    Returns
    -------
    list of Path
        The files written, one per image, in image order.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> t = pd.DataFrame({"image": ["a.jpg"], "label": ["cat"], "x": [5.0], "y": [6.0],
    ...                   "w": [20.0], "h": [10.5]})
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> [p.name for p in write_voc_xml(t, d, images={"image": ["a.jpg", "b.jpg"],
    ...                                              "width": [64, 64], "height": [48, 48]})]
    ['a.xml', 'b.xml']
    >>> read_voc_xml(d)[["image", "x", "h"]].values.tolist()
    [['a.jpg', 5.0, 10.5]]
    """
    from vislab.frames import require_columns

    require_columns(truth, ["image", "label", "x", "y", "w", "h"], name="truth")
    table = images if images is not None else truth.attrs.get("images")
    table = pd.DataFrame(dict(table)) if table is not None else None
    if table is None or "image" not in table:
        table = pd.DataFrame({"image": list(dict.fromkeys(truth["image"]))})
    names = list(dict.fromkeys(list(table["image"]) + list(truth["image"])))
    sizes = table.set_index("image").reindex(names)
    by_image = dict(list(truth.groupby("image", sort=False)))
    folder = Path(folder)
    out = []
    for name in names:
        root = ET.Element("annotation")
        ET.SubElement(root, "folder").text = folder.name
        ET.SubElement(root, "filename").text = Path(str(name)).name
        size = ET.SubElement(root, "size")
        for key in ("width", "height"):
            value = sizes[key].get(name) if key in sizes else None
            if value is not None and pd.notna(value):
                ET.SubElement(size, key).text = _text(value)
        ET.SubElement(size, "depth").text = "3"
        ET.SubElement(root, "segmented").text = "0"
        rows = by_image.get(name)
        for r in [] if rows is None else rows.to_dict("records"):
            obj = ET.SubElement(root, "object")
            ET.SubElement(obj, "name").text = str(r["label"])
            ET.SubElement(obj, "pose").text = "Unspecified"
            ET.SubElement(obj, "truncated").text = str(int(bool(r.get("truncated", False))))
            ET.SubElement(obj, "difficult").text = str(int(bool(r.get("difficult", False))))
            box = ET.SubElement(obj, "bndbox")
            x, y, w, h = (float(r[k]) for k in ("x", "y", "w", "h"))
            for key, value in (("xmin", x), ("ymin", y), ("xmax", x + w), ("ymax", y + h)):
                ET.SubElement(box, key).text = _text(value)
        ET.indent(root)
        path = folder / Path(str(name)).with_suffix(".xml")
        path.parent.mkdir(parents=True, exist_ok=True)
        ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=False)
        out.append(path)
    return out
