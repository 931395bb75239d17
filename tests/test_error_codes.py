"""The code tables (vislab.error_codes) and the hierarchy (vislab.errors) stay one API."""

from __future__ import annotations

import pytest

import vislab.error_codes as error_codes
import vislab.errors as errors


def test_every_kind_has_its_error_class():
    assert set(errors._KIND_CLASSES) == set(error_codes.KINDS)
    for kind, cls in errors._KIND_CLASSES.items():
        table = error_codes.CodeTable("kinds-test", [error_codes.ErrorCode(7, "x", kind)])
        assert type(errors.error_for_code(7, table=table)) is cls


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind must be one of"):
        error_codes.ErrorCode(1, "x", "nonsense")


def test_code_tables_stay_importable_from_errors():
    for name in error_codes.__all__:
        if name == "KINDS":
            continue
        assert getattr(errors, name) is getattr(error_codes, name), name
    assert errors.tables()["vislab"] is errors.VISLAB_CODES


def test_invalid_image_code_reads_the_rule_table():
    for rule, code in error_codes.LOCAL_RULE_CODES.items():
        assert errors.InvalidImage("x", rule=rule).code == code
    assert errors.InvalidImage("x", rule="no-such-rule").code == 990141
