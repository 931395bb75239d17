"""Helpers for real-browser tests: a throwaway JupyterLab server and a Chromium driver.

The browser is Debian's Chromium (``/usr/bin/chromium``), driven by ``playwright-core`` from
npm (installed into ``tests/browser/node_modules`` by ``.ci/browser-deps.sh``) with its
executable path set, so no browser is ever downloaded.  The JupyterLab server listens on
127.0.0.1 on a free port with a random token, in a temporary folder with its own config,
runtime and workspace folders, and is always killed (with its kernels) on exit.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DRIVER = HERE / "driver.mjs"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def find_chromium() -> str | None:
    """Path of a system Chromium: ``$VISLAB_CHROMIUM``, Debian's, or one on ``PATH``."""
    env = os.environ.get("VISLAB_CHROMIUM")
    candidates = [env] if env else []
    candidates += list(CHROMIUM_CANDIDATES)
    candidates += [shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")]
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def _missing(reason: str):
    """Skip locally; fail in CI, where a missing browser means the CI script is broken."""
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"{reason} (CI=true: the browser test must run in CI)", pytrace=False)
    pytest.skip(reason)


def require_browser() -> tuple[str, str]:
    """``(chromium, node)`` paths, or skip/fail with a reason saying how to install them."""
    chromium = find_chromium()
    if chromium is None:
        _missing(
            "no Chromium found (looked at $VISLAB_CHROMIUM, /usr/bin/chromium, PATH); "
            "install it with `bash .ci/browser-deps.sh` as root"
        )
    node = shutil.which("node")
    if node is None:
        _missing("Node.js is not installed; the browser driver needs it (apt-get install nodejs)")
    if not (HERE / "node_modules" / "playwright-core" / "package.json").is_file():
        _missing(
            "playwright-core is not installed in tests/browser/node_modules; "
            "run `bash .ci/browser-deps.sh` (or `npm ci` in tests/browser)"
        )
    return chromium, node


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_notebook(path: Path, cells: list[str]) -> Path:
    """Write a notebook of code cells (nbformat 4) using the current Python's kernel."""
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"cell-{i}",
                "metadata": {},
                "outputs": [],
                "source": src,
            }
            for i, src in enumerate(cells)
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb, indent=1))
    return path


@dataclass
class LabServer:
    url: str
    token: str
    root: Path
    log: Path
    process: subprocess.Popen

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?token={self.token}"

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


@contextmanager
def jupyter_lab(root: Path, *, startup_timeout: float = 90.0):
    """Run JupyterLab on 127.0.0.1 serving ``root``; kill it and its kernels on exit."""
    port = free_port()
    token = secrets.token_hex(16)
    home = root.parent / f"{root.name}-jupyter"
    for sub in ("config/labconfig", "data", "runtime", "workspaces", "settings"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    # Render every cell (JupyterLab 4 detaches cells scrolled out of view by default), so
    # outputs far down the notebook are laid out when a test looks at them.
    tracker = home / "settings/@jupyterlab/notebook-extension/tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True, exist_ok=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    # No "get news?" pop-up over the page, no update check.
    (home / "config/labconfig/page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        NO_PROXY="127.0.0.1,localhost",
        MPLBACKEND="module://matplotlib_inline.backend_inline",
    )
    log = home / "server.log"
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    with open(log, "w") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = LabServer(f"http://127.0.0.1:{port}", token, root, log, proc)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"JupyterLab exited with {proc.returncode}:\n{server.log_tail()}"
                )
            try:
                urllib.request.urlopen(f"{server.url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"JupyterLab did not start in {startup_timeout:.0f} s:\n{server.log_tail()}"
                    ) from None
                time.sleep(0.3)
        yield server
    finally:
        _kill_group(proc)


def _kill_group(proc: subprocess.Popen) -> None:
    """Stop the server's own process group (it holds the kernels it started)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers: kernels that ignored SIGTERM
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass


def run_plan(plan: dict, *, workdir: Path, timeout: float = 240.0) -> dict:
    """Run ``driver.mjs`` on ``plan``; return its results or fail with the driver's log."""
    chromium, node = require_browser()
    plan = {"chromium": chromium, "userDataDir": str(workdir / "chromium-profile"), **plan}
    (workdir / "chromium-profile").mkdir(parents=True, exist_ok=True)
    plan_file = workdir / "plan.json"
    plan_file.write_text(json.dumps(plan))
    proc = subprocess.Popen(
        [node, str(DRIVER), str(plan_file)],
        cwd=HERE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        stdout, stderr = proc.communicate()
        raise AssertionError(
            f"browser driver timed out after {timeout:.0f} s\n{stderr[-3000:]}"
        ) from None
    finally:
        if proc.poll() is None:
            _kill_group(proc)
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise AssertionError(
            f"browser driver printed no result (exit {proc.returncode}):\n"
            f"{stdout[-2000:]}\n{stderr[-3000:]}"
        )
    answer = json.loads(lines[-1])
    if not answer.get("ok"):
        raise AssertionError(
            "browser driver failed: "
            + answer.get("error", "?")[:3000]
            + "\nsteps: "
            + "; ".join(answer.get("log", [])[-30:])
        )
    return answer["results"]
