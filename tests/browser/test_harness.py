"""The browser test skips locally, and fails in CI, when the browser is missing."""

from __future__ import annotations

import pytest

from tests.browser import lab


def test_missing_browser_skips_locally(monkeypatch):
    monkeypatch.setattr(lab, "find_chromium", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Chromium found"):
        lab.require_browser()


def test_missing_browser_fails_in_ci(monkeypatch):
    monkeypatch.setattr(lab, "find_chromium", lambda: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        lab.require_browser()


def test_chromium_found_from_environment(monkeypatch, tmp_path):
    fake = tmp_path / "chrome"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("VISLAB_CHROMIUM", str(fake))
    assert lab.find_chromium() == str(fake)
