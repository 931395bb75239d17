"""Image classifiers on frozen backbone features: a linear model, and the "other" class.

:func:`fit_classifier` trains a multinomial logistic regression (scikit-learn, L-BFGS) on the
standardised feature vectors of :mod:`vislab.engine.training.features`, with class weights
balanced so a small class is not drowned. The fitted weights are plain arrays, and
:class:`LinearClassifier` predicts with numpy alone — nothing is pickled.

The "other" class (EasyDL's option for images unrelated to the training set) is learned in
two ways that back each other up:

1. **A pool of unrelated images** (:mod:`vislab.engine.training.other_pool`: the photographs
   shipped with scikit-image and scikit-learn, cut into crops, and procedural textures) is
   added to the training data as the class ``"other"``. Pool images that look like the
   user's own classes (those the distance rule of point 2 accepts as a known class) are
   left out, so a cat model is not taught that the scikit-image cat is "other".
2. **Rejection by embedding distance**: each class keeps up to 16 prototypes (k-means
   centres of its unit feature vectors). An image whose best cosine similarity to any
   prototype falls below a threshold calibrated by cross-validation on the training images
   (their 2nd percentile when unseen) is moved to "other": its scores become
   ``(1 - r) * p + r * onehot(other)`` with ``r = sigmoid((threshold - similarity) /
   0.01)``, so the scores still sum to one and "other" ranks and counts towards ``top_num``
   like any class.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vislab.engine.training.features import unit_rows

__all__ = [
    "OTHER",
    "LinearClassifier",
    "Rejection",
    "fit_classifier",
    "fit_rejection",
    "softmax",
]

#: Name of the class for images unrelated to the training set.
OTHER = "other"
#: Prototypes kept per class for the distance rule.
PROTOTYPES_PER_CLASS = 16
#: Share of unseen training images the distance rule may send to "other".
REJECT_QUANTILE = 0.02
#: Width of the soft step around the similarity threshold.
SOFTNESS = 0.01


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax.

    Examples
    --------
    >>> softmax(np.array([[0.0, np.log(3.0)]])).round(2).tolist()
    [[0.25, 0.75]]
    """
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class Rejection:
    """The distance rule: prototypes, a similarity threshold and the index of "other".

    Examples
    --------
    >>> rule = Rejection(np.eye(2, dtype=np.float32), threshold=0.9, other_index=2)
    >>> p = np.array([[0.7, 0.2, 0.1], [0.7, 0.2, 0.1]])
    >>> rule.apply(np.array([[1.0, 0.0], [0.6, 0.6]], np.float32), p).round(2).tolist()
    [[0.7, 0.2, 0.1], [0.0, 0.0, 1.0]]
    """

    prototypes: np.ndarray
    threshold: float
    other_index: int

    def similarity(self, x: np.ndarray) -> np.ndarray:
        return (unit_rows(x) @ self.prototypes.T).max(axis=1)

    def apply(self, x: np.ndarray, probs: np.ndarray) -> np.ndarray:
        r = 1.0 / (1.0 + np.exp(-(self.threshold - self.similarity(x)) / SOFTNESS))
        out = probs * (1.0 - r)[:, None]
        out[:, self.other_index] += r
        return out


@dataclass
class LinearClassifier:
    """``softmax(((x - mean) / scale) @ coef.T + intercept)``, then the optional rejection.

    Attributes
    ----------
    classes : list of str
        Output order (``"other"`` last when the model has it).
    mean, scale : numpy.ndarray
        ``(D,)`` standardisation.
    coef : numpy.ndarray
        ``(K, D)``.
    intercept : numpy.ndarray
        ``(K,)``.
    rejection : Rejection or None

    Examples
    --------
    >>> clf = LinearClassifier(["a", "b"], np.zeros(2), np.ones(2),
    ...                        np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros(2))
    >>> clf.predict_proba(np.array([[2.0, 0.0]])).round(3).tolist()
    [[0.881, 0.119]]
    """

    classes: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    rejection: Rejection | None = None
    info: dict = field(default_factory=dict)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """``(N, K)`` class probabilities (rows sum to 1)."""
        x = np.asarray(x, np.float32)
        probs = softmax(((x - self.mean) / self.scale) @ self.coef.T + self.intercept)
        if self.rejection is not None:
            probs = self.rejection.apply(x, probs)
        return probs.astype(np.float64)

    def arrays(self) -> dict[str, np.ndarray]:
        out = {
            "clf_mean": self.mean.astype(np.float32),
            "clf_scale": self.scale.astype(np.float32),
            "clf_coef": self.coef.astype(np.float32),
            "clf_intercept": self.intercept.astype(np.float32),
        }
        if self.rejection is not None:
            out["other_prototypes"] = self.rejection.prototypes.astype(np.float32)
        return out

    def params(self) -> dict:
        """The JSON side of the weights (what is not an array)."""
        if self.rejection is None:
            return {"other_threshold": None}
        return {
            "other_threshold": float(self.rejection.threshold),
            "other_index": int(self.rejection.other_index),
        }

    @classmethod
    def from_arrays(cls, classes, arrays, params: dict) -> LinearClassifier:
        rejection = None
        if params.get("other_threshold") is not None:
            rejection = Rejection(
                np.asarray(arrays["other_prototypes"], np.float32),
                float(params["other_threshold"]),
                int(params["other_index"]),
            )
        return cls(
            list(classes),
            *(
                np.asarray(arrays[k], np.float32)
                for k in ("clf_mean", "clf_scale", "clf_coef", "clf_intercept")
            ),
            rejection=rejection,
        )


def _prototypes(x: np.ndarray, y: np.ndarray, n_classes: int, *, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    parts = []
    for k in range(n_classes):
        xk = unit_rows(x[y == k])
        if len(xk) <= PROTOTYPES_PER_CLASS:
            parts.append(xk)
            continue
        km = KMeans(PROTOTYPES_PER_CLASS, n_init=1, random_state=seed).fit(xk)
        parts.append(unit_rows(km.cluster_centers_))
    return np.concatenate(parts).astype(np.float32)


def fit_rejection(
    x: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    other_index: int,
    *,
    groups: np.ndarray | None = None,
    seed: int = 0,
    folds: int = 3,
) -> Rejection:
    """Prototypes of the training classes and the similarity threshold for "other".

    The threshold is the :data:`REJECT_QUANTILE` quantile of each training image's
    similarity to prototypes built without it (``folds``-fold cross-fitting), so about 2 %
    of images like the training ones would be called "other". Rows of one ``groups`` value
    (the views of one image) fall in the same fold: a mirror image must not stand in for
    its original.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.abs(rng.normal([[1, 0, 0]] * 40 + [[0, 1, 0]] * 40, 0.1)).astype(np.float32)
    >>> rule = fit_rejection(x, np.repeat([0, 1], 40), 2, other_index=2)
    >>> bool(rule.similarity(np.array([[0, 0, 1.0]], np.float32))[0] < rule.threshold)
    True
    """
    rng = np.random.default_rng(seed)
    groups = np.arange(len(x)) if groups is None else np.asarray(groups)
    ids, group_index = np.unique(groups, return_inverse=True)
    fold = (rng.permutation(len(ids)) % folds)[group_index]
    unseen = np.empty(len(x), np.float32)
    for f in range(folds):
        held = fold == f
        if held.all() or not held.any():
            continue
        proto = _prototypes(x[~held], y[~held], n_classes, seed=seed)
        unseen[held] = (unit_rows(x[held]) @ proto.T).max(axis=1)
    threshold = float(np.quantile(unseen, REJECT_QUANTILE))
    return Rejection(_prototypes(x, y, n_classes, seed=seed), threshold, other_index)


def fit_classifier(
    x: np.ndarray,
    y: np.ndarray,
    classes: list[str],
    *,
    other_x: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    c: float = 1.0,
    seed: int = 0,
) -> LinearClassifier:
    """Fit the linear classifier (and, with ``other_x``, the "other" class).

    Parameters
    ----------
    x : numpy.ndarray
        ``(N, D)`` training features.
    y : numpy.ndarray
        ``(N,)`` class indices into ``classes``.
    classes : list of str
        The user's classes (at least two, or one plus ``other_x``).
    other_x : numpy.ndarray, optional
        Features of the unrelated-image pool: adds the class ``"other"`` (last) and the
        distance rule. Pool rows the distance rule would accept as one of ``classes`` are
        dropped first (they look like the user's classes).
    groups : numpy.ndarray, optional
        ``(N,)`` the image each row comes from, when rows are several views of one image:
        views of one image are not each other's neighbours, nor split across folds.
    c : float, default 1.0
        Inverse L2 strength of the logistic regression.
    seed : int

    Returns
    -------
    LinearClassifier
        ``info`` says how many pool images were used and dropped.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal([[1, 0]] * 30 + [[0, 1]] * 30, 0.3).astype(np.float32)
    >>> clf = fit_classifier(x, np.repeat([0, 1], 30), ["a", "b"])
    >>> clf.predict_proba(np.array([[1.0, 0.0]], np.float32)).argmax(axis=1).tolist()
    [0]
    """
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(x, np.float32)
    y = np.asarray(y, int)
    classes = list(classes)
    info: dict = {}
    rejection = None
    if other_x is not None:
        other_x = np.asarray(other_x, np.float32)
        rejection = fit_rejection(x, y, len(classes), len(classes), groups=groups, seed=seed)
        # A pool picture the distance rule accepts as one of the user's classes (the
        # scikit-image cat for a cat model) must not be taught as "other".
        near = rejection.similarity(other_x) >= rejection.threshold
        info.update(other_pool=int(len(other_x)), other_pool_dropped=int(near.sum()))
        other_x = other_x[~near]
        classes = classes + [OTHER]
        x_all = np.concatenate([x, other_x])
        y_all = np.concatenate([y, np.full(len(other_x), len(classes) - 1)])
    else:
        x_all, y_all = x, y
    mean = x_all.mean(axis=0)
    scale = np.maximum(x_all.std(axis=0), 1e-6)
    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced", random_state=seed)
    model.fit((x_all - mean) / scale, y_all)
    coef, intercept = model.coef_, model.intercept_
    if coef.shape[0] == 1:  # scikit-learn keeps one row for two classes: p1 = sigmoid(z)
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.array([0.0, intercept[0]])
    # Classes absent from y_all (cannot happen after the checks in train) would be missing.
    full_coef = np.zeros((len(classes), x.shape[1]), np.float32)
    full_b = np.full(len(classes), -1e4, np.float32)
    full_coef[model.classes_] = coef
    full_b[model.classes_] = intercept
    return LinearClassifier(
        classes,
        mean.astype(np.float32),
        scale.astype(np.float32),
        full_coef,
        full_b,
        rejection=rejection,
        info=info,
    )
