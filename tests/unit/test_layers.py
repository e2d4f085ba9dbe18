"""The layer rule of docs/architecture.md: imports between our packages only point down."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "trainyard"

# package -> the packages of ours it may import (besides itself and trainyard.errors).
ALLOWED: dict[str, set[str]] = {
    "config": set(),
    "searcher": {"config"},
    "scheduler": {"config"},
    # Predictions from history (issue 15): pure functions over records, sklearn inside.
    "predict": set(),
    "storage": set(),
    "core": {"config", "storage"},
    "pytorch": {"core", "config"},
    "launch": {"core"},
    "master": {"config", "searcher", "scheduler", "core", "storage", "launch", "webui"},
    "webui": {"master", "config", "searcher", "storage", "scheduler"},
    "client": {"config"},
    # The CLI starts an embedded master (`trainyard run`, `trainyard master up`): see
    # docs/architecture.md, "Departures".
    "cli": {"client", "config", "searcher", "master"},
    # Determined's public API shaped over ours (docs/migrating-from-determined.md).
    "determined": {"core", "pytorch", "config", "storage"},
}
PURE = {"searcher", "scheduler", "predict"}
IMPURE_MODULES = {"asyncio", "socket", "sqlalchemy", "httpx", "time", "datetime", "threading"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _package_files(package: str) -> list[Path]:
    return sorted((PACKAGE_ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_down(package: str) -> None:
    allowed = ALLOWED[package] | {package, "errors"}
    offenders = []
    for path in _package_files(package):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "trainyard" and len(parts) > 1 and parts[1] not in allowed:
                offenders.append(f"{path.relative_to(PACKAGE_ROOT)} imports {name}")
    assert offenders == [], "\n".join(offenders)


@pytest.mark.parametrize("package", sorted(PURE))
def test_pure_packages_touch_no_clock_db_or_network(package: str) -> None:
    offenders = []
    for path in _package_files(package):
        for name in _imports(path):
            if name.split(".")[0] in IMPURE_MODULES:
                offenders.append(f"{path.relative_to(PACKAGE_ROOT)} imports {name}")
    assert offenders == [], "\n".join(offenders)


def test_every_package_is_covered_by_the_rule() -> None:
    packages = {p.name for p in PACKAGE_ROOT.iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert packages - {"__pycache__"} == set(ALLOWED)
