"""The README's option snippet runs as copied (offline: no keys in the environment)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_option_snippet_runs_as_copied(monkeypatch, tmp_path):
    monkeypatch.delenv("VISLAB_BAIDU_API_KEY", raising=False)
    monkeypatch.delenv("VISLAB_BAIDU_SECRET_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    text = README.read_text("utf-8")
    block = re.search(r"Options are keyword-only:\n\n```python\n(.*?)```", text, re.S)
    assert block, "the README lost its option snippet"
    namespace: dict = {}
    exec(compile(block.group(1), "README.md", "exec"), namespace)
    client = namespace["client"]
    assert client.mode == "local" and client.session.limiter.qps == 10
