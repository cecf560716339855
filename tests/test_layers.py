"""Dependencies point one way: api → logistics → inventory, labels → inventory.

Every import of every module is read from the source (function-level imports included, and
`importlib.import_module("…")` with a literal name), so a wrong dependency fails here before
it can hide in a function body. A capability folder's __init__.py stays empty.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("config", "inventory", "logistics", "labels", "api")
# What each app may import among the project's apps (itself always).
ALLOWED = {
    "inventory": set(),
    "logistics": {"inventory"},
    "labels": {"inventory"},
    "api": {"inventory", "logistics", "labels"},
    "config": {"inventory", "logistics", "labels", "api"},
}


def imported_apps(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import naming one of the project's apps."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # Relative imports are banned by ruff (TID252); resolve them anyway.
                package = path.relative_to(root).with_suffix("").parts[: -node.level]
                found.append((node.lineno, ".".join((*package, node.module or ""))))
            elif node.module:
                found.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # Dotted paths Django resolves at run time: include("api.urls"), settings strings.
            head = node.value.split(".")[0]
            if head in APPS and "." in node.value and " " not in node.value:
                found.append((node.lineno, node.value))
    return [(line, name) for line, name in found if name.split(".")[0] in APPS]


def wrong_imports(app: str, root: Path = ROOT) -> list[str]:
    problems = []
    for path in sorted((root / app).rglob("*.py")):
        for line, name in imported_apps(path, root):
            target = name.split(".")[0]
            if target != app and target not in ALLOWED[app]:
                problems.append(f"{path.relative_to(root)}:{line} imports {name}")
    return problems


@pytest.mark.parametrize("app", APPS)
def test_dependencies_point_one_way(app):
    assert wrong_imports(app) == []


def test_the_layer_check_sees_a_function_level_import(tmp_path):
    # The check itself must fail on a wrong import hidden in a function body, and on a
    # dotted path that Django would import at run time.
    module = tmp_path / "inventory" / "sneaky.py"
    module.parent.mkdir()
    module.write_text(
        "def f():\n"
        "    from logistics.models import Shipment\n"
        "    return Shipment, 'labels.render.render_pdf'\n"
    )
    assert wrong_imports("inventory", tmp_path) == [
        "inventory/sneaky.py:2 imports logistics.models",
        "inventory/sneaky.py:3 imports labels.render.render_pdf",
    ]


def test_capability_folders_keep_an_empty_init():
    # Re-exports from a capability's __init__ would hide the real path and invite cycles; the
    # models packages are the exception: they re-export so the app label and tables stay.
    for app in ("inventory", "logistics", "labels", "api"):
        for init in (ROOT / app).rglob("__init__.py"):
            if init.parent.name in ("models", "migrations"):
                continue
            assert init.read_text().strip() == "", init.relative_to(ROOT)
