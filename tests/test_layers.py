"""The package's shape: one folder per stage the data flows through, imports only downward.

Read with :mod:`ast`, nothing imported: every import of a package module counts,
at module level, inside a function or under ``if TYPE_CHECKING:`` alike, in every
spelling (``import privacy_checks.x``, ``from privacy_checks.x import y``,
``from privacy_checks import x``, relative imports). The package fails when

* a module imports one of a higher layer (the same layer is allowed);
* modules import each other in a cycle, within a layer too;
* a module has more than :data:`MAX_LINES` lines;
* a module lies outside the layer folders (only the package's ``__init__.py`` may).

The package's own ``__init__.py`` re-exports the vocabulary users write in a
conftest.py, so it counts as part of ``spec`` (it may import nothing higher).
The checker's self-tests feed it small synthetic packages, so that it is known
to catch what it claims.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

PACKAGE = "privacy_checks"
#: Bottom to top: a module may import its own layer and the ones before it.
LAYERS = ("spec", "data", "train", "attack", "run", "judge", "report", "plugin")
MAX_LINES = 350
ROOT = Path(__file__).resolve().parents[1]


@dataclasses.dataclass(frozen=True)
class Import:
    """One import statement's package module: who imports it, where, and which module."""

    source: str
    line: int
    target: str


def module_files(root: Path, package: str = PACKAGE) -> dict[str, Path]:
    """Every module of ``package`` under ``root`` by dotted name (a package by its own name)."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _resolve(source: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module an ``ImportFrom`` reads from (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    base = source.split(".") if is_package else source.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(source: str, path: Path, known: set[str], package: str = PACKAGE) -> list[Import]:
    """Every import of a module of ``known`` in ``path``, wherever it stands in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                # ``import a.b.c`` runs a, a.b and a.b.c; the deepest is the one it is for.
                deepest = [".".join(parts[:i]) for i in range(len(parts), 0, -1) if ".".join(parts[:i]) in known]
                targets += deepest[:1]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(source, path.name == "__init__.py", node)
            if base != package and not base.startswith(package + "."):
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.append(submodule if submodule in known else base)
        found += [Import(source, node.lineno, target) for target in targets if target in known]
    return found


def layer(path: Path, root: Path, package: str = PACKAGE) -> str | None:
    """The layer of the module at ``path``: its folder's, ``spec`` for the package's ``__init__``; None
    for a module that lies in no layer folder."""
    parts = path.relative_to(root / package).parts
    if parts == ("__init__.py",):
        return LAYERS[0]
    return parts[0] if len(parts) > 1 and parts[0] in LAYERS else None


def _display(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def knots(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected parts of ``graph`` that hold a cycle, each sorted (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    parts: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            part = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                part.append(other)
                if other == node:
                    break
            parts.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(part for part in parts if len(part) > 1 or part[0] in graph.get(part[0], ()))


def cycle_in(graph: dict[str, set[str]], knot: list[str]) -> list[str]:
    """The shortest cycle through the knot's first module, in import order (breadth first)."""
    members, start = set(knot), knot[0]
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier and start not in previous:
        following = []
        for node in frontier:
            for other in sorted(graph.get(node, ())):
                if other in members and other not in previous:
                    previous[other] = node
                    following.append(other)
        frontier = following
    path = [start]
    node = previous[start]
    while node != start:
        path.append(node)
        node = previous[node]
    return [start, *reversed(path[1:]), start]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per knot of ``graph``, each as its modules in import order."""
    return [cycle_in(graph, knot) for knot in knots(graph)]


def problems(root: Path, package: str = PACKAGE) -> list[str]:
    """Everything wrong with the shape of ``package`` under ``root``, one sentence each."""
    files = module_files(root, package)
    known = set(files)
    order = " < ".join(LAYERS)
    found = []
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        shown = _display(path, root)
        if layer(path, root, package) is None:
            found.append(f"{shown} lies outside the layer folders ({', '.join(LAYERS)}): move it into one")
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            found.append(f"{shown} has {lines} lines, more than {MAX_LINES}: split it along its seams")
        for item in imports(name, path, known, package):
            graph[name].add(item.target)
            mine, theirs = layer(path, root, package), layer(files[item.target], root, package)
            if mine in LAYERS and theirs in LAYERS and LAYERS.index(theirs) > LAYERS.index(mine):
                found.append(
                    f"{shown}:{item.line} imports {item.target}: {mine} may not import {theirs} (layers: {order})"
                )
    for knot in knots(graph):
        cycle = cycle_in(graph, knot)
        rest = [name for name in knot if name not in cycle]
        also = f" (the same knot holds {', '.join(rest)})" if rest else ""
        found.append(f"import cycle: {' -> '.join(cycle)}{also}")
    return found


def test_the_package_keeps_its_layers():
    found = problems(ROOT)
    assert not found, "\n".join(found)


def test_every_module_lies_in_a_layer_and_the_layers_are_folders():
    files = module_files(ROOT)
    assert {layer(path, ROOT) for path in files.values()} == set(LAYERS)


# -- the checker itself, on synthetic packages --------------------------------------------


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in {"__init__.py": "", **files}.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in {Path(name).parent for name in files} - {Path(".")}:
        (root / "pkg" / folder / "__init__.py").touch()
    return root


def test_checker_catches_an_upward_import(tmp_path):
    root = _package(tmp_path, {
        "spec/words.py": "",
        "judge/baselines.py": "from pkg.report import summary\n",
        "report/summary.py": "from pkg.spec.words import x\n",
    })
    assert problems(root, "pkg") == [
        "pkg/judge/baselines.py:1 imports pkg.report.summary: judge may not import report "
        "(layers: spec < data < train < attack < run < judge < report < plugin)"
    ]


def test_checker_catches_a_cycle_through_a_type_checking_import(tmp_path):
    root = _package(tmp_path, {
        "spec/a.py": "from pkg.spec import b\n",
        "spec/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.spec.c import C\n",
        "spec/c.py": "from . import a\n",
    })
    assert problems(root, "pkg") == ["import cycle: pkg.spec.a -> pkg.spec.b -> pkg.spec.c -> pkg.spec.a"]


def test_checker_names_every_module_of_a_knot(tmp_path):
    root = _package(tmp_path, {
        "spec/a.py": "import pkg.spec.b\n",
        "spec/b.py": "import pkg.spec.a\nimport pkg.spec.c\n",
        "spec/c.py": "def f():\n    import pkg.spec.a\n",
    })
    assert problems(root, "pkg") == [
        "import cycle: pkg.spec.a -> pkg.spec.b -> pkg.spec.a (the same knot holds pkg.spec.c)"
    ]


def test_checker_catches_a_function_local_import_upward_and_in_a_cycle(tmp_path):
    root = _package(tmp_path, {
        "attack/scores.py": "def f():\n    import pkg.run.tasks\n",
        "run/tasks.py": "from ..attack.scores import f\n",
    })
    assert problems(root, "pkg") == [
        "pkg/attack/scores.py:2 imports pkg.run.tasks: attack may not import run "
        "(layers: spec < data < train < attack < run < judge < report < plugin)",
        "import cycle: pkg.attack.scores -> pkg.run.tasks -> pkg.attack.scores",
    ]


def test_checker_catches_long_and_homeless_modules_and_allows_downward_imports(tmp_path):
    root = _package(tmp_path, {
        "flat.py": "",
        "data/long.py": "x = 1\n" * (MAX_LINES + 1),
        "plugin/__init__.py": "import pkg.judge.verdicts\nfrom pkg import spec\nfrom pkg.spec import words as w\n",
        "judge/verdicts.py": "from pkg.data import long\nfrom pkg.judge import other\n",
        "judge/other.py": "",
        "spec/words.py": "import os\n",
    })
    assert problems(root, "pkg") == [
        f"pkg/data/long.py has {MAX_LINES + 1} lines, more than {MAX_LINES}: split it along its seams",
        "pkg/flat.py lies outside the layer folders (spec, data, train, attack, run, judge, report, plugin): "
        "move it into one",
    ]


def test_checker_counts_the_package_root_as_spec(tmp_path):
    root = _package(tmp_path, {"__init__.py": "from pkg.run.x import y\n", "run/x.py": "import pkg\n"})
    assert problems(root, "pkg") == [
        "pkg/__init__.py:1 imports pkg.run.x: spec may not import run "
        "(layers: spec < data < train < attack < run < judge < report < plugin)",
        "import cycle: pkg -> pkg.run.x -> pkg",
    ]


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"a"}}, [["a", "b", "a"]]),
    ({"a": {"a"}}, [["a", "a"]]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ({"a": {"b", "c"}, "b": {"c"}, "c": {"a"}, "d": {"e"}, "e": {"d"}}, [["a", "c", "a"], ["d", "e", "d"]]),
])
def test_cycles_are_named_in_import_order(graph, expected):
    assert cycles(graph) == expected
