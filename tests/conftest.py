"""Shared fixtures: real images, a real `vislab serve` subprocess, a temporary VISLAB_HOME."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory):
    """Never write into the user's ~/.vislab from tests."""
    home = tmp_path_factory.mktemp("vislab-home")
    old = os.environ.get("VISLAB_HOME")
    os.environ["VISLAB_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("VISLAB_HOME", None)
    else:
        os.environ["VISLAB_HOME"] = old


@pytest.fixture(scope="session")
def photos() -> dict[str, np.ndarray]:
    """Real photographs shipped with scikit-image."""
    from skimage import data

    return {
        "chelsea": data.chelsea(),
        "coffee": data.coffee(),
        "astronaut": data.astronaut(),
        "rocket": data.rocket(),
    }


def jpeg_bytes(array: np.ndarray, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@pytest.fixture(scope="session")
def photo_files(photos, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("photos")
    out = {}
    for name, array in photos.items():
        path = folder / f"{name}.jpg"
        path.write_bytes(jpeg_bytes(array))
        out[name] = path
    return out


def point_at(client, base_url: str):
    """Point an official ``baidu-aip`` SDK client at ``base_url`` instead of Baidu's cloud.

    The SDK keeps its endpoints in class-private string attributes; rewriting them on the
    instance is the only change the SDK needs to talk to `vislab serve`.
    """
    for cls in type(client).__mro__:
        for name, value in list(vars(cls).items()):
            if isinstance(value, str) and value.startswith("https://aip.baidubce.com"):
                setattr(client, name, value.replace("https://aip.baidubce.com", base_url))
    return client


class ServeProcess:
    """A real `vislab serve` child process on 127.0.0.1 with a free port."""

    def __init__(self, *args: str, env=None):
        cmd = [sys.executable, "-m", "vislab", "serve", "--port", "0", *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env or os.environ.copy())
        deadline = time.time() + 60
        line = ""
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if "listening on" in line or self.proc.poll() is not None:
                break
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if not match:
            self.stop()
            raise RuntimeError(f"vislab serve did not start: {line!r} {self.proc.stderr.read()}")
        self.url = f"http://127.0.0.1:{match.group(1)}"

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return (self.proc.stderr.read() or "") if self.proc.stderr else ""


@pytest.fixture(scope="session")
def served():
    """`vislab serve --api-key K --secret-key S` for the whole session."""
    # Keys from the environment, as documented: flags would show in `ps` (and warn).
    env = {**os.environ, "VISLAB_SERVE_API_KEY": "test-api-key-123",
           "VISLAB_SERVE_SECRET_KEY": "test-secret-456"}
    server = ServeProcess(env=env)
    server.api_key, server.secret_key = "test-api-key-123", "test-secret-456"
    yield server
    server.stop()
