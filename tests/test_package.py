"""The package's structure: every module mapped, the floors respected, no global state on import."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

import ganplify

PACKAGE = REPO / "src" / "ganplify"

#: Each part may import from itself and from these (the floors below it); ``jobs`` from all.
ALLOWED = {
    "core": {"core"},
    "densities": {"core", "densities"},
    "gan": {"core", "densities", "gan"},
    "amplification": {"core", "densities", "amplification"},
    "dctr": {"core", "densities", "dctr"},
    "calo": {"core", "densities", "calo"},
}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        if rel.name != "__init__":
            yield ".".join(rel.parts), path


def test_every_module_is_mapped_in_the_package_docstring():
    missing = [name for name, _ in _modules() if f":mod:`{name}`" not in ganplify.__doc__]
    assert not missing, f"add to ganplify/__init__.py: {missing}"


def _ganplify_imports(path: Path, module: str):
    """The ganplify parts that ``module`` imports (absolute or relative)."""
    tree = ast.parse(path.read_text())
    package = module.rsplit(".", 1)[0].split(".")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = [*base, *(node.module.split(".") if node.module else [])]
            else:
                target = (node.module or "").split(".")
            names = [target] if node.module else [[*target, a.name] for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".") for a in node.names]
        else:
            continue
        for parts in names:
            if parts[0] == "ganplify" and len(parts) > 1:
                yield parts[1]


@pytest.mark.parametrize("name,path", list(_modules()), ids=lambda v: str(v))
def test_parts_import_only_their_floors(name, path):
    part = name.split(".")[1]
    # the jobs layer wires every part together: it may import any of them, but no module that
    # is not a part; the command line sits on top, beside the jobs it calls
    if part in ("jobs", "cli"):
        allowed = set(ALLOWED) | {"jobs"} | ({"cli"} if part == "cli" else set())
    else:
        allowed = ALLOWED[part]
    allowed |= {"__version__"}
    wrong = sorted(set(_ganplify_imports(path, name)) - allowed)
    assert not wrong, f"{name} imports {wrong}: parts meet in ganplify.jobs, not sideways"


def test_one_jobs_module_per_rule_file():
    jobs = {p.stem for p in (PACKAGE / "jobs").glob("*.py")} - {"__init__", "common"}
    rules = {p.stem for p in (REPO / "rules").glob("*.smk")} - {"common"}
    assert jobs == rules


def test_importing_every_module_changes_no_global_state():
    code = """
import importlib, os, sys, pkgutil
import matplotlib
# rcParams["backend"] resolves (and imports pyplot) when read: compare it separately
keys = [k for k in matplotlib.rcParams if k != "backend"]
env, rc = dict(os.environ), {k: matplotlib.rcParams[k] for k in keys}
backend = matplotlib.rcParams._get_backend_or_none()
import ganplify
for m in pkgutil.walk_packages(ganplify.__path__, "ganplify."):
    importlib.import_module(m.name)
changed_env = {k for k in set(env) | set(os.environ) if env.get(k) != os.environ.get(k)}
changed_rc = [k for k in rc if str(rc[k]) != str(matplotlib.rcParams[k])]
assert not changed_env, changed_env
assert not changed_rc, changed_rc
assert matplotlib.rcParams._get_backend_or_none() == backend
assert "matplotlib.pyplot" not in sys.modules, "pyplot imported"
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr


def test_the_registry_knows_trained_and_reweighted_generators():
    from ganplify.core import approaches

    names = list(approaches.APPROACHES)
    assert approaches.generators(names) == ["gan", "ensemble", "gan_dctr", "ensemble_dctr"]
    assert approaches.trained(names) == ["gan", "ensemble"]
    for name in ("gan_dctr", "ensemble_dctr"):
        a = approaches.APPROACHES[name]
        base = approaches.APPROACHES[a.reweights]
        # the reweighted approach pools as many generators as the one it reweights
        assert base.trained and a.members_key == base.members_key and not a.trained
        assert a.folder != base.folder and a.color != base.color
