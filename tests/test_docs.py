"""The documentation names only what exists: every ``ganplify.x.y`` in the README, the configs,
docs/science.md and the package's docstrings imports, and every rule the README names is a rule."""

import ast
import importlib
import re

import pytest
from conftest import REPO

DOCS = [
    "README.md",
    "config.yaml",
    "config/demo.yaml",
    *sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md")),
]
#: a dotted name under ganplify (a trailing dot or a placeholder like ``ganplify.jobs.<stage>``
#: is prose, not a name)
DOTTED = re.compile(r"\bganplify(?:\.[A-Za-z_][A-Za-z0-9_]*)+(?![A-Za-z0-9_<])")


def _docstrings():
    for path in sorted((REPO / "src/ganplify").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                doc = ast.get_docstring(node)
                if doc:
                    yield f"{path.relative_to(REPO)}:{getattr(node, 'lineno', 1)}", doc


def _references():
    for name in DOCS:
        for lineno, line in enumerate((REPO / name).read_text().splitlines(), 1):
            for m in DOTTED.finditer(line):
                yield f"{name}:{lineno}", m.group(0)
    for where, doc in _docstrings():
        for m in DOTTED.finditer(doc):
            yield where, m.group(0)
    for path in sorted((REPO / "src/ganplify").rglob("*.py")):  # and the `#:` attribute docs
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if line.lstrip().startswith("#:"):
                for m in DOTTED.finditer(line):
                    yield f"{path.relative_to(REPO)}:{lineno}", m.group(0)


def resolves(dotted: str) -> bool:
    """Whether ``dotted`` is a module, or an attribute chain of the longest importable module."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_every_ganplify_name_in_the_docs_exists():
    missing = sorted({f"{where}: {name}" for where, name in _references() if not resolves(name)})
    assert not missing, "names that do not exist:\n" + "\n".join(missing)


def test_the_check_catches_a_moved_module():
    assert resolves("ganplify.gan.training.GanTrainer")
    assert not resolves("ganplify.training")  # moved to ganplify.gan.training
    assert not resolves("ganplify.calo.features.NO_SUCH_THING")


def _rules() -> set[str]:
    names = set()
    for path in (REPO / "rules").glob("*.smk"):
        names |= set(re.findall(r"^rule (\w+):", path.read_text(), flags=re.M))
    return names | set(re.findall(r"^rule (\w+):", (REPO / "Snakefile").read_text(), flags=re.M))


def _named_rules(text: str) -> set[str]:
    named = set(re.findall(r"\brules? `(\w+)`", text)) | set(re.findall(r"`(\w+)` rule", text))
    return named | set(re.findall(r"-R (\w+)", text)) | set(re.findall(r"`(\w+)` job", text))


@pytest.mark.parametrize(
    "doc", ["README.md", *sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md"))]
)
def test_every_rule_the_docs_name_exists(doc):
    unknown = sorted(_named_rules((REPO / doc).read_text()) - _rules())
    assert not unknown, f"{doc} names rules that do not exist: {unknown}"


def test_the_rule_check_finds_rules_to_check():
    """The pattern above still matches how the docs name rules (else it checks nothing)."""
    text = "".join(p.read_text() for p in (REPO / "docs").glob("*.md"))
    assert len(_named_rules(text)) >= 2
