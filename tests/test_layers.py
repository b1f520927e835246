"""The layering rule: the pure core imports neither asyncio nor aiohttp, not even indirectly.

Read statically (``ast``) from the sources, following every import of a ``lagrace`` module
(top-level or inside a function, but not under ``if TYPE_CHECKING``) transitively, so a pure
module that imports a shell module that imports asyncio fails too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

import lagrace

ROOT = Path(lagrace.__file__).parent
FORBIDDEN = frozenset({"asyncio", "aiohttp", "uvloop"})

# The pure core (docs/architecture.md): every module of these packages, and these modules.
PURE_PACKAGES = ("analysis", "report", "render")
PURE_MODULES = (
    "lagrace.plan",
    "lagrace.scenario",
    "lagrace.events",
    "lagrace.history",
    "lagrace.timebase",
    "lagrace.logline",
    "lagrace.versions",
    "lagrace.race.settle",
    "lagrace.race.snapshots",
    "lagrace.analysis.convergence",
    "lagrace.hunt.model",
    "lagrace.hunt.space",
    "lagrace.hunt.search",
    "lagrace.hunt.shrink",
    "lagrace.hunt.window",
    "lagrace.hunt.stats",
    "lagrace.bench.measure",
    "lagrace.bench.stats",
    "lagrace.bench.histogram",
    "lagrace.suite.catalogue",
    "lagrace.suite.matrix",
    # the simulated cluster's pure core: its state machine and what it computes
    "lagrace.sim.state_machine",
    "lagrace.sim.raft",
    "lagrace.sim.placement",
    "lagrace.sim.replica_states",
    "lagrace.sim.operations",
    "lagrace.sim.config",
    "lagrace.sim.backoff",
    "lagrace.sim.bodies",
    "lagrace.sim.views",
    "lagrace.sim.storage_errors",
)


def module_path(name: str) -> Path | None:
    """The source file of a ``lagrace`` module (``None`` if it is not one)."""
    parts = name.split(".")
    if parts[0] != "lagrace":
        return None
    base = ROOT.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, package: str) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for branch in node.orelse:
                visit(branch)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = node.module or ""
            found.add(mod)
            found.update(f"{mod}.{alias.name}" for alias in node.names)  # submodules
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


@cache
def direct_imports(name: str) -> frozenset[str]:
    """What module ``name`` imports: lagrace modules that exist, and top-level external names."""
    path = module_path(name)
    assert path is not None, name
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for imported in _imports(ast.parse(path.read_text(), str(path)), package):
        if imported.startswith("lagrace"):
            if module_path(imported) is not None:
                out.add(imported)
        else:
            out.add(imported.split(".")[0])
    # importing a.b.c runs a/__init__ and a/b/__init__ too
    for imported in list(out):
        parts = imported.split(".")
        out.update(".".join(parts[:i]) for i in range(1, len(parts)) if parts[0] == "lagrace")
    return frozenset(out)


def forbidden_chain(name: str) -> list[str] | None:
    """The import chain from ``name`` to a forbidden module, or ``None``."""
    seen: set[str] = set()
    stack: list[tuple[str, list[str]]] = [(name, [name])]
    while stack:
        current, chain = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        for imported in sorted(direct_imports(current)):
            if imported in FORBIDDEN:
                return [*chain, imported]
            if imported.startswith("lagrace"):
                stack.append((imported, [*chain, imported]))
    return None


def pure_modules() -> list[str]:
    names = list(PURE_MODULES)
    for package in PURE_PACKAGES:
        for path in sorted((ROOT / package).glob("*.py")):
            stem = path.stem
            names.append(
                f"lagrace.{package}" if stem == "__init__" else f"lagrace.{package}.{stem}"
            )
    return names


@pytest.mark.parametrize("name", pure_modules())
def test_the_pure_core_imports_neither_asyncio_nor_aiohttp(name: str) -> None:
    assert module_path(name) is not None, f"{name} is listed as pure but does not exist"
    chain = forbidden_chain(name)
    assert chain is None, " -> ".join(chain or ())


def test_importing_the_whole_pure_core_loads_neither() -> None:
    """The same rule at run time: a fresh interpreter imports every pure module at once."""
    names = pure_modules()
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in {sorted(FORBIDDEN)!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]", done.stdout


def test_the_rule_catches_an_indirect_import() -> None:
    # the race's runner is a shell: it must be found to reach asyncio (else the walk is broken)
    assert forbidden_chain("lagrace.race.runner") is not None
    chain = forbidden_chain("lagrace.race.orchestrate")
    assert chain is not None
    assert chain[-1] in FORBIDDEN


def test_type_checking_imports_do_not_count() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import asyncio\nimport json\n"
    )
    assert _imports(tree, "lagrace") == {"typing", "typing.TYPE_CHECKING", "json"}
