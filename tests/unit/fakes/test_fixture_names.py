"""Every fixture name is defined once across the test tree, and no helper in
tests/support shares one: a test's parameter then always means the same thing."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parents[2]


def _fixture_name(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if ast.unparse(target) in ("pytest.fixture", "fixture", "pytest_asyncio.fixture"):
            if isinstance(decorator, ast.Call):
                for keyword in decorator.keywords:
                    if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                        return str(keyword.value.value)
            return node.name
    return None


def _definitions() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    fixtures: dict[str, list[str]] = defaultdict(list)
    helpers: dict[str, list[str]] = defaultdict(list)
    for path in sorted(TESTS.rglob("*.py")):
        where = str(path.relative_to(TESTS))
        for node in ast.walk(ast.parse(path.read_text(), where)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            name = _fixture_name(node)
            if name is not None:
                fixtures[name].append(f"{where}:{node.lineno}")
            elif where.startswith("support") and node.col_offset == 0:
                helpers[node.name].append(f"{where}:{node.lineno}")
    return fixtures, helpers


def test_each_fixture_name_is_defined_once() -> None:
    fixtures, helpers = _definitions()
    assert len(fixtures) > 20  # the walk did find the tree's fixtures
    assert {name: where for name, where in fixtures.items() if len(where) > 1} == {}
    assert {name: helpers[name] for name in fixtures if name in helpers} == {}
