"""The CLI finds the services through their entry points; neither it nor the platform names one."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from keepword_ops.commands import service_schemas
from keepword_platform import auth
from keepword_platform.migrations import load_migrations
from keepword_platform.registry import installed_services

ROOT = Path(__file__).resolve().parents[3]
SERVICE_PACKAGES = (
    "keepword_intake",
    "keepword_commitments",
    "keepword_escalation",
    "keepword_notifier",
)


def test_every_service_of_the_workspace_is_registered_with_its_own_schema() -> None:
    installed = installed_services()
    assert set(installed) == {"intake", "commitments", "escalation", "notifier", "insights"}
    for name, entry in installed.items():
        assert entry.service.name == entry.service.schema == name
        assert entry.service.summary
        assert entry.version


def test_every_schema_is_migrated_once_and_the_shared_one_first() -> None:
    schemas = service_schemas()
    names = [schema for schema, _ in schemas]
    assert names[0] == auth.SCHEMA
    assert sorted(names) == sorted({auth.SCHEMA, *installed_services()})
    for _schema, packages in schemas:
        assert all(load_migrations(package) for package in packages)


def _imported_modules(source: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_platform_and_the_cli_import_no_service_package() -> None:
    sources = [*(ROOT / "libs/platform/src").rglob("*.py"), *(ROOT / "libs/ops/src").rglob("*.py")]
    assert sources
    for source in sources:
        named = {m for m in _imported_modules(source) if m.split(".")[0] in SERVICE_PACKAGES}
        assert not named, f"{source.relative_to(ROOT)} imports {sorted(named)}"


def test_starting_the_cli_loads_no_service() -> None:
    # Only the commands that need the services (migrate, AsyncAPI) load them, when they run.
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, keepword_ops.cli; "
            "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith('keepword_')}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert not any(package in loaded for package in SERVICE_PACKAGES), loaded
