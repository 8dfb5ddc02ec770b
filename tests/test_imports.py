"""The package's imports: no circle (function-level imports included), down the layers of
ARCHITECTURE.md, and each folder importing only what its paragraph there allows.

Modules are named by their dotted path inside lstmcast (`api`, `data.parse`, `cli.app`); a
folder's `__init__` is named by the folder (`cli`).
"""

import ast
import re
from pathlib import Path

import lstmcast

PACKAGE = Path(lstmcast.__file__).parent

BASE = {"errors", "metrics", "config", "files", "text"}  # any folder may import these
PIPELINE = {"train", "forecast", "evaluate", "verdict", "plot", "api"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def folder(module: str) -> str:
    """The folder a module lives in ('' for the top level); a folder's __init__ belongs to it."""
    path = all_modules()[module]
    return "/".join(path.relative_to(PACKAGE).parts[:-1])


def _resolve(dotted: str, modules: dict[str, Path]) -> str | None:
    """`lstmcast.data.parse` -> 'data.parse'; the longest prefix that names a module."""
    parts = dotted.split(".")[1:]
    while parts:
        name = ".".join(parts)
        if name in modules:
            return name
        parts.pop()
    return None


def imports_of(module: str, modules: dict[str, Path], top_level_only: bool = False) -> set[str]:
    """The lstmcast modules a module imports, anywhere in it (inside functions too, unless
    `top_level_only`)."""
    tree = ast.parse(modules[module].read_text())
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module != "lstmcast" and not node.module.startswith("lstmcast."):
                continue
            for alias in node.names:  # `from lstmcast.data import parse` names a module
                found.add(_resolve(f"{node.module}.{alias.name}", modules))
        elif isinstance(node, ast.Import):
            found |= {
                _resolve(a.name, modules) for a in node.names if a.name.startswith("lstmcast.")
            }
    return found - {None, module, "__init__"}


def graph() -> dict[str, set[str]]:
    modules = all_modules()
    return {m: imports_of(m, modules) for m in modules}


def test_modules_are_named_by_their_folder():
    modules = all_modules()
    assert {"data.parse", "data.panel", "methods.lstm", "modelfile.store", "cli.app", "cli"} <= set(
        modules
    )


def test_no_module_imports_itself_back_through_others():
    deps = graph()
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        for dep in sorted(deps[module]):
            assert dep not in path, "import circle: " + " -> ".join(path[path.index(dep) :] + [dep])
            if dep not in done:
                visit(dep, path + [dep])
        done.add(module)

    for module in sorted(deps):
        visit(module, [module])
    assert "data.covariates" not in deps["data.parse"] and "data.parse" not in deps["data.panel"]


def layers() -> dict[str, int]:
    """module -> layer number, from the table in ARCHITECTURE.md."""
    text = (PACKAGE.parent / "ARCHITECTURE.md").read_text()
    rows = re.findall(r"^\| (\d) [^|]*\| `([\w.]+)` \|", text, flags=re.MULTILINE)
    table: dict[str, int] = {}
    for layer, module in rows:
        assert module not in table, f"{module} is listed twice in ARCHITECTURE.md"
        table[module] = int(layer)
    return table


def test_architecture_lists_every_module_once():
    table = layers()
    # A folder's __init__ only names the folder (the cli's re-exports its app): not a layer.
    modules = {m for m, p in all_modules().items() if p.name != "__init__.py"}
    assert set(table) == modules, (set(table) ^ modules, "update ARCHITECTURE.md")


def test_imports_point_down_the_layers():
    table = layers()
    upward = [
        f"{module} (layer {table[module]}) imports {dep} (layer {table[dep]})"
        for module, deps in graph().items()
        if module in table
        for dep in sorted(deps)
        if dep in table and table[dep] > table[module]
    ]
    assert not upward, upward


def test_folders_import_only_what_they_may():
    deps = graph()
    wrong = []
    for module, imported in deps.items():
        home = folder(module)
        for dep in sorted(imported):
            there = folder(dep)
            if there == "cli" and home != "cli" and module != "__main__":
                wrong.append(f"{module} imports {dep}: only cli/ imports from cli/")
            if home == "data" and there != "data" and dep not in BASE:
                wrong.append(f"{module} imports {dep}: data/ imports only data/ and {sorted(BASE)}")
            if home == "methods" and (there in {"cli", "modelfile"} or dep in PIPELINE):
                wrong.append(
                    f"{module} imports {dep}: methods/ imports no cli/, modelfile/ or pipeline"
                )
            if home == "modelfile" and (there == "cli" or dep == "api"):
                wrong.append(f"{module} imports {dep}: modelfile/ imports no cli/ or api")
    assert not wrong, wrong


def test_cli_and_folder_inits_import_no_torch_when_loaded():
    """Module-level imports only: the commands import torch inside the functions that train
    (tests/test_startup.py checks the whole import of `lstmcast --help`)."""
    for module, path in all_modules().items():
        if folder(module) == "cli" or path.name == "__init__.py":
            for node in ast.parse(path.read_text()).body:
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else []
                )
                assert not any(n.split(".")[0] == "torch" for n in names), (module, names)


def test_no_module_imports_a_private_name_of_another():
    """A `_name` is its module's own: another module that needs it needs a public function."""
    modules = all_modules()
    private = []
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lstmcast"):
                private += [
                    f"{module} imports {node.module}.{a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
    assert not private, private
