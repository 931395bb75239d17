"""Sphinx configuration: the API reference from the docstrings, every notebook as a page."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Autodoc imports the package; keep it away from the user's ~/.vislab.
os.environ.setdefault("VISLAB_HOME", str(ROOT / "docs" / "_build" / "vislab-home"))
os.environ.setdefault("MPLBACKEND", "Agg")

import vislab  # noqa: E402

project = "vislab"
author = "the vislab authors"
copyright = "2026, the vislab authors"
release = vislab.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",
]

autosummary_generate = True
# Each object is documented once, where it is defined (packages re-export for convenience).
autodoc_default_options = {"members": True, "ignore-module-all": True, "show-inheritance": True}
autodoc_typehints = "none"  # numpydoc's Parameters sections say the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# Notebooks are rendered with the outputs stored in them (they run under nbval in CI).
nb_execution_mode = "off"
myst_enable_extensions = ["dollarmath"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

exclude_patterns = ["_build", "screenshots", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]

html_theme = "pydata_sphinx_theme"
html_title = "vislab"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}


def _copy_notebooks() -> None:
    """Render the shipped notebooks as pages: copy them (with their stored outputs) here."""
    import shutil

    target = Path(__file__).parent / "notebooks"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        shutil.copy2(nb, target / nb.name)


_copy_notebooks()
