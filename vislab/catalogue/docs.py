"""Docs generated from the catalogue: the README's endpoint tables.

The README embeds one table per family between ``<!-- catalogue:SERVICE -->`` markers; a test
keeps them in step (regenerate with ``python -m vislab.catalogue README.md``).
"""

from __future__ import annotations

import re
from pathlib import Path

from vislab.catalogue.registry import endpoints

__all__ = ["markdown_table", "sync_readme"]


def markdown_table(service_id: str) -> str:
    """The docs table of a family's endpoints, generated from the declarations.

    Examples
    --------
    >>> print(markdown_table("baidu.image_classify").splitlines()[0])
    | method | path | options | frame |
    """
    lines = ["| method | path | options | frame |", "|---|---|---|---|"]
    for ep in endpoints(service_id):
        # A parameter of kind "image" is a pair's second image, passed positionally.
        opts = "; ".join(p.describe() for p in ep.params if p.kind != "image") or "—"
        lines.append(f"| `{ep.name}` | `{ep.path}` | {opts} | {ep.frame} |")
    return "\n".join(lines)


def sync_readme(readme_path) -> bool:
    """Rewrite the catalogue tables in a README; return True when something changed."""
    path = Path(readme_path)
    text = path.read_text("utf-8")

    def replace(match):
        service_id = match.group(1)
        return f"<!-- catalogue:{service_id} -->\n{markdown_table(service_id)}\n<!-- /catalogue -->"

    new = re.sub(r"<!-- catalogue:([\w.]+) -->.*?<!-- /catalogue -->", replace, text, flags=re.S)
    if new != text:
        path.write_text(new, "utf-8")
    return new != text
