"""The image-file methods of :class:`~vislab.engine.backbone.Backbone` and its small helpers.

``forward_files`` decodes JPEGs at a reduced DCT scale and overlaps decoding with inference
(:mod:`vislab.engine.files`); ``probabilities_files`` and ``embed_files`` are its softmax and
unit-row views.  They form a mixin so that they stay methods of ``Backbone`` (IDEs, ``help()``)
while the class keeps to preprocessing and the network.

Examples
--------
>>> softmax(np.array([[1.0, 1.0, 1.0]])).round(3).tolist()
[[0.333, 0.333, 0.333]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vislab.engine.files import run_files

__all__ = ["FileInputs", "softmax"]


class FileInputs:
    """Methods on image files for a class with ``_output_list`` and ``forward`` (Backbone).

    Examples
    --------
    >>> from vislab.engine.backbone import Backbone
    >>> issubclass(Backbone, FileInputs)
    True
    """

    def forward_files(
        self, files, outputs: Sequence[str] = ("logits",), *, draft: bool = True
    ) -> dict[str, np.ndarray]:
        """Decode image files and run the network on them, decoding overlapped with inference.

        The fast path for folders of photos: JPEGs are decoded at a reduced DCT scale
        (``draft``), decoding runs on half the cores while the network runs on the rest, and
        batches run in chunks of ``batch_size`` (see :mod:`vislab.engine.files`).

        Parameters
        ----------
        files : path-like, bytes or a sequence of them
            Image files (any format Pillow reads) or their encoded bytes.
        outputs : sequence of str, default ("logits",)
            Network outputs, as in :meth:`forward`.
        draft : bool, default True
            Decode JPEGs at the smallest 1/2, 1/4 or 1/8 scale whose shorter side is still
            >= 256 px. ``False`` decodes at full size: then the result equals
            ``forward(preprocess([decode_pixels(f)[0] ...]))`` bit for bit.

        Returns
        -------
        dict of str to numpy.ndarray
            One array per requested output, one row per file, in order.

        Raises
        ------
        vislab.errors.InvalidImage
            A file is missing, empty or unreadable (the error names it).

        Examples
        --------
        >>> import tempfile
        >>> from vislab.engine.backbone import get_backbone
        >>> from pathlib import Path
        >>> from PIL import Image
        >>> from skimage import data
        >>> path = Path(tempfile.mkdtemp()) / "coffee.jpg"
        >>> Image.fromarray(data.coffee()).save(path, quality=90)
        >>> out = get_backbone().forward_files([path], outputs=("logits", "embedding"))
        >>> out["logits"].shape, out["embedding"].shape
        ((1, 1000), (1, 1280))
        """
        return run_files(self, files, self._output_list(outputs), draft=draft)

    def probabilities_files(self, files, *, draft: bool = True) -> np.ndarray:
        """Softmax class probabilities of image files (see :meth:`forward_files`).

        Parameters
        ----------
        files : path-like, bytes or a sequence of them
        draft : bool, default True
            Reduced-scale JPEG decoding, see :meth:`forward_files`.

        Returns
        -------
        numpy.ndarray
            ``(N, 1000)`` float32, rows sum to 1.

        Examples
        --------
        >>> import tempfile
        >>> from vislab.engine.backbone import get_backbone
        >>> from pathlib import Path
        >>> from PIL import Image
        >>> from skimage import data
        >>> path = Path(tempfile.mkdtemp()) / "coffee.jpg"
        >>> Image.fromarray(data.coffee()).resize((1200, 800)).save(path, quality=90)
        >>> int(get_backbone().probabilities_files([path]).argmax())
        967
        """
        return softmax(self.forward_files(files, ("logits",), draft=draft)["logits"])

    def embed_files(self, files, *, draft: bool = True) -> np.ndarray:
        """L2-normalised 1280-d embeddings of image files (see :meth:`forward_files`).

        Parameters
        ----------
        files : path-like, bytes or a sequence of them
        draft : bool, default True
            Reduced-scale JPEG decoding, see :meth:`forward_files`.

        Returns
        -------
        numpy.ndarray
            ``(N, 1280)`` float32 unit rows, as :meth:`embed` gives for the decoded pixels.

        Examples
        --------
        >>> import tempfile
        >>> from vislab.engine.backbone import get_backbone
        >>> from pathlib import Path
        >>> from PIL import Image
        >>> from skimage import data
        >>> path = Path(tempfile.mkdtemp()) / "cat.png"
        >>> Image.fromarray(data.chelsea()).save(path)
        >>> bool(np.array_equal(get_backbone().embed_files([path]),
        ...                     get_backbone().embed([data.chelsea()])))
        True
        """
        return _unit_rows(self.forward_files(files, ("embedding",), draft=draft)["embedding"])


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax.

    Examples
    --------
    >>> softmax(np.array([0.0, 0.0])).tolist()
    [0.5, 0.5]
    """
    shifted = logits - logits.max(axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=axis, keepdims=True)


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
