"""The catalogue is the one declaration: docs, validation and routes all read it."""

from pathlib import Path

import pytest

from vislab import catalogue
from vislab.catalogue import Param
from vislab.emulator.registry import handler_for
from vislab.errors import InvalidParameter

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_tables_in_step():
    text = README.read_text("utf-8")
    for service in {ep.service for ep in catalogue.endpoints()}:
        marker = f"<!-- catalogue:{service} -->\n{catalogue.markdown_table(service)}\n"
        assert marker in text, f"run `python -m vislab.catalogue README.md` ({service})"


def test_every_endpoint_has_a_handler_and_unique_path():
    paths = [ep.path for ep in catalogue.endpoints()]
    assert len(paths) == len(set(paths))
    for ep in catalogue.endpoints():
        assert handler_for(catalogue.service(ep.service), ep.name) is not None, ep.name
        if not ep.path_params:
            assert catalogue.by_path(ep.path) is ep


@pytest.mark.parametrize("param,value,wire", [
    (Param("n", "int", minimum=1, maximum=5, wire_str=True), 3, "3"),
    (Param("f", "float", minimum=0, maximum=1), "0.5", 0.5),
    (Param("b", "bool"), True, "true"),
    (Param("t", "int_list", minimum=1, maximum=65535), [1, 2], "1,2"),
    (Param("s", "str", maximum=4), "abcd", "abcd"),
])
def test_param_to_wire(param, value, wire):
    assert param.to_wire(value) == wire


@pytest.mark.parametrize("param,value,fragment", [
    (Param("n", "int", minimum=1, maximum=5), 6, "1..5"),
    (Param("n", "int"), 1.5, "type int"),
    (Param("c", "int", choices=(0, 1)), 2, "one of [0, 1]"),
    (Param("s", "str", maximum=4), "héllo", "<= 4 bytes"),
    (Param("t", "int_list", minimum=1, maximum=65535), [0], "1..65535"),
    (Param("b", "bool"), "maybe", "type bool"),
])
def test_param_errors_name_the_parameter(param, value, fragment):
    with pytest.raises(InvalidParameter) as info:
        param.to_wire(value)
    assert fragment in str(info.value) and info.value.name == param.name
