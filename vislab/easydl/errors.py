"""The errors of :mod:`vislab.easydl` (beside :class:`vislab.easydl.archive.ArchiveError`)."""

from __future__ import annotations

import pandas as pd

from vislab.errors import VislabError

__all__ = ["DatasetError", "TrainingRefused"]


class DatasetError(VislabError, ValueError):
    """A dataset cannot be built or used as asked (kind mismatch, unknown image, bad split).

    Examples
    --------
    >>> DatasetError("no such image 'x.jpg'").args[0]
    "no such image 'x.jpg'"
    """


class TrainingRefused(VislabError, ValueError):
    """The data cannot train the model asked for; the message says what to add.

    Parameters
    ----------
    message : str
        What is wrong and what to add or change.
    findings : DataFrame, optional
        The rule findings behind it.

    Attributes
    ----------
    findings : DataFrame
        The rule findings (``severity, rule, image, label, limit, value, message``) that
        refused it.

    Examples
    --------
    >>> err = TrainingRefused("cannot train 'm': add images", findings=pd.DataFrame())
    >>> str(err), len(err.findings)
    ("cannot train 'm': add images", 0)
    """

    def __init__(self, message: str, *, findings: pd.DataFrame | None = None):
        super().__init__(message)
        self.findings = pd.DataFrame() if findings is None else findings
