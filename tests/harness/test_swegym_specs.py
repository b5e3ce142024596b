"""SWE-Gym rows get SWE-Gym's eval script: per repository and version, the test command, the install re-run,
the environment lines and the log parser that SWE-Gym's fork of the harness uses.

The rows (`fixtures/swe_gym_rows.json`, `fixtures/swe_gym_repos.jsonl`) have the hub dataset's fields and
shapes (lists as lists, versions as SWE-Gym writes them, test patches as its rows hold them: `diff --git`,
no index lines, new files from /dev/null); their texts are short, written for these tests. Each expected
command below is SWE-Gym's for that repository and version, written out from its spec table.
"""

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from swebench.harness import constants
from swebench.harness.log_parsers import PARSER_REGISTRY
from swebench.harness.utils import make_test_spec

from harness import TaskInstance, eval_scripts, swegym_specs
from harness.grading import parse_test_log

FIXTURES = Path(__file__).parent / "fixtures"
_MYPY_INSTALL = "python -m pip install -r test-requirements.txt; python -m pip install -e .; hash -r"
_CONAN_INSTALL = (
    "echo 'cython<3' > /tmp/constraint.txt; export PIP_CONSTRAINT=/tmp/constraint.txt; "
    "python -m pip install -r conans/requirements.txt; "
    "python -m pip install -r conans/requirements_server.txt; "
    "python -m pip install -r conans/requirements_dev.txt"
)
_DVC_INSTALL = (
    "python -m pip install --upgrade pip wheel GitPython; "
    'python -m pip install "cython<3.0.0" && python -m pip install --no-build-isolation pyyaml==5.4.1; '
    "python -m pip install git+https://github.com/iterative/mock-ssh-server.git || true; "
    "python -m pip install -r tests/requirements.txt || true; "
    "python -m pip install -r test-requirements.txt || true; "
    'python -m pip install -e ".[tests,dev,all_remotes,all,testing]"; '
    'python -m pip install "numpy<=1.20"; python -m pip install "pytest<8";'
)
_HYDRA_INSTALL = (
    "sed -i 's|isort@git+git://github.com/timothycrosley/isort|"
    "isort@git+https://github.com/timothycrosley/isort|g' requirements/dev.txt; "
    '{ tail -n1 requirements/requirements.txt | grep -q "." && echo ""; } >> requirements/requirements.txt; '
    'echo "pip==24.0" >> requirements/requirements.txt;pip install "pip==24.0"; '
    "pip install -r requirements/dev.txt; pip install -e .;"
)

# instance id -> (SWE-Gym's test command, its install command, its environment lines)
SWE_GYMS_SCRIPT = {
    "getmoto__moto-5752": ("pytest -n0 -rA tests/test_ssm/test_ssm_boto3.py", "make init", ()),
    "python__mypy-15413": ('pytest -n0 -rA -k "testTrivialBodyNoMissingReturn"', _MYPY_INSTALL, ()),
    "python__mypy-16503": (
        'pytest -rA -k "testNarrowingTypedDictUsingEnumLiteral or testNarrowingLiteralInLambda or '
        'testNarrowingWithWalrus"',
        _MYPY_INSTALL,
        (),
    ),
    "conan-io__conan-11799": (
        "pytest -n0 -rA conans/test/integration/configuration/profile_test.py",
        _CONAN_INSTALL,
        ("export PYTHONPATH=${PYTHONPATH:-}:$(pwd)",),
    ),
    "dask__dask-10441": (
        "pytest -n0 -rA  --color=no dask/dataframe/io/tests/test_csv.py",
        "python -m pip install --no-deps -e .",
        (),
    ),
    "Project-MONAI__MONAI-6523": (
        "pytest -rA  tests/test_compute_meandice.py",
        r"sed -i '/^git+https:\/\/github.com\/Project-MONAI\//d' requirements-dev.txt; python -m pip install "
        "types-pkg-resources==0.1.3 pytest; pip install -r requirements-dev.txt;python setup.py develop;",
        (),
    ),
    "iterative__dvc-6867": (
        "pytest -rA tests/func/test_ls.py tests/unit/command/ls/test_ls.py",
        _DVC_INSTALL,
        (),
    ),
    "bokeh__bokeh-13298": (
        "pytest -rA -n0 tests/unit/bokeh/models/test_glyphs.py",
        "python -m pip install -e .; python -m pip install bokeh_sampledata;",
        (),
    ),
    "modin-project__modin-6298": (
        "pytest -n0 -rA modin/pandas/test/test_series.py",
        "python -m pip install -e .;",
        (),
    ),
    "pydantic__pydantic-7825": (
        "pytest -rA --tb=short -vv -o console_output_style=classic --no-header tests/test_main.py",
        'export PATH="$HOME/.local/bin:$PATH"; pdm add pre-commit; make install;',
        (),
    ),
    "pandas-dev__pandas-53651": (
        "pytest -rA --tb=long pandas/tests/groupby/test_groupby.py",
        "python -m pip install 'numpy<2'; python -m pip install -ve . --no-build-isolation "
        "-Ceditable-verbose=true; pip uninstall pytest-qt -y;",
        (),
    ),
    "facebookresearch__hydra-1783": (
        "pytest -rA --tb=long tests/test_hydra.py tests/test_apps/app_without_config_path/my_app.py",
        _HYDRA_INSTALL,
        (),
    ),
}


def swe_gym_rows() -> list[dict]:
    rows = json.loads((FIXTURES / "swe_gym_rows.json").read_text())
    rows += [json.loads(line) for line in (FIXTURES / "swe_gym_repos.jsonl").read_text().splitlines()]
    return rows


def instance_of(instance_id: str) -> TaskInstance:
    (row,) = [row for row in swe_gym_rows() if row["instance_id"] == instance_id]
    return TaskInstance.from_row(row, "swe-gym")


def test_every_swe_gym_repository_has_a_row_here():
    repos = {row["repo"].lower() for row in swe_gym_rows()}
    assert repos == set(swegym_specs.SPECS)
    assert len(repos) == 11


@pytest.mark.parametrize("instance_id", sorted(SWE_GYMS_SCRIPT))
def test_the_eval_script_runs_swe_gyms_command_install_and_environment(instance_id):
    command, install, environment = SWE_GYMS_SCRIPT[instance_id]
    instance = instance_of(instance_id)
    lines = instance.eval_script.splitlines()
    start = lines.index(f"echo '{constants.START_TEST_OUTPUT}'")

    assert shlex.split(lines[start + 1]) == shlex.split(command)
    assert lines[start + 2] == f"echo '{constants.END_TEST_OUTPUT}'"
    setup = ["set +u", "source /opt/miniconda3/bin/activate", "conda activate testbed", "cd /testbed"]
    assert lines[2 : 2 + len(setup)] == setup
    after_setup = lines[2 + len(setup) : start]
    assert after_setup[: len(environment) + 1] == [*environment, install.rstrip()]
    assert instance.test_patch.rstrip("\n") in "\n".join(after_setup)  # the test patch after the install
    expected_parser = (
        "parse_log_swegym_pydantic" if instance.repo == "pydantic/pydantic" else "parse_log_pytest"
    )
    assert instance.log_parser == expected_parser


def test_dask_from_2021_09_has_colour_turned_off():
    dask = instance_of("dask__dask-10441")
    assert dask.version == "2023.6"
    assert "--color=no" in shlex.split(dask.eval_script.split(constants.START_TEST_OUTPUT)[1].splitlines()[1])


def test_coloured_pytest_output_reads_as_nothing_and_colourless_output_reads(tmp_path):
    (tmp_path / "test_colour.py").write_text("def test_a():\n    assert True\n")

    def parsed(colour: str) -> dict:
        run = [sys.executable, "-m", "pytest", "-rA", f"--color={colour}", "-p", "no:cacheprovider"]
        done = subprocess.run([*run, "test_colour.py"], cwd=tmp_path, capture_output=True, text=True)
        return PARSER_REGISTRY["parse_log_pytest"](done.stdout, None)

    assert parsed("yes") == {}  # what dask's own `--color=yes` did to every SWE-Gym dask row
    assert parsed("no") == {"test_colour.py::test_a": "PASSED"}


def test_mypy_selects_the_test_patchs_cases_and_passes_no_files():
    older, newer = instance_of("python__mypy-15413"), instance_of("python__mypy-16503")

    for instance in (older, newer):
        command = instance.eval_script.split(constants.START_TEST_OUTPUT)[1].splitlines()[1]
        assert not any(word.endswith((".py", ".test", ".pyi")) for word in shlex.split(command))
    # every [case] the patch holds, context lines included (SWE-Gym reads the whole patch)
    assert swegym_specs.mypy_case_expression(newer.test_patch) == (
        "testNarrowingTypedDictUsingEnumLiteral or testNarrowingLiteralInLambda or testNarrowingWithWalrus"
    )
    assert "-n0" in older.eval_script and "pytest -rA -k" in newer.eval_script  # -n0 up to 1.6 only


def test_pandas_reinstalls_before_the_tests():
    pandas = instance_of("pandas-dev__pandas-53651")
    lines = pandas.eval_script.splitlines()
    install = next(
        index for index, line in enumerate(lines) if "pip install -ve . --no-build-isolation" in line
    )
    assert install < lines.index(f"echo '{constants.START_TEST_OUTPUT}'")
    assert install < next(index for index, line in enumerate(lines) if line.startswith("git apply -v"))


def test_test_directives_leave_out_data_files_and_keep_other_files():
    hydra = instance_of("facebookresearch__hydra-1783")
    dvc = instance_of("iterative__dvc-6867")

    assert swegym_specs.patch_directives(hydra.test_patch) == [
        "tests/test_hydra.py",
        "tests/test_apps/app_without_config_path/my_app.py",
    ]
    assert "tests/func/data/ls_expected.json" not in swegym_specs.patch_directives(dvc.test_patch)


def test_swebench_keeps_the_no_nounset_line_and_records_the_exit_status():
    for row in swe_gym_rows():
        instance = TaskInstance.from_row(row, "swe-gym")
        lines = make_test_spec(instance.to_row()).eval_script.splitlines()
        assert lines[:3] == ["#!/bin/bash", "set -uxo pipefail", "set +u"]
        end = lines.index(f"echo '{constants.END_TEST_OUTPUT}'")
        assert lines[end - 1] == f"{constants.TEST_EXIT_CODE_VAR}=$?"
        subprocess.run(["bash", "-n"], input=instance.eval_script, text=True, check=True)


def test_a_repository_or_version_without_a_spec_gets_the_generic_command():
    moto_row, mypy_row = json.loads((FIXTURES / "swe_gym_rows.json").read_text())
    unknown_repo = TaskInstance.from_row({**moto_row, "repo": "someone/elsewhere"}, "swe-gym")
    unknown_version = TaskInstance.from_row({**mypy_row, "version": "0.600"}, "swe-gym")

    generic = "pytest --no-header -rA --tb=no -p no:cacheprovider"
    assert f"{generic} tests/test_ssm/test_ssm_boto3.py" in unknown_repo.eval_script.splitlines()
    assert f"{generic} mypy/test/testcheck.py" in unknown_version.eval_script.splitlines()
    reset = "git checkout e7b917ec7532206b996542570f4b68a33c3ff771 -- test-data/unit/check-functions.test"
    assert reset in unknown_version.eval_script.splitlines()
    assert "make init" not in unknown_repo.eval_script
    assert unknown_repo.eval_script.splitlines()[2] == eval_scripts.NO_NOUNSET
    assert unknown_version.log_parser == "parse_log_pytest"


def test_pydantic_rows_are_read_by_swe_gyms_pydantic_parser(tmp_path):
    (tmp_path / "test_model.py").write_text(
        "import pytest\n\ndef test_private_attr():\n    assert True\n\n"
        "@pytest.mark.parametrize('x', [1, 2, 'a b'])\ndef test_values(x):\n    assert x != 2\n"
    )
    run = [sys.executable, "-m", "pytest", *shlex.split(SWE_GYMS_SCRIPT["pydantic__pydantic-7825"][0])[1:-1]]
    done = subprocess.run(
        [*run, "-p", "no:cacheprovider", "test_model.py"], cwd=tmp_path, capture_output=True, text=True
    )
    log = f"{constants.START_TEST_OUTPUT}\n{done.stdout}\n{constants.END_TEST_OUTPUT}\n"

    statuses = parse_test_log(instance_of("pydantic__pydantic-7825"), log)
    assert statuses == {
        "test_model.py::test_private_attr": "PASSED",
        "test_model.py::test_values[1]": "PASSED",
        "test_model.py::test_values[2]": "FAILED",
        "test_model.py::test_values[a": "PASSED",  # SWE-Gym's parser keeps an id up to its first space
    }
