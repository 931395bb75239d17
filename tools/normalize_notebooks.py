"""Give every shipped notebook the kernelspec JupyterLab writes, so opening one changes nothing.

JupyterLab (with ipykernel's default kernel) rewrites ``metadata.kernelspec`` to
``{"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}`` when a
notebook is opened; a notebook saved with another display name shows as modified at once.
Run ``python tools/normalize_notebooks.py`` after executing notebooks with other tools.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def normalize(path: Path) -> bool:
    """Set the kernelspec of one notebook; True when the file changed."""
    text = path.read_text("utf-8")
    nb = json.loads(text)
    if nb.get("metadata", {}).get("kernelspec") == KERNELSPEC:
        return False
    nb.setdefault("metadata", {})["kernelspec"] = dict(KERNELSPEC)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", "utf-8")
    return True


def main() -> int:
    changed = [p.name for p in sorted((ROOT / "notebooks").glob("*.ipynb")) if normalize(p)]
    print("normalized:", ", ".join(changed) or "nothing to do")
    return 0


if __name__ == "__main__":
    sys.exit(main())
