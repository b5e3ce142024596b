"""SWE-smith's per-repository test commands and log parsers, as data.

SWE-smith grades each task with the profile of its repository (`swesmith/profiles/python.py` in SWE-smith,
as of its dataclass profiles with `get_test_files`, late 2025). Most Python repositories use the default
profile; the table below holds every Python repository whose test command, choice of test files or log
parser differs from it, keyed by the repository's GitHub name (`owner/repo`, read from the instance id
`owner__repo.<commit8>.<bug>`).

What a profile decides, as SWE-smith's evaluation does by default:
- `command`: the test command; it runs in the `testbed` conda env unless `activate` is False (pydantic runs
  `uv` from outside it).
- `min_testing`: the command runs on the files of the FAIL_TO_PASS and PASS_TO_PASS tests; otherwise it runs
  as it is (the repository's whole suite, or the files the command names itself).
- `test_files`: how a test id names its file (`path::name` for pytest ids; tornado ids end in
  `(module.Class)`; python-slugify's tests are all in `test.py`; mido's ids start with `../dev/`). These
  files are removed from the episode's tree and restored before the tests run.
- `select_by_name`: mypy selects its data-driven cases with `-k "<names>"` instead of files.
- `log_parser`: which parser reads the test log (names in `harness.swesmith_log_parsers`).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

DEFAULT_COMMAND = "pytest --disable-warnings --color=no --tb=no --verbose"
"""SWE-smith's test command of a Python repository without a profile of its own."""


@dataclass(frozen=True)
class Profile:
    """How SWE-smith runs and reads the tests of one repository (defaults: its Python default)."""

    command: str = DEFAULT_COMMAND
    """The test command, without the test files it is given."""
    activate: bool = True
    """Run the command in the `testbed` conda env."""
    min_testing: bool = False
    """Run the command on the FAIL_TO_PASS and PASS_TO_PASS files only (else on what it names itself)."""
    test_files: str = "pytest_ids"
    """How test ids name their files: "pytest_ids", "tornado", "test_py" or "mido"."""
    select_by_name: bool = False
    """Select the FAIL_TO_PASS and PASS_TO_PASS tests by name with `-k` (mypy) instead of by file."""
    log_parser: str = "swesmith_pytest"
    """The parser of the test log (a key of swebench's parser registry once registered)."""


_DEFAULT = Profile()
_MIN_TESTING = Profile(min_testing=True)

PROFILES: dict[str, Profile] = {
    "HIPS/autograd": Profile(log_parser="swesmith_pytest_xdist"),
    "tkrajina/gpxpy": Profile(command="pytest test.py --verbose --color=no --tb=no --disable-warnings"),
    "jax-ml/jax": Profile(command=f"{DEFAULT_COMMAND} -n auto", min_testing=True),
    "mido/mido": Profile(command=f"{DEFAULT_COMMAND} -rs -c /dev/null", test_files="mido"),
    "paramiko/paramiko": Profile(
        command="pytest -rA --color=no --disable-warnings", log_parser="swesmith_pytest_summary"
    ),
    "un33k/python-slugify": Profile(
        command="python test.py --verbose", test_files="test_py", log_parser="swesmith_unittest"
    ),
    "tornadoweb/tornado": Profile(
        command="python -m tornado.test --verbose", test_files="tornado", log_parser="swesmith_tornado"
    ),
    "python/mypy": Profile(
        command="pytest --color=no -rA -k",
        min_testing=True,
        select_by_name=True,
        log_parser="swesmith_mypy",
    ),
    "pydantic/pydantic": Profile(command=f"/root/.local/bin/uv run {DEFAULT_COMMAND}", activate=False),
    **{
        repo: _MIN_TESTING
        for repo in (
            "Project-MONAI/MONAI",
            "conan-io/conan",
            "dask/dask",
            "getmoto/moto",
            "iterative/dvc",
            "modin-project/modin",
            "pandas-dev/pandas",
            "scrapy/scrapy",
            "sqlfluff/sqlfluff",
            "sunpy/sunpy",
            "sympy/sympy",
            "tobymao/sqlglot",
        )
    },
}
"""The Python repositories whose profile differs from SWE-smith's default, by `owner/repo`."""


def repository(instance_id: str) -> str:
    """Return the `owner/repo` of a SWE-smith instance id `owner__repo.<commit8>.<bug>`."""
    mirror = instance_id.rsplit(".", 1)[0] if instance_id.count(".") >= 2 else instance_id
    return mirror.rsplit(".", 1)[0].replace("__", "/", 1)


def profile_for(instance_id: str) -> Profile:
    """Return the profile of the instance's repository (SWE-smith's default when it has none)."""
    return PROFILES.get(repository(instance_id), _DEFAULT)


def files_of_tests(profile: Profile, test_ids: list[str]) -> list[str]:
    """Return the files the test ids live in, as the profile names them, sorted and each once."""
    files: set[str] = set()
    for test_id in test_ids:
        if profile.test_files == "test_py":
            files.add("test.py")
        elif profile.test_files == "tornado":
            module = re.search(r"\s\((.*)\)", test_id)
            if module:
                files.add("/".join(module.group(1).split(".")[:-1]) + ".py")
        else:
            path = test_id.split("::", 1)[0]
            if profile.test_files == "mido":
                path = path.removeprefix("../dev/")
            files.add(path)
    return sorted(files)


def command_for(instance_id: str, fail_to_pass: list[str], pass_to_pass: list[str]) -> str:
    """Return the command that runs an instance's tests as SWE-smith's evaluation runs them by default."""
    profile = profile_for(instance_id)
    if profile.select_by_name:
        names = [test.rsplit("::", 1)[-1] for test in fail_to_pass + pass_to_pass]
        return f"{profile.command} {shlex.quote(' or '.join(dict.fromkeys(names)))}"
    if not profile.min_testing:
        return profile.command
    files = files_of_tests(profile, fail_to_pass + pass_to_pass)
    return " ".join([profile.command, *(shlex.quote(path) for path in files)])
