"""A small multilayer perceptron in numpy, trained with Adam on a caller's loss.

The detection head is one hidden layer applied to every grid cell (a 1 x 1 convolution
network on frozen features). scikit-learn's MLP cannot take the losses a detector needs
(a focal loss on centre heatmaps, a regression counted only at object centres), so the few
lines of forward, backward and Adam live here. The weights are plain arrays: they are saved
in ``.npz`` files and would be two ``Gemm`` nodes in ONNX.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["MLP", "fit_mlp"]

LossFn = Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]


@dataclass
class MLP:
    """``y = relu(((x - mean) / scale) @ w1 + b1) @ w2 + b2``.

    Examples
    --------
    >>> net = MLP.init(3, 4, 2, seed=0)
    >>> net.forward(np.ones((5, 3), np.float32)).shape
    (5, 2)
    """

    mean: np.ndarray
    scale: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray

    @classmethod
    def init(cls, n_in: int, n_hidden: int, n_out: int, *, seed: int = 0) -> MLP:
        rng = np.random.default_rng(seed)
        return cls(
            mean=np.zeros(n_in, np.float32),
            scale=np.ones(n_in, np.float32),
            w1=(rng.standard_normal((n_in, n_hidden)) * np.sqrt(2.0 / n_in)).astype(np.float32),
            b1=np.zeros(n_hidden, np.float32),
            w2=(rng.standard_normal((n_hidden, n_out)) * np.sqrt(1.0 / n_hidden)).astype(
                np.float32
            ),
            b2=np.zeros(n_out, np.float32),
        )

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The weights as named arrays (for an ``.npz`` file)."""
        return {f"{prefix}{k}": getattr(self, k) for k in ("mean", "scale", "w1", "b1", "w2", "b2")}

    @classmethod
    def from_arrays(cls, arrays, prefix: str) -> MLP:
        return cls(
            **{
                k: np.asarray(arrays[f"{prefix}{k}"], np.float32)
                for k in ("mean", "scale", "w1", "b1", "w2", "b2")
            }
        )

    def forward(self, x: np.ndarray, *, chunk: int = 65536) -> np.ndarray:
        out = np.empty((len(x), self.w2.shape[1]), np.float32)
        for i in range(0, len(x), chunk):
            xs = (np.asarray(x[i : i + chunk], np.float32) - self.mean) / self.scale
            out[i : i + chunk] = np.maximum(xs @ self.w1 + self.b1, 0) @ self.w2 + self.b2
        return out


def fit_mlp(
    x: np.ndarray,
    targets: np.ndarray,
    loss: LossFn,
    *,
    n_hidden: int = 64,
    n_out: int,
    epochs: int = 12,
    batch: int = 2048,
    lr: float = 3e-3,
    weight_decay: float = 1e-4,
    seed: int = 0,
    init_bias: np.ndarray | None = None,
    progress: Callable[[int], None] | None = None,
) -> MLP:
    """Train an :class:`MLP` with Adam on minibatches of rows of ``x``.

    Parameters
    ----------
    x : numpy.ndarray
        ``(N, D)`` inputs (float16 or float32); standardised by their mean and spread.
    targets : numpy.ndarray
        ``(N, T)`` whatever ``loss`` reads.
    loss : callable
        ``loss(outputs, targets) -> (value, d value / d outputs)`` for one minibatch.
    n_hidden, n_out : int
        Hidden width and number of outputs.
    epochs, batch, lr, weight_decay, seed
        The optimiser's settings (the learning rate decays by cosine to a tenth).
    init_bias : numpy.ndarray, optional
        Starting output biases (a focal loss starts from a low prior, say).
    progress : callable, optional
        Called with the number of rows done after each minibatch.

    Returns
    -------
    MLP

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((512, 2)).astype(np.float32)
    >>> y = (x[:, :1] * x[:, 1:] > 0).astype(np.float32)         # XOR: not linear
    >>> def bce(z, t):
    ...     p = 1 / (1 + np.exp(-z))
    ...     return float(np.mean(-t * np.log(p + 1e-9) - (1 - t) * np.log(1 - p + 1e-9))), (p - t) / len(z)
    >>> net = fit_mlp(x, y, bce, n_hidden=16, n_out=1, epochs=60, batch=64, lr=1e-2)
    >>> float(((net.forward(x) > 0) == (y > 0.5)).mean()) > 0.9
    True
    """
    rng = np.random.default_rng(seed)
    n, d = x.shape
    net = MLP.init(d, n_hidden, n_out, seed=seed)
    sample = x[rng.choice(n, min(n, 50000), replace=False)].astype(np.float32)
    net.mean = sample.mean(axis=0)
    net.scale = np.maximum(sample.std(axis=0), 1e-3).astype(np.float32)
    if init_bias is not None:
        net.b2 = np.asarray(init_bias, np.float32).copy()
    params = [net.w1, net.b1, net.w2, net.b2]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    b1, b2, eps = 0.9, 0.999, 1e-8
    steps_per_epoch = max(1, -(-n // batch))
    total = epochs * steps_per_epoch
    step = 0
    for _epoch in range(epochs):
        order = rng.permutation(n)
        for s in range(steps_per_epoch):
            idx = np.sort(order[s * batch : (s + 1) * batch])
            xs = (x[idx].astype(np.float32) - net.mean) / net.scale
            h_pre = xs @ net.w1 + net.b1
            h = np.maximum(h_pre, 0)
            out = h @ net.w2 + net.b2
            _, g_out = loss(out, targets[idx])
            g_w2 = h.T @ g_out
            g_b2 = g_out.sum(axis=0)
            g_h = (g_out @ net.w2.T) * (h_pre > 0)
            g_w1 = xs.T @ g_h
            g_b1 = g_h.sum(axis=0)
            grads = [g_w1 + weight_decay * net.w1, g_b1, g_w2 + weight_decay * net.w2, g_b2]
            step += 1
            rate = lr * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * step / total)))
            for p, g, mm, vv in zip(params, grads, m, v, strict=True):
                mm *= b1
                mm += (1 - b1) * g
                vv *= b2
                vv += (1 - b2) * g * g
                p -= rate * (mm / (1 - b1**step)) / (np.sqrt(vv / (1 - b2**step)) + eps)
            if progress is not None:
                progress(len(idx))
    return net
