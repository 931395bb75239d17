"""Baidu clients: ``vislab.baidu.ImageClassify`` (and more as they land).

Examples
--------
>>> from vislab import baidu
>>> baidu.ImageClassify()
ImageClassify(mode='local')
"""

from vislab.services.baidu import ImageClassify

__all__ = ["ImageClassify"]
