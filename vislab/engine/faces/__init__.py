"""Offline face models on onnxruntime: detection, descriptors, similarity and attributes.

The local answers of PAI's face models (F1 face similarity, F2 facial attributes), from models
converted at development time by ``tools/export_face_models.py`` and committed in
``vislab/engine/models/faces/`` (provenance, licences and training data in
``vislab/engine/models/README.md``); checksums are verified before loading and nothing is
downloaded at run time.

- :func:`detect_faces` -- MediaPipe BlazeFace, Apache-2.0.
- :func:`face_descriptor`, :func:`face_similarity` -- HSE FaceRes, Apache-2.0.
- :func:`face_attributes` -- FaceRes (age, gender) and Oarriaga's emotion net, MIT.

Errors are :class:`NoFace`, :class:`TooManyFaces` and :class:`FaceModelsMissing`, all
:class:`vislab.engine.errors.EngineError`.

Examples
--------
>>> from skimage import data
>>> faces_available()
True
>>> [face.gender for face in face_attributes(data.astronaut())]
['female']
"""

from vislab.engine.faces.attributes import EXPRESSIONS, FaceAttributes, face_attributes
from vislab.engine.faces.description import face_descriptor, face_similarity, similarity_score
from vislab.engine.faces.detection import Face, detect_faces
from vislab.engine.faces.errors import FaceModelsMissing, NoFace, TooManyFaces
from vislab.engine.faces.models import faces_available

__all__ = [
    "EXPRESSIONS",
    "Face",
    "FaceAttributes",
    "FaceModelsMissing",
    "NoFace",
    "TooManyFaces",
    "detect_faces",
    "face_attributes",
    "face_descriptor",
    "face_similarity",
    "faces_available",
    "similarity_score",
]
