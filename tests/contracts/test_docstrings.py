"""``help()`` of every public function and method shows Parameters, Returns and an example.

The public API is what the public modules export in ``__all__`` (and, for classes, their
public methods); numpydoc's own validator reads each docstring.  A property needs a docstring
(its getter documents a value, not a call).
"""

from __future__ import annotations

import importlib
import inspect

import pytest
from numpydoc.validate import validate

#: The modules users import (their ``__all__`` is the public API).
PUBLIC_MODULES = [
    "vislab.baidu",
    "vislab.generic",
    "vislab.evaluate",
    "vislab.plot",
    "vislab.widgets",
    "vislab.datasets",
    "vislab.frames",
    "vislab.images",
    "vislab.geometry",
    "vislab.easydl",
]
#: numpydoc checks: no docstring, no Examples, undocumented or unknown parameter, no Returns
#: for a function that returns something.
CHECKS = {"GL08", "EX01", "PR01", "PR02", "RT01"}


def _public_api():
    seen: dict[str, object] = {}
    for modname in PUBLIC_MODULES:
        try:
            module = importlib.import_module(modname)
        except ModuleNotFoundError:
            continue  # a front door that is not built yet
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isclass(obj) and obj.__module__.startswith("vislab"):
                qual = f"{obj.__module__}.{obj.__qualname__}"
                seen.setdefault(qual, obj)
                for mname, member in vars(obj).items():
                    if mname.startswith("_"):
                        continue
                    if inspect.isfunction(member) or isinstance(member, (property,
                                                                         classmethod,
                                                                         staticmethod)):
                        seen.setdefault(f"{qual}.{mname}", member)
            elif inspect.isfunction(obj) and obj.__module__.startswith("vislab"):
                seen.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    return sorted(seen.items())


API = _public_api()


@pytest.mark.parametrize("qualname,obj", API, ids=[q for q, _ in API])
def test_public_docstring(qualname, obj):
    if isinstance(obj, property):
        assert (obj.fget.__doc__ or "").strip(), f"{qualname}: the property has no docstring"
        return
    result = validate(qualname)
    problems = [f"{code} {msg}" for code, msg in result["errors"] if code in CHECKS]
    assert not problems, f"{qualname}: " + "; ".join(problems)
