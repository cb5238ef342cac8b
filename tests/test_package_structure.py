"""The package graph flows one way: no import cycle between ct's subpackages and top-level
modules, counting imports inside functions too (where cycles used to hide)."""

import ast
from pathlib import Path

from helpers import REPO_ROOT

PACKAGE = REPO_ROOT / "ct"


def _unit(module: str) -> str:
    """``ct.training.trainer`` -> ``ct.training``; ``ct.files`` -> ``ct.files``."""
    parts = module.split(".")
    return ".".join(parts[:2])


def import_graph() -> dict[str, set[str]]:
    """Edges between ct's units (subpackages and top-level modules), from every import
    statement in the source, wherever it is."""
    edges: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        if module == "ct":
            continue  # the package facade re-exports lazily from everywhere
        source = _unit(module)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                if target.startswith("ct.") and _unit(target) != source:
                    edges.setdefault(source, set()).add(_unit(target))
                elif target == "ct":
                    raise AssertionError(f"{path}: imports the ct facade; import the module")
    return edges


def find_cycle(edges: dict[str, set[str]]):
    """A list of units forming a cycle, or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_package_graph_has_no_cycle():
    edges = import_graph()
    assert "ct.training" in edges and "ct.modeling" in edges["ct.training"]
    cycle = find_cycle(edges)
    assert cycle is None, " -> ".join(cycle)


def test_modeling_depends_on_neither_training_nor_export():
    edges = import_graph()
    assert not {"ct.training", "ct.export", "ct.tuning", "ct.cli"} & edges["ct.modeling"]
    assert not {"ct.training", "ct.tuning", "ct.cli"} & edges["ct.export"]


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}}) is None
