"""Client method docstrings completed from the catalogue: parameters and return value.

A client method's docstring says what the call is for and shows an example; its
``Parameters`` and ``Returns`` sections are generated from the endpoint's declaration
(:func:`endpoint_doc`), so they always name exactly the parameters, ranges and defaults the
endpoint takes and ``help()`` shows them.
"""

from __future__ import annotations

import inspect
import textwrap

__all__ = ["endpoint_doc", "IMAGES_DOC", "FRAME_DOC"]

IMAGES_DOC = """images : image or many
    A path, URL, bytes, PIL image or array, a glob pattern, or many of them (list, Series,
    DataFrame column, ``{identifier: image}``)."""

#: What each frame kind holds, for the ``Returns`` section.
FRAME_DOC = {
    "labels": "Labels frame: one row per (image, label) — ``image, rank, label, score`` and "
    "the service's extras.",
    "boxes": "Boxes frame: one row per (image, object) — ``image, label, score, x, y, w, h`` "
    "in pixels.",
    "matches": "Matches frame: one row per (query, hit) — ``query, rank, cont_sign, brief, "
    "score``.",
    "gallery": "Gallery frame: one row per image — ``image, cont_sign, brief, tags``.",
}

ERRORS_DOC = """errors : {"row", "raise"}, optional
    Failed images as error rows plus one warning, or raise the first failure (default: the
    client's ``errors``)."""

_KIND = {
    "int": "int",
    "float": "float",
    "str": "str",
    "bool": "bool",
    "int_list": "list of int",
    "json": "dict",
}


def _param_doc(p, *, kind: str | None = None, note: str = "") -> str:
    facts = []
    if p.choices is not None:
        facts.append("one of " + ", ".join(map(str, p.choices)))
    elif p.minimum is not None or p.maximum is not None:
        unit = " bytes" if p.kind == "str" else ""
        lo = "" if p.minimum is None else f"{p.minimum:g}"
        hi = "" if p.maximum is None else f"{p.maximum:g}"
        facts.append(f"{lo}..{hi}{unit}")
    if p.default is not None:
        facts.append(f"service default {p.default}")
    text = p.doc[:1].upper() + p.doc[1:] if p.doc else p.name
    if facts:
        text += f" ({'; '.join(facts)})"
    text += "." + (f" {note}" if note else "")
    wrapped = textwrap.fill(text, width=92, initial_indent="    ", subsequent_indent="    ")
    optional = "" if p.required else ", optional"
    return f"{p.name} : {kind or _KIND.get(p.kind, p.kind)}{optional}\n{wrapped}"


def endpoint_doc(
    endpoint,
    *,
    images: str | None = IMAGES_DOC,
    extra: str = "",
    types: dict | None = None,
    notes: dict | None = None,
):
    """Decorator: insert ``Parameters`` and ``Returns`` for ``endpoint`` before ``Examples``.

    Parameters
    ----------
    endpoint : vislab.catalogue.Endpoint
    images : str or None
        The ``images`` entry (None when the method takes no images).
    extra : str
        More numpydoc parameter entries (client-side options).
    types, notes : dict, optional
        Per parameter: the type the client accepts (when wider than the wire's) and a sentence
        to add (e.g. that a callable gives one value per image).

    Examples
    --------
    >>> from vislab import catalogue
    >>> @endpoint_doc(catalogue.get("baidu.image_classify", "dish_detect"))
    ... def dish_detect(self, images, *, top_num=None):
    ...     '''Dish recognition.
    ...
    ...     Examples
    ...     --------
    ...     >>> 1
    ...     '''
    >>> "top_num : int, optional" in dish_detect.__doc__
    True
    """
    entries = [images] if images else []
    types, notes = types or {}, notes or {}
    entries += [
        _param_doc(p, kind=types.get(p.name), note=notes.get(p.name, "")) for p in endpoint.params
    ]
    if extra:
        entries.append(textwrap.dedent(extra).strip("\n"))
    entries.append(ERRORS_DOC)
    returns = FRAME_DOC.get(endpoint.frame, "A frame.")
    returns += " Every input image keeps a row: an error row when it failed."
    section = (
        "Parameters\n----------\n" + "\n".join(entries) + "\n\nReturns\n-------\n"
        "DataFrame\n"
        + textwrap.fill(returns, width=92, initial_indent="    ", subsequent_indent="    ")
        + "\n\n"
    )

    def deco(func):
        doc = inspect.cleandoc(func.__doc__ or "")
        head, sep, tail = doc.partition("Examples\n--------")
        if not sep:
            raise ValueError(f"{func.__name__}: docstring needs an Examples section")
        summary = head.strip("\n") + "\n\n" if head.strip() else ""
        func.__doc__ = summary + section + sep + tail
        return func

    return deco
