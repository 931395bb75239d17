"""Labels from the backbone: general ImageNet labels and view subsets, and gallery embeddings.

The engine calls behind the emulated Baidu image-recognition label services. They take
``uint8`` RGB arrays (``(H, W, 3)``) and return dataclasses; mapping them to wire JSON is the
emulator's job.

:func:`general` is the backbone's ImageNet-1k softmax over the centre crop, each label carrying
its coarse ``root`` (see :mod:`vislab.engine.imagenet`). :func:`subset` restricts the softmax
to one view's classes (``dish``, ``animal``, ``plant``, ``car``; the class lists are
:data:`vislab.engine.imagenet.VIEW_SUBSETS`) and reports two numbers, so a caller can say
"no dish here" honestly:

* ``Label.score`` is the probability *renormalised within the subset*,
  ``p(class) / sum(p over the subset)``: the answer to "if this is a dish, which dish?".
* ``SubsetLabels.mass`` is ``sum(p over the subset)`` under the full 1000-way softmax: how much
  the model believes the image shows any class of the view at all. ``score * mass`` gives back
  the unconditional probability.

Boxes (subject and objects) are in :mod:`vislab.engine.recognition`, which also re-exports
these names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vislab.engine.backbone import get_backbone
from vislab.engine.imagenet import class_names, class_roots, subset_indices

__all__ = ["Label", "SubsetLabels", "general", "general_batch", "subset", "embed"]


@dataclass(frozen=True)
class Label:
    """One recognised class.

    Attributes
    ----------
    name : str
        ImageNet class name.
    score : float
        Probability in [0, 1] (within the subset for :func:`subset`).
    root : str
        Coarse parent category, e.g. ``"animal-cat"``.
    class_index : int
        ImageNet-1k index (0-999).
    """

    name: str
    score: float
    root: str
    class_index: int


@dataclass(frozen=True)
class SubsetLabels:
    """Result of :func:`subset`.

    Attributes
    ----------
    view : str
        ``"dish"``, ``"animal"``, ``"plant"`` or ``"car"``.
    labels : list of Label
        Top classes of the view; ``score`` is renormalised within the view's classes.
    mass : float
        Total probability of the view's classes under the full softmax, in [0, 1].
    """

    view: str
    labels: list[Label]
    mass: float


# --------------------------------------------------------------------------- labels


def _labels(probs: np.ndarray, indices: np.ndarray, top_k: int) -> list[Label]:
    names, roots = class_names(), class_roots()
    k = max(1, min(int(top_k), len(indices)))
    order = indices[np.argsort(-probs[indices], kind="stable")[:k]]
    return [Label(names[i], float(probs[i]), roots[i], int(i)) for i in order]


def general_batch(images, top_k: int = 5) -> list[list[Label]]:
    """:func:`general` for several images in one batched forward pass.

    Parameters
    ----------
    images : sequence of numpy.ndarray
        ``uint8`` RGB images.
    top_k : int, default 5

    Returns
    -------
    list of list of Label

    Examples
    --------
    >>> from skimage import data
    >>> [labels[0].name for labels in general_batch([data.coffee(), data.rocket()], top_k=1)]
    ['espresso', 'missile']
    """
    probs = get_backbone().probabilities(images)
    everything = np.arange(probs.shape[1])
    return [_labels(row, everything, top_k) for row in probs]


def general(image: np.ndarray, top_k: int = 5) -> list[Label]:
    """Top ImageNet-1k labels of an image, highest score first.

    Parameters
    ----------
    image : numpy.ndarray
        ``uint8`` ``(H, W, 3)`` RGB.
    top_k : int, default 5
        Number of labels.

    Returns
    -------
    list of Label
        ``score`` is the softmax probability over all 1000 classes.

    Examples
    --------
    >>> from skimage import data
    >>> top = general(data.coffee(), top_k=2)
    >>> [(label.name, label.root) for label in top]
    [('espresso', 'food-drink'), ('tea cup', 'container')]
    """
    return general_batch([image], top_k)[0]


def subset(image: np.ndarray, view: str, top_k: int = 5) -> SubsetLabels:
    """Labels restricted to one view's ImageNet classes, with the view's total probability.

    Parameters
    ----------
    image : numpy.ndarray
        ``uint8`` ``(H, W, 3)`` RGB.
    view : {"dish", "animal", "plant", "car"}
        Which class subset (see :data:`vislab.engine.imagenet.VIEW_SUBSETS`).
    top_k : int, default 5

    Returns
    -------
    SubsetLabels
        ``labels[i].score`` is renormalised within the subset (they sum to at most 1);
        ``mass`` is the subset's share of the full softmax (low = "no such thing here").

    Examples
    --------
    >>> from skimage import data
    >>> result = subset(data.chelsea(), "animal", top_k=1)
    >>> result.labels[0].root, result.mass > 0.9
    ('animal-cat', True)
    >>> subset(data.chelsea(), "dish").mass < 0.01
    True
    """
    indices = subset_indices(view)
    probs = get_backbone().probabilities([image])[0]
    mass = float(probs[indices].sum())
    within = np.zeros_like(probs)
    within[indices] = probs[indices] / max(mass, 1e-30)
    return SubsetLabels(view=view, labels=_labels(within, indices, top_k), mass=mass)


def embed(images) -> np.ndarray:
    """Unit-length 1280-d embeddings for galleries (see :meth:`Backbone.embed`).

    Parameters
    ----------
    images : numpy.ndarray or sequence of numpy.ndarray
        ``uint8`` RGB image(s).

    Returns
    -------
    numpy.ndarray
        ``(N, 1280)`` float32; cosine similarity is a dot product.

    Examples
    --------
    >>> from skimage import data
    >>> embed([data.coffee()]).shape
    (1, 1280)
    """
    return get_backbone().embed(images)
