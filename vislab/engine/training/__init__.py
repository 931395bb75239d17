"""EasyDL-style training on the local engine: numpy arrays in, arrays and dataclasses out.

No pandas and no wire codes here (the front door is :mod:`vislab.easydl`).

Modules
-------
features
    Classification feature recipes ("general": the embedding; "fine": two scales, a
    generalised-mean pooling) and training views, computed in batches with decoding
    overlapped.
grid
    Per-cell features of whole images for detection and counting.
classifier
    The linear classifier on features, and the "other" class (an unrelated-image pool plus
    rejection by embedding distance).
other_pool
    The unrelated images: scikit-image and scikit-learn photos, crops, procedural pictures.
mlp
    A one-hidden-layer perceptron trained with Adam on a caller's loss (numpy).
detector
    The CenterNet-style head: centre heatmaps, offsets and sizes; decoding with NMS.
density
    The counting head: ridge regression to a dot-density map.
fit_detector
    Training both detection heads from images and boxes in one streaming pass.
runtime
    Trained heads rebuilt from their arrays, answering from pixels.
store
    :class:`TrainedModel` and :class:`ModelStore`: versions written atomically under
    ``VISLAB_HOME/easydl``, and the published-models registry.
"""

from vislab.engine.training.store import Detection, ModelStore, TrainedModel

__all__ = ["Detection", "ModelStore", "TrainedModel"]
