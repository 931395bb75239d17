"""vislab's local engine: offline models behind the emulated services (no HTTP, no pandas).

Submodules
----------
backbone
    EfficientNet-Lite0 in onnxruntime: preprocessing, logits, embeddings, feature maps.
imagenet
    ImageNet-1k class names, coarse root categories and the service views' class subsets.
recognition
    General/subset labels, subject box and multi-object boxes from the backbone.
"""

from vislab.engine.backbone import Backbone, FeatureMaps, get_backbone

__all__ = ["Backbone", "FeatureMaps", "get_backbone"]
