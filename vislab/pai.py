"""Alibaba PAI Model Hub models: ``vislab.pai.Client(endpoint, token=...)``.

One client, one method per image, face and product model of the Model Hub (I1-I10, F1-F3,
P1); each method is mapped to an EAS service name (``services={"ocr": "my_ocr"}``).  The Model
Hub docs name no endpoint, method or authentication: the endpoint, the service names and the
token are your configuration (the default wire form is the official ``eas-prediction``
client's).  Without an endpoint the client answers offline from real local models only (see
:mod:`vislab.emulator.pai_model_hub`).  Video, speech and text models are out of scope.

Examples
--------
>>> from vislab import pai
>>> from skimage import data
>>> client = pai.Client(progress=False)                       # offline
>>> client.classify(data.chelsea()).loc[0, "label"]
'tiger cat'
>>> remote = pai.Client("http://123.cn-shanghai.pai-eas.aliyuncs.com", token="...",
...                     services={"classify": "resnet_imagenet"})  # doctest: +SKIP
"""

from __future__ import annotations

from vislab.services.pai_model_hub import Client, inventory_boxes

__all__ = ["Client", "inventory_boxes"]
