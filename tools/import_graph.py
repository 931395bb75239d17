"""Print vislab's internal import graph and check it has no circle.

``python tools/import_graph.py`` lists, for every package module, the vislab modules it
imports at module level (imports inside functions are deliberate late binding and not edges),
then the strongly connected components with more than one module (the circles; none expected).
An import of ``vislab.a.b`` counts as an edge to ``vislab.a.b``; ``from vislab.a import b`` as
an edge to ``vislab.a.b`` when ``b`` is a module, else to ``vislab.a`` (as import-linter counts
them).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "vislab"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _top_level_imports(tree: ast.Module):
    """Import nodes executed when the module is imported (not inside functions)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            continue
        else:
            stack.extend(ast.iter_child_nodes(node))


def _is_type_checking(test) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def graph() -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        tree = ast.parse(path.read_text("utf-8"))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _top_level_imports(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                # ``from a import b``: an edge to the module a.b when b is one, else to a.
                subs = [f"{base}.{alias.name}" for alias in node.names]
                targets = [s for s in subs if s in known]
                if len(targets) < len(subs):
                    targets.append(base)
            for target in targets:
                if target in known and target != name:
                    edges[name].add(target)
    return edges


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in edges:
        if v not in index:
            visit(v)
    return out


def main() -> int:
    edges = graph()
    for name in sorted(edges):
        targets = ", ".join(sorted(t.removeprefix("vislab.") for t in edges[name])) or "-"
        print(f"{name.removeprefix('vislab.') or 'vislab'}: {targets}")
    found = circles(edges)
    print(f"\n{len(edges)} modules, {sum(map(len, edges.values()))} edges, {len(found)} circle(s)")
    for component in found:
        print("  circle:", " -> ".join(component))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
