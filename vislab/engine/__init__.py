"""vislab's local engine: offline models behind the emulated services (no HTTP, no pandas).

Submodules
----------
backbone
    EfficientNet-Lite0 in onnxruntime: preprocessing, logits, embeddings, feature maps.
files
    The backbone over image files: DCT-scaled JPEG decoding overlapped with inference.
onnx_model
    The committed ONNX file, its checksum and the onnxruntime sessions.
preprocess
    The backbone's centre crop, resize and normalisation.
whole_image
    Whole-image inputs for detection-style uses (resize, pad to the stride), ``FeatureMaps``.
pixels
    The one check of the pixel arrays every engine function takes (``uint8`` RGB).
imagenet
    ImageNet-1k class names, coarse root categories and the service views' class subsets.
recognition
    General/subset labels, subject box and multi-object boxes from the backbone.
gallery
    Image-search galleries: one SQLite (WAL) store per (product, name), searched in memory.
hashing
    Content signatures (cont_sign), perceptual hashes and the same-image copy check.
texture
    The texture descriptor that fabric (materiel) search weights.
ocr
    Text lines (text, score, quadrilateral) from RapidOCR's PP-OCRv4 models (extra ``ocr``).
paths
    The vislab home folder (``VISLAB_HOME``, default ``~/.vislab``).
faces
    Offline face models (BlazeFace, FaceRes, Emotion): detection, similarity, attributes.
foreground
    Person (foreground) segmentation with MediaPipe Selfie Segmentation.
"""

from vislab.engine.backbone import Backbone, FeatureMaps, get_backbone

__all__ = ["Backbone", "FeatureMaps", "get_backbone"]
