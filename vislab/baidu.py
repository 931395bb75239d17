"""Baidu clients: ``vislab.baidu.ImageClassify`` (image recognition),
``vislab.baidu.ImageSearch`` (image search galleries in Baidu's cloud),
``vislab.baidu.PrivateImageSearch`` (image search on a private deployment) and
``vislab.baidu.EasyDL`` (your own published EasyDL classifiers and detectors).

All run offline on the local engine without credentials (or host), against ``vislab serve``
with ``base_url=``, and against the real service with ``api_key=`` / ``secret_key=`` (the
cloud) or ``host=`` (a private box).  :func:`plan` prices a month of image-search calls.

Examples
--------
>>> from vislab import baidu
>>> baidu.ImageClassify()
ImageClassify(mode='local')
"""

from vislab.services.baidu_easydl import EasyDL
from vislab.services.baidu_image_classify import ImageClassify
from vislab.services.baidu_image_search import ImageSearch
from vislab.services.baidu_image_search_private import PrivateImageSearch
from vislab.services.baidu_plan import plan

__all__ = ["EasyDL", "ImageClassify", "ImageSearch", "PrivateImageSearch", "plan"]
