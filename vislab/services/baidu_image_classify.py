"""Baidu image recognition client, ``AipImageClassify``-style, returning frames.

Method names are the SDK's in snake_case (``advancedGeneral`` -> :meth:`advanced_general`).
Each takes one image or many (path, URL, bytes, PIL image, array, glob pattern, list,
Series, dict) and returns a frame (:mod:`vislab.frames`).

Local mode (no credentials) answers from the built-in engine: labels are English ImageNet
names and the local engine has no encyclopaedia, calories or model years, so those fields are
absent rather than invented (see :mod:`vislab.emulator.baidu_image_classify` for what each local
answer means).
"""

from __future__ import annotations

from vislab.catalogue.baidu_image_classify import SERVICE
from vislab.services.client import ServiceClient
from vislab.services.docs import endpoint_doc
from vislab.services.params import brief_text, images_or_cont_sign

_EP = {ep.name: ep for ep in SERVICE.endpoints}

__all__ = ["ImageClassify"]


class ImageClassify(ServiceClient):
    """Baidu image recognition: general, dish, car, animal, plant, logo, subject detection.

    Parameters
    ----------
    api_key, secret_key : str, optional
        Baidu AI console credentials (or ``VISLAB_BAIDU_API_KEY`` / ``VISLAB_BAIDU_SECRET_KEY``).
        Without them the client runs offline on the local engine.
    base_url : str, optional
        A ``vislab serve`` URL (or another server speaking the same wire format); defaults to
        Baidu's cloud when keys are given.  It must start with ``http://`` or ``https://``.
    qps : float, optional
        Requests per second for this client, shared by its threads (default: no limit).
    max_workers : int, default 4
        Concurrent requests in a batch.
    timeout : float, default 30.0
        Seconds per request.
    retries : int, default 3
        Retries of transient failures (Baidu's codes 1, 2, 4, 18, 282000, 336000, HTTP 5xx,
        timeouts and connection resets), with exponential backoff and jitter.
    cache : str or Path, optional
        Folder of a reply cache keyed by backend, endpoint, parameters and image bytes, so a
        re-run notebook does not pay twice.
    progress : bool, default True
        Show a progress bar for batches.
    fit : bool, default True
        Shrink or re-encode images that break the endpoint's size or format rules instead of
        failing them.
    verify : bool, default True
        TLS certificate verification.
    errors : {"row", "raise"}, default "row"
        Default of every call: failed images as error rows plus one warning, or raise the
        first failure (:mod:`vislab.services.failures`).
    transport : Transport, optional
        A ready transport (overrides ``base_url``; the credentials still apply).

    Examples
    --------
    >>> from vislab import baidu
    >>> client = baidu.ImageClassify()          # offline, local engine
    >>> client
    ImageClassify(mode='local')
    >>> cloud = baidu.ImageClassify(api_key="AK", secret_key="SK")   # doctest: +SKIP
    """

    service = "baidu.image_classify"

    @endpoint_doc(_EP["advanced_general"])
    def advanced_general(self, images, *, baike_num=None, errors=None):
        """General object and scene recognition -> labels frame with ``root``.

        Examples
        --------
        >>> from skimage import data
        >>> df = ImageClassify(progress=False).advanced_general({"cat": data.chelsea()})
        >>> list(df.columns[:4])
        ['image', 'rank', 'label', 'score']
        """
        return self._call("advanced_general", images, {"baike_num": baike_num}, errors=errors)

    @endpoint_doc(_EP["dish_detect"])
    def dish_detect(
        self, images, *, top_num=None, filter_threshold=None, baike_num=None, errors=None
    ):
        """Dish recognition -> labels frame with ``calorie`` (per 100 g) where known.

        Examples
        --------
        >>> from skimage import data
        >>> df = ImageClassify(progress=False).dish_detect({"coffee": data.coffee()}, top_num=3)
        >>> len(df) <= 3
        True
        """
        return self._call(
            "dish_detect",
            images,
            {"top_num": top_num, "filter_threshold": filter_threshold, "baike_num": baike_num},
            errors=errors,
        )

    @endpoint_doc(_EP["car_detect"])
    def car_detect(self, images, *, top_num=None, baike_num=None, errors=None):
        """Car model recognition -> labels frame (``year``, ``color``, box where known).

        Examples
        --------
        >>> from skimage import data
        >>> df = ImageClassify(progress=False).car_detect({"rocket": data.rocket()}, top_num=2)
        >>> set(df["image"])
        {'rocket'}
        """
        return self._call(
            "car_detect", images, {"top_num": top_num, "baike_num": baike_num}, errors=errors
        )

    @endpoint_doc(_EP["animal_detect"])
    def animal_detect(self, images, *, top_num=None, baike_num=None, errors=None):
        """Animal recognition -> labels frame.

        Examples
        --------
        >>> from skimage import data
        >>> ImageClassify(progress=False).animal_detect({"cat": data.chelsea()})["label"].iloc[0]
        ... # doctest: +SKIP
        'tabby cat'
        """
        return self._call(
            "animal_detect", images, {"top_num": top_num, "baike_num": baike_num}, errors=errors
        )

    @endpoint_doc(_EP["plant_detect"])
    def plant_detect(self, images, *, baike_num=None, errors=None):
        """Plant recognition -> labels frame.

        Examples
        --------
        >>> from skimage import data
        >>> df = ImageClassify(progress=False).plant_detect({"coffee": data.coffee()})
        >>> "score" in df
        True
        """
        return self._call("plant_detect", images, {"baike_num": baike_num}, errors=errors)

    @endpoint_doc(_EP["object_detect"])
    def object_detect(self, images, *, with_face=None, errors=None):
        """Main subject box -> boxes frame (label and score empty: the API gives neither).

        Examples
        --------
        >>> from skimage import data
        >>> df = ImageClassify(progress=False).object_detect({"cat": data.chelsea()})
        >>> bool(df[["x", "y", "w", "h"]].notna().all(axis=None))
        True
        """
        return self._call("object_detect", images, {"with_face": with_face}, errors=errors)

    @endpoint_doc(_EP["multi_object_detect"])
    def multi_object_detect(self, images, *, errors=None):
        """Several subjects, each with a name and score -> boxes frame.

        Examples
        --------
        >>> from skimage import data
        >>> df = ImageClassify(progress=False).multi_object_detect({"astronaut": data.astronaut()})
        >>> bool((df["w"] > 0).all())
        True
        """
        return self._call("multi_object_detect", images, {}, errors=errors)

    @endpoint_doc(_EP["logo_search"])
    def logo_search(self, images, *, custom_lib=None, errors=None):
        """Logo recognition -> boxes frame (locally: your logos added with :meth:`logo_add`).

        Examples
        --------
        >>> client = ImageClassify(progress=False)
        >>> df = client.logo_search("logo.png")   # doctest: +SKIP
        """
        return self._call("logo_search", images, {"custom_lib": custom_lib}, errors=errors)

    @endpoint_doc(
        _EP["logo_add"],
        types={"brief": "str, dict or callable"},
        notes={"brief": "A dict is sent as JSON; ``callable(identifier)`` gives one per image."},
    )
    def logo_add(self, images, *, brief, errors=None):
        """Add logos to your library -> gallery frame with each logo's ``cont_sign``.

        Examples
        --------
        >>> client = ImageClassify(progress=False)
        >>> client.logo_add("acme.png", brief={"name": "acme"})   # doctest: +SKIP
        """
        return self._call(
            "logo_add",
            images,
            {},
            per_image=lambda ident: {"brief": brief_text(brief, ident)},
            keep=("brief",),
            errors=errors,
        )

    @endpoint_doc(
        _EP["logo_delete"],
        images="""images : image or many, optional
    The logos to delete, by their pixels (or give ``cont_sign``: one or a list).""",
    )
    def logo_delete(self, images=None, *, cont_sign=None, errors=None):
        """Delete logos by image or by ``cont_sign`` (one or a list) -> gallery frame.

        Examples
        --------
        >>> ImageClassify(progress=False).logo_delete(cont_sign="123,456")   # doctest: +SKIP
        """
        signs = images_or_cont_sign(images, cont_sign)
        if signs is None:
            return self._call("logo_delete", images, {}, errors=errors)
        return self._call_without_image(
            "logo_delete", [[s] for s in signs], "cont_sign", errors=errors
        )
