"""Any image input -> validated, encoded payload for one endpoint.

Accepted inputs (:func:`expand_images`): a path (``str`` / ``pathlib.Path``), raw ``bytes``, a
PIL image, a numpy array (see :mod:`vislab.images.arrays` for the one rule every dtype
follows), an ``http(s)://`` URL, a glob pattern (``"photos/*.jpg"``), or many of those as a
list, tuple, pandas Series (the index is *not* used; the values are) or ``dict``
{identifier: image}.  A DataFrame column is passed as that Series: ``df["path"]``.

:func:`prepare_image` reads the source (regular files and capped, time-limited downloads
only: :mod:`vislab.images.sources`), checks the pixel size from the header before decoding,
applies the EXIF orientation, normalises the pixel mode and checks the endpoint's
:class:`ImageLimits` (format, encoded size as that service counts it, shortest / longest
side, aspect ratio).  With ``fit=True`` (the default) an image that is merely too large is
shrunk and re-encoded instead of failing; an image that cannot be fixed (too small, extreme
aspect ratio, not an image) raises :class:`~vislab.errors.InvalidImage` naming the rule, the
limit and the value.

Decisions a user may want to know:

* Animated GIFs: the **first frame** is sent (re-encoded as PNG when the endpoint does not
  take GIF), and ``PreparedImage.note`` says so.
* 16-bit, CMYK, palette-with-transparency and other modes are converted to 8-bit RGB
  (transparent areas composited on white), because the services accept 8-bit colour only.
* Original bytes are sent untouched whenever they already pass every rule, so a re-run sends
  the same bytes (and hits the cache); anything converted is re-encoded as JPEG quality 95
  (or PNG for images with few colours).
"""

from vislab.images.arrays import array_to_pil
from vislab.images.decode import decode_pixels, read_header
from vislab.images.limits import ImageLimits, PreparedImage, encoded_size
from vislab.images.prepare import MAX_DECODE_PIXELS, prepare_image
from vislab.images.sources import (
    MAX_READ_BYTES,
    URL_DEADLINE,
    expand_images,
    image_id,
    load_bytes,
)

__all__ = [
    "ImageLimits",
    "PreparedImage",
    "expand_images",
    "load_bytes",
    "prepare_image",
    "encoded_size",
    "image_id",
    "decode_pixels",
    "read_header",
    "array_to_pil",
    "MAX_DECODE_PIXELS",
    "MAX_READ_BYTES",
    "URL_DEADLINE",
]
