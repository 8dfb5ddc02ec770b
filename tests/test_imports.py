"""The package's modules import one another without a circle, function-level imports included."""

import ast
import re
from pathlib import Path

import lstmcast

PACKAGE = Path(lstmcast.__file__).parent


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The lstmcast modules a file imports, anywhere in it (inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "lstmcast":
            found |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lstmcast."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("lstmcast.")}
    return found - {path.stem, "__init__"}


def test_no_module_imports_itself_back_through_others():
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    graph = {p.stem: imports_of(p, modules) for p in PACKAGE.glob("*.py")}
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        for dep in sorted(graph[module]):
            assert dep not in path, "import circle: " + " -> ".join(path[path.index(dep) :] + [dep])
            if dep not in done:
                visit(dep, path + [dep])
        done.add(module)

    for module in sorted(graph):
        visit(module, [module])
    assert {"panel", "schema", "covariates"} <= graph.keys()
    assert "covariates" not in graph["schema"] and "schema" not in graph["panel"]


def layers() -> dict[str, int]:
    """module -> layer number, from the table in ARCHITECTURE.md."""
    text = (PACKAGE.parent / "ARCHITECTURE.md").read_text()
    rows = re.findall(r"^\| (\d) [^|]*\| `(\w+)` \|", text, flags=re.MULTILINE)
    return {module: int(layer) for layer, module in rows}


def test_architecture_lists_every_module_once():
    table = layers()
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert set(table) == modules, (set(table) ^ modules, "update ARCHITECTURE.md")


def test_imports_point_down_the_layers():
    table = layers()
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    upward = [
        f"{p.stem} (layer {table[p.stem]}) imports {dep} (layer {table[dep]})"
        for p in PACKAGE.glob("*.py")
        if p.stem in table
        for dep in sorted(imports_of(p, modules))
        if table[dep] > table[p.stem]
    ]
    assert not upward, upward
