"""SWE-Gym's grading as data: per repository and version, the test command, the install re-run before the
tests, the environment lines, how tests are selected and which log parser reads the output.

The facts come from SWE-Gym's fork of the SWE-bench harness (`SWE-Gym/SWE-Bench-Fork`, which SWE-Gym's
OpenHands fork imports as `swebench` to grade: its per-repository spec table, its test-spec builder and its
log parsers). Its eval script, for a row of a repository and version it has a spec for:
- runs under `set -xo pipefail` (no `set -u`), in the `testbed` conda env, in /testbed;
- runs the spec's environment lines (conan: `PYTHONPATH` with the repository), then the spec's install
  command again, after the candidate patch and before the tests, so that edits to compiled or generated
  sources take effect;
- resets the test files, applies the test patch, runs the test command on the files the test patch names
  (every file but data files, see `patch_directives`), or, for mypy, on no files with `-k` and the
  `[case …]` names the test patch holds (`mypy_case_expression`);
- reads the log with pytest's parser, pydantic's with its own (`parse_log_pydantic`).
Its informational commands (git status, show, diff; git's safe.directory) are left out here.
A repository or version outside the table has no spec (`spec_for` returns None).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

PYTEST_PARSER = "parse_log_pytest"
PYDANTIC_PARSER = "parse_log_swegym_pydantic"


@dataclass(frozen=True)
class SwegymSpec:
    """How SWE-Gym grades one repository at one version."""

    test_command: str
    """The test runner and its flags; the test files (or mypy's `-k` expression) are appended."""
    install: str = ""
    """Shell line run again after the candidate patch, before the tests ("" for none)."""
    environment: tuple[str, ...] = ()
    """Shell lines run first in /testbed (environment variables)."""
    select_cases: bool = False
    """True: select tests with `-k "<case names in the test patch>"` and pass no files (mypy)."""
    log_parser: str = PYTEST_PARSER
    """swebench PARSER_REGISTRY key of the parser that reads the test output."""


# Files the test patch names that SWE-Gym does not pass to the test command ("csv" without its dot, as there).
DATA_FILE_ENDINGS = (".json", ".png", "csv", ".txt", ".md", ".jpg", ".jpeg", ".pkl", ".yml", ".yaml", ".toml")

_MYPY_INSTALL = "python -m pip install -r test-requirements.txt; python -m pip install -e .; hash -r"
_MYPY_OLD_INSTALL = (
    "python -m pip install -r test-requirements.txt; python -m pip install -e .; "
    "pip install pytest pytest-xdist; hash -r"
)
_CONAN_REQUIREMENTS = (
    "python -m pip install -r conans/requirements.txt; "
    "python -m pip install -r conans/requirements_server.txt; "
    "python -m pip install -r conans/requirements_dev.txt"
)
_CONAN_CYTHON_BELOW_3 = "echo 'cython<3' > /tmp/constraint.txt; export PIP_CONSTRAINT=/tmp/constraint.txt; "
_CONAN_ENVIRONMENT = ("export PYTHONPATH=${PYTHONPATH:-}:$(pwd)",)
_DVC_INSTALL = (
    'python -m pip install --upgrade pip wheel GitPython; python -m pip install "cython<3.0.0" && '
    "python -m pip install --no-build-isolation pyyaml==5.4.1; "
    "python -m pip install git+https://github.com/iterative/mock-ssh-server.git || true; "
    "python -m pip install -r tests/requirements.txt || true; "
    "python -m pip install -r test-requirements.txt || true; "
    'python -m pip install -e ".[tests,dev,all_remotes,all,testing]";'
)
_DVC_OLD_PINS = ' python -m pip install "numpy<=1.20"; python -m pip install "pytest<8";'
_PANDAS_INSTALL = (
    "python -m pip install -ve . --no-build-isolation -Ceditable-verbose=true; pip uninstall pytest-qt -y;"
)
_HYDRA_INSTALL = "pip install -r requirements/dev.txt; pip install -e .;"
_HYDRA_OLD_FIXES = (
    "sed -i 's|isort@git+git://github.com/timothycrosley/isort|"
    "isort@git+https://github.com/timothycrosley/isort|g' requirements/dev.txt; "
    '{ tail -n1 requirements/requirements.txt | grep -q "." && echo ""; } >> requirements/requirements.txt; '
    'echo "pip==24.0" >> requirements/requirements.txt;pip install "pip==24.0"; '
)

# repository -> ((versions, spec), ...): the versions SWE-Gym's table lists, whitespace-separated.
_TABLE: dict[str, tuple[tuple[str, SwegymSpec], ...]] = {
    "python/mypy": (
        ("1.7 1.8 1.9 1.10 1.11", SwegymSpec("pytest -rA", _MYPY_INSTALL, select_cases=True)),
        ("1.0 1.1 1.2 1.3 1.4 1.5 1.6", SwegymSpec("pytest -n0 -rA", _MYPY_INSTALL, select_cases=True)),
        (
            "0.940 0.950 0.960 0.970 0.980 0.990",
            SwegymSpec("pytest -n0 -rA", _MYPY_OLD_INSTALL, select_cases=True),
        ),
        (
            "0.800 0.810 0.820 0.910 0.920",
            SwegymSpec("pytest -n0 -rA", _MYPY_OLD_INSTALL + ";", select_cases=True),
        ),
    ),
    "getmoto/moto": (
        (
            "0.4 1.0 1.2 1.3 2.0 2.1 2.2 2.3 3.0 3.1 4.0 4.1 4.2 5.0",
            SwegymSpec("pytest -n0 -rA", "make init"),
        ),
    ),
    "conan-io/conan": (
        (
            "1.33 1.34 1.35 1.36 1.37 1.38 1.39 1.40 1.41 1.42 1.43 1.44 1.45 1.46 1.47 1.48 1.49 1.50 1.51 "
            "1.52 1.53 1.54 1.55 1.57 1.58 1.59 2.0",
            SwegymSpec("pytest -n0 -rA", _CONAN_CYTHON_BELOW_3 + _CONAN_REQUIREMENTS, _CONAN_ENVIRONMENT),
        ),
        (
            "1.60 1.61 1.62 2.1 2.2 2.3 2.4",
            SwegymSpec("pytest -n0 -rA", _CONAN_REQUIREMENTS, _CONAN_ENVIRONMENT),
        ),
    ),
    "dask/dask": (
        (
            "2.11 2.12 2.13 2.14 2.15 2.16 2.17 2.18 2.19 2.21 2.22 2.23 2.25 2.26 2.27 2.28 2.29 2.30 "
            "2020.12 2021.01 2021.02 2021.03 2021.04 2021.05 2021.06 2021.07 2021.08 2021.09 2021.10 "
            "2021.11 2021.12 2022.01 2022.02 2022.03 2022.04 2022.05 2022.6 2022.7 2022.8 2022.9 2022.10 "
            "2022.11 2022.12 2023.1 2023.2 2023.3 2023.4 2023.5 2023.6 2023.7 2023.8 2023.9 2023.10 2023.11 "
            "2023.12 2024.1 2024.2 2024.3 2024.4 2024.5",
            SwegymSpec("pytest -n0 -rA --color=no", "python -m pip install --no-deps -e ."),
        ),
    ),
    "project-monai/monai": (
        (
            "0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 0.11 0.105 1.0 1.1 1.2 1.3",
            SwegymSpec(
                "pytest -rA",
                r"sed -i '/^git+https:\/\/github.com\/Project-MONAI\//d' requirements-dev.txt; "
                "python -m pip install types-pkg-resources==0.1.3 pytest; "
                "pip install -r requirements-dev.txt;python setup.py develop;",
            ),
        ),
    ),
    "iterative/dvc": (
        (
            "0.1 0.8 0.9 0.12 0.13 0.14 0.15 0.16 0.17 0.18 0.19 0.20 0.21 0.22 0.23 0.24 0.27 0.28 0.29 "
            "0.30 0.31 0.32 0.33 0.34 0.35 0.40 0.41 0.50 0.51 0.52 0.53 0.54 0.55 0.56 0.57 0.58 0.59 0.60 "
            "0.61 0.62 0.63 0.65 0.66 0.68 0.69 0.70 0.71 0.74 0.75 0.76 0.77 0.78 0.80 0.81 0.82 0.83 0.84 "
            "0.85 0.86 0.87 0.88 0.89 0.90 0.91 0.92 0.93 1.0 1.1 1.2 1.3 1.4 1.5 1.6 1.7 1.8 1.9 1.10 1.11 "
            "2.0 2.1 2.2 2.3 2.4 2.5 2.6 2.7 2.8 2.9 2.10 2.11 2.12 2.13 2.15 2.17 2.19 2.20 2.21 2.22 2.23 "
            "2.24 2.27 2.28 2.30 2.33 2.34 2.35 2.38 2.41 2.43 2.44 2.45 2.46 2.48 2.50 2.51 2.52 2.54 2.55 "
            "2.56 2.57 2.58 3.0 3.1 3.2 3.3",
            SwegymSpec("pytest -rA", _DVC_INSTALL + _DVC_OLD_PINS),
        ),
        (
            "3.4 3.5 3.6 3.10 3.11 3.12 3.13 3.14 3.15 3.17 3.19 3.23 3.24 3.28 3.29 3.36 3.37 3.38 3.43 "
            "3.47 3.48 3.49",
            SwegymSpec("pytest -rA", _DVC_INSTALL),
        ),
    ),
    "bokeh/bokeh": (
        (
            "3.0 3.3 3.4 3.5",
            SwegymSpec(
                "pytest -rA -n0", "python -m pip install -e .; python -m pip install bokeh_sampledata;"
            ),
        ),
        (
            "0.4 0.5 0.6 0.7 0.8 0.9 0.10 0.11 0.12 0.13 0.1181316818 1.0 1.1 1.2 1.3 1.4 2.0 2.1 2.3 2.4",
            # SWE-Gym's string holds a newline where this has printf's \n: printf prints the same.
            SwegymSpec(
                "pytest -rA -n0",
                'pip install "setuptools<66" "jinja2<3.1"; printf "1\\n" | python setup.py develop; '
                "bokeh sampledata;",
            ),
        ),
    ),
    "modin-project/modin": (
        (
            "0.1 0.2 0.3 0.4 0.6 0.8 0.9 0.10 0.11 0.12 0.13 0.14 0.15 0.16 0.17 0.18 0.19",
            SwegymSpec(
                "pytest -n0 -rA",
                "python -m pip install -e .; python -m pip install numpy==1.23.1 protobuf==3.20.1;",
            ),
        ),
        (
            "0.20 0.21 0.22 0.23 0.24 0.25 0.26 0.27 0.28 0.29 0.30",
            SwegymSpec("pytest -n0 -rA", "python -m pip install -e .;"),
        ),
    ),
    "pydantic/pydantic": (
        (
            "0.2 0.4 0.6 0.9 0.10 0.11 0.13 0.14 0.15 0.17 0.18 0.20 0.24 0.27 0.29 0.32 0.41 0.151 0.201 "
            "1.01 1.4 1.5 1.6 1.7 1.8 1.9 1.10 1.31 1.41 1.51 1.71 2.0 2.01 2.02 2.03 2.04 2.4 2.5 2.6 2.7",
            SwegymSpec(
                "pytest -rA --tb=short -vv -o console_output_style=classic --no-header",
                'export PATH="$HOME/.local/bin:$PATH"; pdm add pre-commit; make install;',
                log_parser=PYDANTIC_PARSER,
            ),
        ),
    ),
    "pandas-dev/pandas": (
        (
            "0.16 0.17 0.18 0.19 0.20 0.21 0.22 0.23 0.24 0.25 0.26 1.0 1.1 1.2 1.3 1.4 1.5 2.0 2.1",
            SwegymSpec("pytest -rA --tb=long", "python -m pip install 'numpy<2'; " + _PANDAS_INSTALL),
        ),
        ("2.2 3.0", SwegymSpec("pytest -rA --tb=long", _PANDAS_INSTALL)),
    ),
    "facebookresearch/hydra": (
        (
            "0.1 0.9 0.10 0.11 0.12 1.0 1.1 1.2",
            SwegymSpec("pytest -rA --tb=long", _HYDRA_OLD_FIXES + _HYDRA_INSTALL),
        ),
        ("1.3 1.4", SwegymSpec("pytest -rA --tb=long", _HYDRA_INSTALL)),
    ),
}
SPECS: dict[str, dict[str, SwegymSpec]] = {
    repo: {version: spec for versions, spec in groups for version in versions.split()}
    for repo, groups in _TABLE.items()
}
"""repository (lower case) -> version -> SWE-Gym's spec."""


def spec_for(repo: str, version: str) -> SwegymSpec | None:
    """Return SWE-Gym's spec for `repo` (any case) at `version`, or None where SWE-Gym has none."""
    return SPECS.get(repo.lower(), {}).get(version)


def patch_directives(test_patch: str) -> list[str]:
    """Return what SWE-Gym passes to the test command: every file a `diff --git` header of the test patch
    names (its `b/` side, removed files included), in order, except data files (`DATA_FILE_ENDINGS`)."""
    named = re.findall(r"diff --git a/.* b/(.*)", test_patch)
    return [path for path in named if not path.endswith(DATA_FILE_ENDINGS)]


def mypy_case_expression(test_patch: str) -> str:
    """Return SWE-Gym's `-k` expression for mypy: the `[case NAME]` names anywhere in the test patch (added,
    removed or context lines), joined with " or " ("" when it names none)."""
    return " or ".join(re.findall(r"\[case ([^\]]+)\]", test_patch))


def eval_command(spec: SwegymSpec, test_patch: str) -> str:
    """Return the test command line SWE-Gym runs for a row with `spec` and `test_patch`."""
    if spec.select_cases:
        expression = mypy_case_expression(test_patch)
        quoted = f'"{expression}"' if not re.search(r'["$`\\]', expression) else shlex.quote(expression)
        return f"{spec.test_command} -k {quoted}"
    return " ".join([spec.test_command, *(shlex.quote(path) for path in patch_directives(test_patch))])


def parse_log_pydantic(log: str, test_spec: Any = None) -> dict[str, str]:
    """Return test id -> status as SWE-Gym's pydantic parser reads a `-vv` classic-style pytest log.

    Each line loses escape sequences and control characters and `FAILED [...]` its bracket; a line that
    starts with a status names the test in its second word (a failure's " - " reason dropped), a line that
    ends with one (the verbose progress lines) in its first word. Later lines win. `test_spec` is unused
    (swebench's parsers take it).
    """
    statuses = ("FAILED", "PASSED", "SKIPPED", "ERROR", "XFAIL")
    control = {code: None for code in range(1, 32)}
    found: dict[str, str] = {}
    for raw in log.split("\n"):
        line = re.sub(r"\[(\d+)m", "", raw).translate(control)
        line = re.sub(r"FAILED\s*\[.*?\]", "FAILED", line)
        if line.startswith(statuses):
            words = (line.replace(" - ", " ") if line.startswith("FAILED") else line).split()
            if len(words) > 1:
                found[words[1]] = words[0]
        elif line.endswith(statuses):
            words = line.split()
            if len(words) > 1:
                found[words[0]] = words[1]
    return found


def register_log_parsers() -> None:
    """Add SWE-Gym's own parsers to swebench's PARSER_REGISTRY (which grading looks parsers up in); returns
    nothing. Idempotent."""
    from swebench.harness.log_parsers import PARSER_REGISTRY

    PARSER_REGISTRY.setdefault(PYDANTIC_PARSER, parse_log_pydantic)
