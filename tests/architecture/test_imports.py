"""The dependency arrow: each package imports only what its layer may use."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

IO_FRAMEWORKS = {
    "aiosqlite",
    "argparse",
    "asyncpg",
    "httpx",
    "psycopg",
    "socket",
    "sqlite3",
    "sse_starlette",
    "starlette",
    "subprocess",
    "uvicorn",
}
FORBIDDEN = {
    "chatkit_proto": IO_FRAMEWORKS
    | {"agents", "openai", "agents_layer", "chatkit_web", "chatkit_stores", "chatkit_conformance"},
    "chatkit_stores": {"agents", "openai", "agents_layer", "chatkit_web", "starlette"},
    "agents_layer": {"chatkit_web", "chatkit_stores", "chatkit_conformance", "starlette"},
    "chatkit_conformance": {"agents", "agents_layer", "chatkit_web", "chatkit_stores"},
}
PACKAGES = sorted(FORBIDDEN)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every absolute module a file imports, with the line it does so on."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def _violations(package: str) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, module in _imports(path):
            if module.split(".")[0] in FORBIDDEN[package]:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_nothing_of_a_layer_above_or_beside_it(package: str) -> None:
    assert _violations(package) == []


def test_the_walk_sees_a_forbidden_import(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text("import socket\nfrom starlette.requests import Request\nfrom . import x\n")
    assert [module for _, module in _imports(source)] == ["socket", "starlette.requests"]


def test_the_protocol_package_names_no_route_of_ours() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "chatkit_proto").rglob("*.py")
        if "/chatkit/" in path.read_text()
    ]
    assert offenders == []


def test_importing_the_protocol_loads_no_io_framework() -> None:
    # asyncio itself loads socket and subprocess, so only third-party frameworks are checked.
    third_party = sorted(IO_FRAMEWORKS - {"argparse", "socket", "sqlite3", "subprocess"})
    probe = (
        "import sys, chatkit_proto, chatkit_proto.dispatch, chatkit_proto.store.memory;"
        f"print(sorted({[*third_party, 'agents', 'openai']!r} & sys.modules.keys()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == "[]"


def test_nothing_imports_a_private_module_of_another_package() -> None:
    offenders = []
    for package in [*PACKAGES, "chatkit_web", "tests", "benchmarks"]:
        for path in (ROOT / package).rglob("*.py"):
            for line, module in _imports(path):
                parts = module.split(".")
                private = any(part.startswith("_") and part != "__main__" for part in parts[1:])
                if private and parts[0] != package:
                    offenders.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert offenders == []
