"""The floors: no module imports from a floor above its own, and the ground floor imports no app.

Floors, lowest first: cencomm < operations < products < messaging < results < reports < hub. ``frontend`` holds the
sign-in pages and base templates: it may import the ground floor only. Every import counts, at the top
of a module or inside a function (a function-local import is no way around a circle).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLOORS = ["cencomm", "operations", "products", "messaging", "results", "reports", "records", "hub"]
MAY_IMPORT = {name: set(FLOORS[: i + 1]) for i, name in enumerate(FLOORS)}
MAY_IMPORT["frontend"] = {"cencomm", "frontend"}
PACKAGES = set(MAY_IMPORT)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every import of one of the project's packages in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [(node.lineno, name.split(".")[0]) for name in names if name.split(".")[0] in PACKAGES]
    return sorted(found)


def modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_module_imports_from_a_floor_above_its_own(package: str) -> None:
    upward = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for path in modules(package)
        for line, target in imports_of(path)
        if target not in MAY_IMPORT[package]
    ]
    assert not upward, "\n".join(upward)


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from hub.api import api\n    return api\nimport results.models\n")
    assert imports_of(module) == [(2, "hub"), (4, "results")]
    assert "hub" not in MAY_IMPORT["cencomm"] and "results" not in MAY_IMPORT["messaging"]


def test_every_app_package_is_on_a_floor() -> None:
    apps = {p.parent.name for p in ROOT.glob("*/apps.py")}
    assert apps <= PACKAGES, apps - PACKAGES
