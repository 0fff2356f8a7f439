"""Dependency rules from the architecture: leaves stay leaves, re-clean runs without Scrapy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
LEAVES = [
    "crawler/items.py",
    "crawler/sites.py",
    "crawler/urls.py",
    "pipelines/records.py",
    "pipelines/rules.py",
]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def top(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize("leaf", LEAVES)
def test_leaves_import_neither_scrapy_nor_trafilatura(leaf: str) -> None:
    assert not top(imported_modules(ROOT / leaf)) & {"scrapy", "twisted", "trafilatura"}


def test_only_clean_imports_trafilatura() -> None:
    users = {
        str(p.relative_to(ROOT))
        for p in (ROOT / "pipelines").rglob("*.py")
        if "trafilatura" in top(imported_modules(p))
    }
    assert users <= {"pipelines/clean.py"}


def test_crawler_never_imports_pipelines() -> None:
    for path in (ROOT / "crawler").rglob("*.py"):
        assert "pipelines" not in top(imported_modules(path)), path


def test_pipelines_import_scrapy_only_in_the_adapters() -> None:
    for path in (ROOT / "pipelines").rglob("*.py"):
        if path.name != "scrapy_adapters.py":
            assert not top(imported_modules(path)) & {"scrapy", "twisted"}, path


def test_reclean_runs_without_importing_scrapy() -> None:
    code = (
        "import sys, pipelines.cli, pipelines.reclean, pipelines.clean; "
        "bad = [m for m in ('scrapy', 'twisted') if m in sys.modules]; "
        "sys.exit(f'imported {bad}' if bad else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_trafilatura_imports_with_the_installed_lxml() -> None:
    # lxml 6 split lxml.html.clean out; the package must list lxml_html_clean (reliability O8).
    subprocess.run([sys.executable, "-c", "import trafilatura, lxml_html_clean"], check=True)
