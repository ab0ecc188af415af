"""The package's layering: no import cycle, and the light entry points load no torch.

Every ``import`` in ``anchorrec/`` counts, the ones inside functions too: a lazy import still
makes one module depend on another, and a cycle of them is a knot a newcomer cannot untie.
Only imports under ``if TYPE_CHECKING:`` are left out: they never run and name a type for an
annotation.
Cycles are looked for between files and between the packages (folders) of ``anchorrec``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "anchorrec"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module of ours that ``name`` (a module or ``module.attribute``) refers to."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _runtime_nodes(tree: ast.AST):
    """Every node of ``tree`` except those under ``if TYPE_CHECKING:``."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                todo.extend(child.orelse)
                continue
            todo.append(child)


def import_graph() -> dict[str, set[str]]:
    """module -> the modules of ``anchorrec`` it imports (anywhere in the file)."""
    modules = _modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{a.name}" for a in node.names] or [base]
            for target in targets:
                if not target.startswith("anchorrec"):
                    continue
                found = _resolve(target, modules)
                if found and found != name:
                    graph[name].add(found)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of nodes (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def _package_of(module: str) -> str:
    """``anchorrec.models.config`` -> ``anchorrec.models``; top-level files are their own."""
    parts = module.split(".")
    return ".".join(parts[:2])


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for src, targets in graph.items():
        for dst in targets:
            a, b = _package_of(src), _package_of(dst)
            # a package's __init__ re-exporting its own modules is not a dependency
            if a != b and src != "anchorrec" and dst != "anchorrec":
                out[a].add(b)
    return out


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_lazy_imports():
    graph = import_graph()
    # cmd_train imports the trainer inside the function: it must still be an edge
    assert "anchorrec.training" in graph["anchorrec.cli.model_commands"] or any(
        t.startswith("anchorrec.training") for t in graph["anchorrec.cli.model_commands"]
    )


def test_no_import_cycle_between_files():
    cycle = _cycle(import_graph())
    assert cycle is None, "import cycle between files: " + " -> ".join(cycle or [])


def test_no_import_cycle_between_packages():
    cycle = _cycle(package_graph(import_graph()))
    assert cycle is None, "import cycle between packages: " + " -> ".join(cycle or [])


def _modules_loaded_by(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return set(out.split())


@pytest.mark.parametrize(
    "code",
    [
        "from anchorrec.data import Dataset",
        "import anchorrec.workspace",
        "import anchorrec.models.config",
        "import contextlib, io\n"
        "from anchorrec.cli import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--help'])",
    ],
    ids=["Dataset", "workspace", "model-config", "cli-help"],
)
def test_light_entry_points_load_no_torch(code):
    loaded = _modules_loaded_by(code)
    assert "torch" not in loaded
    assert "streamlit" not in loaded


def test_only_the_model_dir_module_names_a_model_directorys_files():
    names = ("config.json", "metrics.json", "train_log.jsonl", "model.safetensors")
    owners = {
        str(p.relative_to(ROOT))
        for p in [*PACKAGE.rglob("*.py"), *(ROOT / "pages").glob("*.py")]
        if any(f'"{n}"' in p.read_text(encoding="utf-8") for n in names)
    }
    assert owners == {"anchorrec/models/model_dir.py"}


def test_a_loaded_model_is_always_typed_as_the_one_handle():
    """Every parameter that receives a trained model is annotated ``LoadedModel`` (never
    ``Any``): the handle's attributes are the contract, not attribute guessing."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for arg in [*node.args.args, *node.args.kwonlyargs]:
                    if arg.arg in ("loaded", "_loaded") and (
                        arg.annotation is None or "LoadedModel" not in ast.unparse(arg.annotation)
                    ):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert not offenders, offenders


def test_the_first_page_draws_without_torch():
    """Overview, as a fresh server draws it, reads only stored files: importing torch would
    cost more than the whole page (issue: first page <= 3 s). The background imports that
    follow it (``anchorrec.ui.warmup``) are held back here to see what the page itself loads."""
    code = (
        "from anchorrec.ui import warmup\n"
        "warmup.start = lambda: None\n"
        "from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file('app.py', default_timeout=240).run()\n"
        "assert not at.exception, [e.value for e in at.exception]\n"
        "assert [t.value for t in at.title] == ['AnchorRec Studio']\n"
        "assert len(at.dataframe) >= 2, 'the variants and their comparison are drawn'\n"
    )
    loaded = _modules_loaded_by(code)
    assert "torch" not in loaded
    assert "streamlit" in loaded  # the page did run


def test_the_background_imports_load_what_the_other_pages_need():
    loaded = _modules_loaded_by(
        "from anchorrec.ui import warmup\nthread = warmup.start()\nthread.join(240)\n"
        "assert warmup.start() is thread  # once per process"
    )
    assert set(warmup_modules()) <= loaded


def warmup_modules() -> tuple[str, ...]:
    from anchorrec.ui.warmup import MODULES

    return MODULES


#: The layers, top to bottom: a module may import only from a lower layer (or its own
#: package). pages → ui → analysis → models → data → encoders, with the commands beside the
#: ui (``python -m anchorrec`` above them), the jobs and the workspace between the ui and the
#: analysis, the evaluation between the analysis and the models, and the foundation (errors,
#: device, files) below everything.
LAYERS: dict[str, int] = {
    "pages": 9,
    "anchorrec.ui": 8,
    "anchorrec.cli": 8,
    "anchorrec.__main__": 9,
    "anchorrec.training": 7,
    "anchorrec.workspace": 6,
    "anchorrec.analysis": 5,
    "anchorrec.evaluation": 4,
    "anchorrec.models": 3,
    "anchorrec.sample": 3,
    "anchorrec.data": 2,
    "anchorrec.encoders": 1,
}
FOUNDATION = {
    "anchorrec",
    "anchorrec.errors",
    "anchorrec.device",
    "anchorrec.fileio",
    "anchorrec.home",
    "anchorrec.lazy",
    "anchorrec.photos",
    "anchorrec.stats",
}


def _layer(package: str) -> int:
    return 0 if package in FOUNDATION else LAYERS[package]


def _upward(edges: dict[str, set[str]]) -> list[str]:
    """Every import of ``edges`` (module → modules) that does not go down a layer."""
    out = []
    for src, targets in sorted(edges.items()):
        a = _package_of(src) if src.startswith("anchorrec") else "pages"
        for dst in sorted(targets):
            b = _package_of(dst)
            if a == b or (a in FOUNDATION and b in FOUNDATION):
                continue
            if _layer(b) >= _layer(a):
                out.append(f"{src} -> {dst}")
    return out


def _page_imports() -> dict[str, set[str]]:
    modules = _modules()
    edges: dict[str, set[str]] = defaultdict(set)
    for path in [*(ROOT / "pages").glob("*.py"), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                if name.startswith("anchorrec") and (found := _resolve(name, modules)):
                    edges[f"pages.{path.stem}"].add(found)
    return edges


def test_the_direction_finder_finds_an_upward_import():
    assert _upward({"anchorrec.models.x": {"anchorrec.analysis.y"}}) == [
        "anchorrec.models.x -> anchorrec.analysis.y"
    ]
    assert _upward({"anchorrec.data.x": {"anchorrec.sample.y"}})  # beside is not below
    assert not _upward({"anchorrec.analysis.x": {"anchorrec.models.y", "anchorrec.errors"}})


def test_every_package_has_a_layer():
    packages = {_package_of(m) for m in _modules()}
    assert packages - FOUNDATION <= set(LAYERS), sorted(packages - FOUNDATION - set(LAYERS))


def test_imports_only_go_down_the_layers():
    """pages → ui → analysis → models → data → encoders, never upward (lazy imports too)."""
    edges = import_graph()
    edges.update(_page_imports())
    offenders = _upward(edges)
    assert not offenders, "imports against the layers: " + ", ".join(offenders)


def test_the_library_never_imports_a_page():
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom | ast.Import):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                names += [a.name for a in node.names]
                assert not any(n == "pages" or n.startswith("pages.") for n in names), path


MAX_LIBRARY_LINES = 600


def test_no_library_file_is_over_600_lines():
    """One job per module: a file past this has several rooms to split."""
    long = {
        rel: n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LIBRARY_LINES
        and (rel := p.relative_to(ROOT).as_posix())
    }
    assert not long, long


def test_the_pages_cache_layer_names_any_at_most_twice():
    """``anchorrec/ui/cached.py`` is a typed adapter: the loaded model, caches and results keep
    their types; only a JSON document read from a file is ``Any``."""
    tree = ast.parse((PACKAGE / "ui" / "cached.py").read_text(encoding="utf-8"))
    uses = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "Any"]
    imports = [
        a
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom)
        for a in n.names
        if a.name == "Any"
    ]
    assert len(uses) + len(imports) <= 2


def test_what_hands_out_a_loaded_model_is_typed_as_the_one_handle():
    """A function that returns a trained model (``loaded``, ``load_model``) says
    ``LoadedModel``, not ``Any``: mypy then follows the handle through the pages' helpers."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name in ("loaded", "load_model"):
                returns = ast.unparse(node.returns) if node.returns else ""
                if "LoadedModel" not in returns:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert not offenders, offenders
