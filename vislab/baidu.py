"""Baidu clients: ``vislab.baidu.ImageClassify``, ``vislab.baidu.ImageSearch`` (and more as they land).

Examples
--------
>>> from vislab import baidu
>>> baidu.ImageClassify()
ImageClassify(mode='local')
"""

from vislab.services.baidu import ImageClassify
from vislab.services.imagesearch import ImageSearch

__all__ = ["ImageClassify", "ImageSearch"]
