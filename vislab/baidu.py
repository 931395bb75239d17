"""Baidu clients: ``vislab.baidu.ImageClassify`` (image recognition),
``vislab.baidu.ImageSearch`` (image search galleries) and ``vislab.baidu.EasyDL`` (your own
published EasyDL classifiers and detectors).

All run offline on the local engine without credentials, against ``vislab serve`` with
``base_url=``, and against Baidu's cloud with ``api_key=`` / ``secret_key=``.

Examples
--------
>>> from vislab import baidu
>>> baidu.ImageClassify()
ImageClassify(mode='local')
"""

from vislab.services.baidu_easydl import EasyDL
from vislab.services.baidu_image_classify import ImageClassify
from vislab.services.baidu_image_search import ImageSearch

__all__ = ["EasyDL", "ImageClassify", "ImageSearch"]
