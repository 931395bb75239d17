"""The face engine's errors: no face, too many faces, the face models missing.

Each is an :class:`vislab.engine.errors.EngineError` (so ``except VislabError`` catches them)
whose message names the rule that was broken and what to do.

Examples
--------
>>> err = TooManyFaces(2, rule="face_similarity needs exactly one face per image")
>>> err.count, isinstance(err, EngineError)
(2, True)
>>> print(NoFace(rule="face_attributes needs at least one face"))
no face found in the image (rule: face_attributes needs at least one face); send a photo in which a face is visible, frontal and at least ~20 px wide
"""

from __future__ import annotations

from vislab.engine.errors import EngineError

__all__ = ["FaceModelsMissing", "NoFace", "TooManyFaces"]

INSTALL_HINT = "pip install 'vislab[face]'"


class NoFace(EngineError, ValueError):
    """No face was detected where the call needs one.

    Parameters
    ----------
    rule : str
        The rule of the call, e.g. ``"face_similarity needs exactly one face per image"``.
    image : str, optional
        Which image of the call (``"a"``, ``"b"``).

    Examples
    --------
    >>> NoFace(rule="x", image="b").image
    'b'
    """

    def __init__(self, *, rule: str, image: str | None = None):
        which = "" if image is None else f" {image}"
        super().__init__(
            f"no face found in the image{which} (rule: {rule}); send a photo in which a face is "
            "visible, frontal and at least ~20 px wide"
        )
        self.rule = rule
        self.image = image


class TooManyFaces(EngineError, ValueError):
    """More than one face was detected where the call needs exactly one.

    Parameters
    ----------
    count : int
        How many faces were detected.
    rule : str
        The rule of the call.
    image : str, optional
        Which image of the call.

    Examples
    --------
    >>> TooManyFaces(3, rule="x").count
    3
    """

    def __init__(self, count: int, *, rule: str, image: str | None = None):
        which = "" if image is None else f" {image}"
        super().__init__(
            f"{count} faces found in the image{which} (rule: {rule}); crop the image to the one "
            "face to compare"
        )
        self.count = count
        self.rule = rule
        self.image = image


class FaceModelsMissing(EngineError, ImportError):
    """The face models (``vislab/engine/models/faces/*.onnx``) are not in this installation.

    Parameters
    ----------
    missing : str
        The file that is missing.

    Examples
    --------
    >>> "vislab[face]" in str(FaceModelsMissing("blazeface.onnx"))
    True
    """

    def __init__(self, missing: str):
        super().__init__(
            f"the local face models are not installed ({missing} is missing): run "
            f"{INSTALL_HINT} (reinstall with --force-reinstall if vislab is already installed), "
            "or point vislab.pai at a PAI endpoint"
        )
        self.missing = missing
