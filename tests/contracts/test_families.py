"""Contract tests every service family passes, whatever it is (in the style of scikit-learn's
common tests): the declaration, the client, the emulator and the parser agree.

A new family is tested here by being declared: nothing below names one.
"""

from __future__ import annotations

import base64
import importlib
import inspect
import io

import pytest
from PIL import Image

from vislab import catalogue, errors
from vislab.emulator import EmulatorApp
from vislab.transport import WireReply, envelope_for

SERVICES = catalogue.services()
ENDPOINTS = [(s, ep) for s in SERVICES for ep in s.endpoints]
# Client keywords that are not wire parameters but the client's own options.
CLIENT_OPTIONS = {"top_k", "errors"}
# Parameters a client takes positionally (the images) and per-image values it fills itself.
IMAGE_ARGS = {"images"}


def _client_class(service):
    module, _, name = service.client.partition(":")
    return getattr(importlib.import_module(module), name)


def _ids(items):
    return [f"{s.id}.{ep.name}" for s, ep in items]


def test_families_are_found_and_well_formed():
    assert SERVICES, "no family declared"
    for s in SERVICES:
        assert s.module_name in catalogue.family_modules()
        assert errors.tables()[s.errors.name] is s.errors
        _client_class(s)  # a family's own envelope is registered by its client module
        envelope_for(s.envelope, s.errors)  # a known envelope
        assert s.auth in ("baidu_token", "eas", "none")
        if s.emulator:
            assert s.emulator.rsplit(".", 1)[1] == s.module_name
            importlib.import_module(s.emulator)
        assert set(s.request_errors) <= set(catalogue.REQUEST_RULES)


@pytest.mark.parametrize("service,ep", ENDPOINTS, ids=_ids(ENDPOINTS))
def test_every_endpoint_has_a_client_method_with_its_parameters(service, ep):
    client = _client_class(service)
    method = getattr(client, ep.name, None)
    assert method is not None, f"{client.__name__} has no method {ep.name}"
    sig = inspect.signature(method)
    keywords = {n for n, p in sig.parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    # A parameter of kind "image" is a second image (a pair's ``imageb``): taken positionally.
    declared = {p.name for p in ep.params if p.kind != "image"}
    assert declared <= keywords, f"{ep.name} lacks keywords {declared - keywords}"
    assert keywords - declared <= CLIENT_OPTIONS, f"{ep.name}: undeclared {keywords - declared}"
    assert "errors" in keywords, f"{ep.name} takes no errors= (the one failure rule)"
    positional = [
        n
        for n, p in sig.parameters.items()
        if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and n != "self"
    ]
    assert set(positional) <= IMAGE_ARGS
    pair = [p for p in ep.params if p.kind == "image"]
    if pair:  # a pair endpoint takes its two images positionally only: method(a, b, /, ...)
        only = [n for n, p in sig.parameters.items() if p.kind is inspect.Parameter.POSITIONAL_ONLY]
        assert len(only) == 1 + 1 + len(pair), f"{ep.name}: images a, b must be positional-only"
    doc = inspect.getdoc(method) or ""
    assert "Examples" in doc and "Returns" in doc, ep.name
    assert "Parameters" in doc or not positional, ep.name


def _image_b64(limits) -> str:
    from skimage import data

    img = Image.fromarray(data.chelsea())  # 451 x 300 px: inside every family's limits
    buf = io.BytesIO()
    img.save(buf, "JPEG" if "JPEG" in limits.formats else limits.formats[0])
    return base64.b64encode(buf.getvalue()).decode()


def _sample(param, limits):
    if param.kind == "image":
        return _image_b64(limits)
    if param.choices:
        return param.choices[0]
    if param.kind == "str":
        return "contract-test"
    if param.kind == "int_list":
        return [int(param.minimum or 1)]
    if param.kind in ("int", "float"):
        return param.minimum if param.minimum is not None else 1
    return True


_ORDER = {"signup": -1, "add": 0, "search": 1, "update": 2, "delete": 3}


def _in_order(endpoints):
    # Galleries must exist before they are searched, updated and emptied; a private tenant
    # signs up before its first add (after it, the tenant exists and signup answers 104).
    return sorted(endpoints, key=lambda se: _ORDER.get(se[1].name.rsplit("_", 1)[-1], 1))


def test_every_handler_reply_parses_with_its_endpoints_parser(tmp_path):
    app = EmulatorApp(home=tmp_path)
    for service in SERVICES:
        _client_class(service)  # registers a family's own envelope
    for service, ep in _in_order(ENDPOINTS):
        fields = {p.name: p.to_wire(_sample(p, ep.limits)) for p in ep.params if p.required}
        if ep.image != "none":
            fields[ep.image_field] = _image_b64(ep.limits)
        from vislab.transport import encode_body

        body, ctype = encode_body(fields, ep.body)
        path = ep.url_path(**ep.example) if ep.path_params else ep.path
        status, headers, out = app.handle("POST", path, {}, {"Content-Type": ctype}, body)
        try:
            reply = envelope_for(service.envelope, service.errors).decode(
                WireReply(status, headers, out)
            )
        except errors.NotAvailableLocally as exc:
            # No offline model for this endpoint: the family's error shape, naming the model
            # and how to get an answer (never a fabricated reply).
            assert ep.name in str(exc) or "model" in str(exc), (ep.name, str(exc))
            assert "deploy" in str(exc) or "pip install" in str(exc), (ep.name, str(exc))
            continue
        rows = ep.parse(reply, "img")
        assert isinstance(rows, list), ep.name
        key = {"matches": "query", "pairs": "a"}.get(ep.frame, "image")
        assert all(isinstance(r, dict) and r.get(key) == "img" for r in rows), ep.name
