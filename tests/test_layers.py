"""The package's layers point one way (docs/ARCHITECTURE.md draws them).

Every import in every module, function-level ones included, is read from the source, and
each must stay on its own layer or go down; training and prediction sit side by side and never
import each other. The web app imports only what serving needs, and importing it (or the
prediction side) loads no torch.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Layer of each module (by dotted prefix; the longest prefix wins), bottom first.
LAYERS = {
    "sentireview": 0,
    "sentireview.errors": 0,
    "sentireview.files": 0,
    "sentireview.data": 1,
    "sentireview.text": 1,
    "sentireview.subwords": 1,
    "sentireview.vocab": 1,
    "sentireview.models": 2,
    "sentireview.artifact": 2,
    "sentireview.kinds": 2,
    "sentireview.ngram_hash": 2,
    "sentireview.weights": 2,
    "sentireview.training": 3,
    "sentireview.baselines": 3,
    "sentireview.predict": 3,
    "sentireview.explain": 3,
    "sentireview.backends": 3,
    "sentireview.evaluate": 4,
    "sentireview.export": 4,
    "sentireview.teacher": 4,
    "sentireview.recipes": 4,
    "sentireview.tutorial": 4,  # the notebooks' display helpers
    "sentireview.cli": 5,
    "sentireview.__main__": 5,
    "senti_api": 5,
}
#: Side by side on layer 3: neither imports the other.
SIDES = {
    "training": ("sentireview.training", "sentireview.baselines"),
    "prediction": ("sentireview.predict", "sentireview.explain", "sentireview.backends"),
}
#: What the web app may import from the library: serving and what it stands on.
WEB_ALLOWED = (
    "sentireview.predict",
    "sentireview.ngram_hash",
    "sentireview.explain",
    "sentireview.backends",
    "sentireview.artifact",
    "sentireview.kinds",
    "sentireview.vocab",
    "sentireview.text",
    "sentireview.subwords",
    "sentireview.errors",
    "sentireview.files",
    "sentireview",
)
WEB_FORBIDDEN = ("sentireview.backends.torch", "torch")


def _prefix(name: str, table) -> str | None:
    matches = [p for p in table if name == p or name.startswith(p + ".")]
    return max(matches, key=len) if matches else None


def _side(name: str) -> str | None:
    for side, prefixes in SIDES.items():
        if _prefix(name, prefixes):
            return side
    return None


def _modules() -> dict[str, Path]:
    found = {}
    for base, package in ((ROOT, "sentireview"), (ROOT / "webapp" / "flask", "senti_api")):
        for path in sorted((base / package).rglob("*.py")):
            parts = path.relative_to(base).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(name: str, path: Path) -> list[tuple[str, int]]:
    """(imported module, line) for every import statement, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the package
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            out.append((module, node.lineno))
            # `from sentireview import artifact`: the submodule is what is imported
            for alias in node.names:
                out.append((f"{module}.{alias.name}", node.lineno))
    return out


MODULES = _modules()


def test_every_module_has_a_layer():
    missing = [name for name in MODULES if _prefix(name, LAYERS) is None]
    assert not missing, f"add these modules to LAYERS (and to docs/ARCHITECTURE.md): {missing}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_down(name):
    mine = LAYERS[_prefix(name, LAYERS)]
    side = _side(name)
    wrong = []
    for target, line in _imports(name, MODULES[name]):
        if target not in MODULES:
            continue  # a third-party module, or `from x import a_function`
        theirs = LAYERS[_prefix(target, LAYERS)]
        other_side = _side(target)
        if theirs > mine:
            wrong.append(f"line {line}: {target} (layer {theirs} above {mine})")
        elif side and other_side and side != other_side:
            wrong.append(f"line {line}: {target} ({other_side} beside {side})")
    assert not wrong, f"{name} imports across a forbidden line: {wrong}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("senti_api")))
def test_the_web_app_imports_only_what_serving_needs(name):
    wrong = []
    for target, line in _imports(name, MODULES[name]):
        library = target.startswith("sentireview")
        if library and target in MODULES and not _prefix(target, WEB_ALLOWED):
            wrong.append(f"line {line}: {target}")
        if _prefix(target, WEB_FORBIDDEN):
            wrong.append(f"line {line}: {target}")
    assert not wrong, f"{name}: {wrong}"


def test_serving_loads_no_torch_data_or_training():
    """Importing the web app and the prediction side, as a worker does, loads none of them."""
    modules = [n for n in MODULES if n.startswith("senti_api")]
    modules += ["sentireview.predict", "sentireview.explain", "sentireview.backends.onnx",
                "sentireview.artifact"]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m == 'torch' or m.startswith(("
        "'sentireview.data', 'sentireview.training', 'sentireview.models')))\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_checker_sees_a_forbidden_import(tmp_path):
    """The rule can fail: an import of training from the prediction side is caught."""
    path = tmp_path / "predict.py"
    path.write_text("def f():\n    from sentireview.training.lstm import train_lstm\n")
    targets = [t for t, _ in _imports("sentireview.predict", path)]
    assert "sentireview.training.lstm" in targets
    assert _side("sentireview.training.lstm") == "training" != _side("sentireview.predict")


def _base_dependencies() -> set[str]:
    """Distribution names of pyproject.toml's base dependencies (what the web install has)."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0].lower().replace("_", "-")
            for d in project["dependencies"]}


def test_the_web_install_has_every_package_serving_imports():
    """Every third-party module the web side imports, at any depth (lazy imports too: the
    transformer's tokenizer, the explainer's safetensors), comes with a base dependency, so
    `pip install -r requirements.txt` serves every model kind and explains."""
    from importlib.metadata import packages_distributions, requires

    dists = packages_distributions()
    web = [n for n in MODULES if n.startswith("senti_api") or n == "sentireview" or (
        _prefix(n, WEB_ALLOWED) not in (None, "sentireview") and not _prefix(n, WEB_FORBIDDEN))]
    base = _base_dependencies()
    for dist in list(base):  # and what they bring themselves (Werkzeug with Flask)
        for req in requires(dist) or []:
            if "extra ==" not in req:
                base.add(re.split(r"[<>=!~\[; (]", req, maxsplit=1)[0].lower().replace("_", "-"))
    missing = {}
    for name in web:
        for target, line in _imports(name, MODULES[name]):
            top = target.split(".")[0]
            if not top or top in sys.stdlib_module_names or top in ("sentireview", "senti_api"):
                continue
            names = {d.lower().replace("_", "-") for d in dists.get(top, [top])}
            if not names & base:
                missing[f"{name} line {line}"] = top
    assert not missing, f"add to [project] dependencies: {missing}"
