"""The local engine's own errors: what was wrong and what to do, and no wire codes.

The engine answers in its own terms (an image is already stored, a brief is too long...).
Which code a service family puts on the wire for each of them is the emulator's business:
:func:`vislab.emulator.errors.wire_error` holds that table.  Every class here is a
:class:`vislab.errors.VislabError`, so ``except VislabError`` catches engine errors too.

Examples
--------
>>> err = ItemExists("1,2", '{"id": 7}')
>>> isinstance(err, EngineError), err.cont_sign
(True, '1,2')
>>> print(err)
the image is already stored as cont_sign 1,2 (brief '{"id": 7}'); delete it first to store it again, or update its brief and tags
"""

from __future__ import annotations

from collections.abc import Sequence

from vislab.errors import VislabError

__all__ = [
    "EngineError",
    "ItemExists",
    "ItemNotFound",
    "BlankImage",
    "BadBrief",
    "BadCategories",
    "BadTagLogic",
    "BadPage",
    "MissingTarget",
]


class EngineError(VislabError):
    """Base class of the errors the local engine raises about a request it cannot serve.

    Examples
    --------
    >>> issubclass(BadPage, EngineError)
    True
    """


class ItemExists(EngineError):
    """The image is already in the gallery.

    Parameters
    ----------
    cont_sign : str
        The signature of the stored copy.
    brief : str, optional
        Its brief.

    Examples
    --------
    >>> ItemExists("1,2").cont_sign
    '1,2'
    """

    def __init__(self, cont_sign: str, brief: str | None = None):
        shown = "" if brief is None else f" (brief {brief!r})"
        super().__init__(
            f"the image is already stored as cont_sign {cont_sign}{shown}; delete it first to "
            "store it again, or update its brief and tags"
        )
        self.cont_sign = cont_sign
        self.brief = brief


class ItemNotFound(EngineError, LookupError):
    """None of the given images is stored.

    Parameters
    ----------
    cont_signs : sequence of str
        The signatures that were looked for.

    Examples
    --------
    >>> ItemNotFound(["1,2"]).cont_signs
    ['1,2']
    """

    def __init__(self, cont_signs: Sequence[str]):
        self.cont_signs = list(cont_signs)
        shown = ", ".join(self.cont_signs[:3]) + (" ..." if len(self.cont_signs) > 3 else "")
        super().__init__(
            f"no stored image has cont_sign {shown}; list the gallery to see what it holds"
        )


class BlankImage(EngineError, ValueError):
    """The picture is a single colour (almost no grey-level spread): nothing to search by.

    Examples
    --------
    >>> BlankImage(0.0).std
    0.0
    """

    def __init__(self, std: float, *, limit: float = 1.0):
        super().__init__(
            f"the image is blank (grey-level spread {std:.2f} < {limit}): send a picture "
            "that shows something"
        )
        self.std = std
        self.limit = limit


class BadBrief(EngineError, ValueError):
    """A brief is not a string or is longer than the product allows.

    Examples
    --------
    >>> str(BadBrief("brief too long: 300 bytes of UTF-8, at most 256"))
    'brief too long: 300 bytes of UTF-8, at most 256'
    """


class BadCategories(EngineError, ValueError):
    """Tags or class ids are not integers in the product's range, or too many were given.

    Attributes
    ----------
    name : str
        The parameter: ``"tags"`` or ``"class_id1/class_id2"``.

    Examples
    --------
    >>> BadCategories("at most 2 tags, got 3", name="tags").name
    'tags'
    """

    def __init__(self, message: str, *, name: str = "tags"):
        super().__init__(message)
        self.name = name


class BadTagLogic(EngineError, ValueError):
    """``tag_logic`` is neither 0 (AND) nor 1 (OR).

    Examples
    --------
    >>> str(BadTagLogic(2))
    'tag_logic must be 0 (AND) or 1 (OR), got 2'
    """

    def __init__(self, value):
        super().__init__(f"tag_logic must be 0 (AND) or 1 (OR), got {value!r}")
        self.value = value


class BadPage(EngineError, ValueError):
    """``pn`` or ``rn`` is not an integer in the product's paging window.

    Examples
    --------
    >>> BadPage("rn must be in 1..100, got 101", name="rn").name
    'rn'
    """

    def __init__(self, message: str, *, name: str):
        super().__init__(message)
        self.name = name


class MissingTarget(EngineError, ValueError):
    """An update or delete named no image: give a ``cont_sign`` or the picture.

    Examples
    --------
    >>> str(MissingTarget())
    'give cont_sign or image'
    """

    def __init__(self, message: str = "give cont_sign or image"):
        super().__init__(message)
