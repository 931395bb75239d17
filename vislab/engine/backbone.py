"""EfficientNet-Lite0 backbone run with onnxruntime: the one model under the local engine.

The ONNX file ``models/efficientnet_lite0.onnx`` is a committed build product of
``tools/export_backbone.py`` (see ``models/README.md`` for provenance and licence). Nothing is
downloaded: the file ships inside the package and its sha256 is checked once before loading
(:mod:`vislab.engine.onnx_model`, which also opens the onnxruntime sessions).

The engine works on numpy arrays: images are ``uint8`` arrays of shape ``(H, W, 3)`` in RGB
order (``(H, W)`` grey and ``(H, W, 4)`` RGBA are accepted and converted). Decoding wire
payloads is the caller's job. Image *files* have a path of their own,
:meth:`Backbone.forward_files` (and ``probabilities_files`` / ``embed_files``), which decodes
JPEGs at a reduced DCT scale and overlaps decoding with inference (:mod:`vislab.engine.files`).

Preprocessing
-------------
Classification and embeddings: the model's TensorFlow eval pipeline, a centre crop of 224/256
of the shorter side, bilinear to 224x224, ``(pixel - 127) / 128``
(:mod:`vislab.engine.preprocess`). :meth:`Backbone.feature_maps` keeps the whole image, resized
and padded to a multiple of 32 (:mod:`vislab.engine.whole_image`).

Outputs
-------
``logits`` (N, 1000), ``embedding`` (N, 1280), ``features_s8`` (N, 40, H/8, W/8),
``features_s16`` (N, 112, H/16, W/16), ``features_s32`` (N, 1280, H/32, W/32) and
``class_maps`` (N, 1000, H/32, W/32), the classifier at every s32 position
(``logits == class_maps.mean((2, 3))``). onnxruntime computes only the outputs asked for.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

# The file-input methods, softmax and unit rows live beside (re-exported here).
from vislab.engine.backbone_files import FileInputs, _unit_rows, softmax  # noqa: F401

# Re-exported: the model file's helpers and the preprocessing used to live in this module.
from vislab.engine.onnx_model import (  # noqa: F401
    MODEL_PATH,
    MODELS_DIR,
    ChecksumError,
    file_sha256,
    open_session,
    read_expected_checksum,
    verify_model_checksum,
)
from vislab.engine.preprocess import (  # noqa: F401
    CROP_FRACTION,
    INPUT_SIZE,
    PIXEL_MEAN,
    PIXEL_STD,
    as_rgb,
    centre_crop_resize,
    crop_box,
    normalise,
)
from vislab.engine.whole_image import (  # noqa: F401
    DEFAULT_DETECTION_SIZE,
    STRIDE,
    FeatureMaps,
    whole_image_tensor,
)

DEFAULT_BATCH_SIZE = 16
EMBEDDING_DIM = 1280
NUM_CLASSES = 1000
OUTPUT_NAMES = (
    "logits",
    "embedding",
    "features_s8",
    "features_s16",
    "features_s32",
    "class_maps",
)


def _image_list(images) -> list[np.ndarray]:
    """One image (a 2-D or 3-D array) or several (a 4-D stack or a sequence) -> list."""
    if isinstance(images, np.ndarray) and images.ndim in (2, 3):
        return [images]
    return list(images)


def _default_threads() -> int:
    # onnxruntime's default spins one thread per logical core; cap it so a notebook kernel
    # sharing the machine with a server or a test runner keeps some CPU for them.
    return max(1, min(os.cpu_count() or 1, 4))


class Backbone(FileInputs):
    """EfficientNet-Lite0 (ImageNet-1k) in onnxruntime, with the engine's preprocessing.

    Parameters
    ----------
    model_path : path-like, optional
        ONNX file; defaults to the committed ``models/efficientnet_lite0.onnx``.
    intra_op_threads : int, optional
        onnxruntime intra-op threads; default ``min(cpu_count, 4)``.
    batch_size : int, default 16
        Images per ``session.run``; larger inputs are processed in chunks of this size.
    verify_checksum : bool, default True
        Compare the file's sha256 with ``<model>.sha256`` before loading.

    Examples
    --------
    >>> from skimage import data
    >>> backbone = get_backbone()
    >>> [(idx, round(p, 2)) for idx, p in backbone.classify([data.coffee()], top_k=1)[0]]
    [(967, 0.96)]
    """

    def __init__(
        self,
        model_path: str | os.PathLike | None = None,
        *,
        intra_op_threads: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        verify_checksum: bool = True,
    ) -> None:
        self.model_path = Path(model_path) if model_path is not None else MODEL_PATH
        if verify_checksum:
            verify_model_checksum(self.model_path)
        self.intra_op_threads = int(intra_op_threads or _default_threads())
        self.session = open_session(self.model_path, self.intra_op_threads)
        self._sessions: dict[tuple[int, bool], object] = {}  # other thread settings
        self._sessions_lock = threading.Lock()
        self.batch_size = int(batch_size)
        self.output_names = tuple(o.name for o in self.session.get_outputs())
        missing = set(OUTPUT_NAMES) - set(self.output_names)
        if missing:
            raise RuntimeError(f"{self.model_path} lacks outputs {sorted(missing)}")

    def __repr__(self) -> str:
        return f"Backbone({self.model_path.name!r}, batch_size={self.batch_size})"

    def session_with_threads(self, threads: int, *, spinning: bool = True):
        """The onnxruntime session to use with at most ``threads`` intra-op threads.

        Parameters
        ----------
        threads : int
            Intra-op threads, at most :attr:`intra_op_threads`.
        spinning : bool, default True
            Whether idle intra-op threads spin-wait for work (onnxruntime's default, and the
            main session's) or sleep, leaving their core to other threads.

        Returns
        -------
        onnxruntime.InferenceSession
            The main :attr:`session` for all threads with spinning; otherwise another session
            of the same model, built on first use and kept. All give bit-identical outputs;
            :meth:`forward_files` runs batches in a one-thread session while decoding occupies
            the other cores, and in a non-spinning one with all threads when it does not.

        Examples
        --------
        >>> backbone = get_backbone()
        >>> backbone.session_with_threads(backbone.intra_op_threads) is backbone.session
        True
        >>> backbone.session_with_threads(1).get_session_options().intra_op_num_threads
        1
        """
        threads = max(1, min(int(threads), self.intra_op_threads))
        # One intra-op thread is the calling thread itself: there is no pool to spin.
        spinning = spinning or threads == 1
        if threads == self.intra_op_threads and spinning:
            return self.session
        with self._sessions_lock:
            key = (threads, spinning)
            if key not in self._sessions:
                self._sessions[key] = open_session(self.model_path, threads, spinning=spinning)
            return self._sessions[key]

    def _output_list(self, outputs: Sequence[str] | str) -> list[str]:
        names = [outputs] if isinstance(outputs, str) else list(outputs)
        unknown = [n for n in names if n not in self.output_names]
        if unknown:
            raise ValueError(f"unknown outputs {unknown}; choose from {self.output_names}")
        return names

    # ----------------------------------------------------------------- preprocessing

    def preprocess(self, images) -> np.ndarray:
        """Centre-crop, resize and normalise images for classification and embeddings.

        Parameters
        ----------
        images : numpy.ndarray or sequence of numpy.ndarray
            One ``uint8`` ``(H, W, 3)`` RGB image or several (any sizes).

        Returns
        -------
        numpy.ndarray
            ``(N, 3, 224, 224)`` float32, values ``(pixel - 127) / 128``.

        Examples
        --------
        >>> from skimage import data
        >>> get_backbone().preprocess([data.chelsea(), data.coffee()]).shape
        (2, 3, 224, 224)
        """
        arrays = [as_rgb(img) for img in _image_list(images)]
        batch = np.empty((len(arrays), 3, INPUT_SIZE, INPUT_SIZE), dtype=np.float32)
        for i, rgb in enumerate(arrays):
            normalise(centre_crop_resize(rgb, INPUT_SIZE), out=batch[i])
        return batch

    def prepare_whole(
        self, image: np.ndarray, size: int | None = DEFAULT_DETECTION_SIZE
    ) -> tuple[np.ndarray, float, tuple[int, int]]:
        """Resize a whole image (longer side ``size``) and pad it to a multiple of 32.

        Parameters
        ----------
        image : numpy.ndarray
            ``uint8`` ``(H, W, 3)`` RGB.
        size : int or None, default 384
            Target longer side; ``None`` keeps the image's own size (still padded).

        Returns
        -------
        tensor : numpy.ndarray
            ``(1, 3, H', W')`` float32 with ``H'``, ``W'`` multiples of 32.
        scale : float
            Resized size divided by original size.
        content_hw : tuple of int
            Size of the resized image inside the padded tensor.

        Examples
        --------
        >>> tensor, scale, hw = get_backbone().prepare_whole(np.zeros((300, 451, 3), np.uint8))
        >>> tensor.shape, round(scale, 3), hw
        ((1, 3, 256, 384), 0.851, (255, 384))
        """
        return whole_image_tensor(image, size)

    # ----------------------------------------------------------------- inference

    def forward(
        self, batch: np.ndarray, outputs: Sequence[str] = ("logits",)
    ) -> dict[str, np.ndarray]:
        """Run the network on a preprocessed batch, in chunks of ``batch_size``.

        Parameters
        ----------
        batch : numpy.ndarray
            ``(N, 3, H, W)`` float32, normalised (see :meth:`preprocess`).
        outputs : sequence of str, default ("logits",)
            Any of ``logits``, ``embedding``, ``features_s8``, ``features_s16``,
            ``features_s32``, ``class_maps``.

        Returns
        -------
        dict of str to numpy.ndarray
            One array per requested output, batch axis first.

        Examples
        --------
        >>> out = get_backbone().forward(np.zeros((2, 3, 224, 224), np.float32),
        ...                              outputs=("logits", "features_s32"))
        >>> out["logits"].shape, out["features_s32"].shape
        ((2, 1000), (2, 1280, 7, 7))
        """
        names = self._output_list(outputs)
        batch = np.asarray(batch, dtype=np.float32)
        if batch.ndim != 4 or batch.shape[1] != 3:
            raise ValueError(f"expected an (N, 3, H, W) batch, got shape {batch.shape}")
        if batch.shape[0] == 0:
            raise ValueError("empty batch")
        chunks = [
            self.session.run(names, {"image": np.ascontiguousarray(batch[i : i + self.batch_size])})
            for i in range(0, batch.shape[0], self.batch_size)
        ]
        return {
            name: np.concatenate([c[k] for c in chunks]) if len(chunks) > 1 else chunks[0][k]
            for k, name in enumerate(names)
        }

    def probabilities(self, images) -> np.ndarray:
        """Softmax class probabilities of centre-cropped images.

        Parameters
        ----------
        images : numpy.ndarray or sequence of numpy.ndarray
            ``uint8`` RGB image(s).

        Returns
        -------
        numpy.ndarray
            ``(N, 1000)`` float32, rows sum to 1.

        Examples
        --------
        >>> from skimage import data
        >>> p = get_backbone().probabilities([data.coffee()])
        >>> p.shape, int(p.argmax())
        ((1, 1000), 967)
        """
        return softmax(self.forward(self.preprocess(images), ("logits",))["logits"])

    def classify(self, images, top_k: int = 5) -> list[list[tuple[int, float]]]:
        """Top-k ImageNet classes of each image with softmax probabilities.

        Parameters
        ----------
        images : numpy.ndarray or sequence of numpy.ndarray
            ``uint8`` RGB image(s).
        top_k : int, default 5
            Classes per image, highest probability first.

        Returns
        -------
        list of list of (int, float)
            ``(class_index, probability)`` per image.

        Examples
        --------
        >>> from skimage import data
        >>> top = get_backbone().classify([data.chelsea()], top_k=3)[0]
        >>> sorted(idx for idx, _ in top)
        [281, 282, 285]
        """
        probs = self.probabilities(images)
        k = max(1, min(int(top_k), probs.shape[1]))
        order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
        return [
            [(int(i), float(row[i])) for i in idx] for row, idx in zip(probs, order, strict=True)
        ]

    def embed(self, images) -> np.ndarray:
        """L2-normalised 1280-d embeddings (the pooled features before the classifier).

        Parameters
        ----------
        images : numpy.ndarray or sequence of numpy.ndarray
            ``uint8`` RGB image(s).

        Returns
        -------
        numpy.ndarray
            ``(N, 1280)`` float32, each row of unit length; cosine similarity is a dot product.

        Examples
        --------
        >>> from skimage import data
        >>> e = get_backbone().embed([data.chelsea(), data.coffee()])
        >>> e.shape, bool(np.allclose(np.linalg.norm(e, axis=1), 1, atol=1e-5))
        ((2, 1280), True)
        """
        return _unit_rows(self.forward(self.preprocess(images), ("embedding",))["embedding"])

    def feature_maps(
        self,
        image: np.ndarray,
        size: int | None = DEFAULT_DETECTION_SIZE,
        *,
        outputs: Sequence[str] = ("features_s8", "features_s16", "features_s32"),
    ) -> FeatureMaps:
        """Feature maps of the whole image for detection-style uses (no crop).

        Parameters
        ----------
        image : numpy.ndarray
            ``uint8`` ``(H, W, 3)`` RGB.
        size : int or None, default 384
            The longer side is resized to this many pixels (aspect kept), then the image is
            padded to a multiple of 32. 320-448 is a good range for this model; ``None`` keeps
            the original size.
        outputs : sequence of str
            Network outputs to return (see :meth:`forward`).

        Returns
        -------
        FeatureMaps
            The maps (batch axis removed) and the resize/pad geometry. A cell ``(i, j)`` of a
            stride-``s`` map is centred at original pixel ``((j + 0.5) * s / scale,
            (i + 0.5) * s / scale)``.

        Examples
        --------
        >>> from skimage import data
        >>> fm = get_backbone().feature_maps(data.chelsea(), size=384)
        >>> fm.input_hw, fm.maps["features_s32"].shape
        ((256, 384), (1280, 8, 12))
        """
        tensor, scale, content_hw = self.prepare_whole(image, size)
        result = self.forward(tensor, outputs)
        return FeatureMaps(
            maps={name: value[0] for name, value in result.items()},
            scale=scale,
            image_hw=tuple(np.asarray(image).shape[:2]),
            content_hw=content_hw,
            input_hw=tuple(tensor.shape[2:]),
        )


_BACKBONE: Backbone | None = None
_BACKBONE_LOCK = threading.Lock()


def get_backbone() -> Backbone:
    """The process-wide :class:`Backbone`, created (and checksum-verified) on first use.

    Thread-safe: concurrent first calls build one session; later calls return it without
    locking. onnxruntime sessions may be ``run`` from several threads at once.

    Returns
    -------
    Backbone

    Examples
    --------
    >>> get_backbone() is get_backbone()
    True
    """
    global _BACKBONE
    backbone = _BACKBONE
    if backbone is None:
        with _BACKBONE_LOCK:
            if _BACKBONE is None:
                _BACKBONE = Backbone()
            backbone = _BACKBONE
    return backbone
