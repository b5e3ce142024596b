"""SWE-smith's per-repository test commands, test files and log parsers, read as SWE-smith's profiles do."""

from pathlib import Path

import pytest

from harness import load_instances
from harness import swesmith_profiles as profiles
from harness.errors import InstanceRowError
from harness.eval_scripts import swesmith_eval_script
from harness.image_names import swesmith_image
from harness.swesmith_log_parsers import PARSERS

FIXTURES = Path(__file__).parent / "fixtures"
TORNADO = "tornadoweb__tornado.d5ac65c1.func_pm_remove_assign__9kzl3lad"
SLUGIFY = "un33k__python-slugify.872b3750.lm_rewrite__4tj4f0bq"
MYPY = "python__mypy.e93f06ce.pr_10036"
JAX = "jax-ml__jax.ebd90e06.lm_rewrite__x1"


def test_the_default_is_swesmith_pytest_command_on_the_whole_suite():
    assert profiles.command_for("oauthlib__oauthlib.1fd52536.x", ["tests/a.py::t"], ["tests/b.py::u"]) == (
        "pytest --disable-warnings --color=no --tb=no --verbose"
    )
    assert profiles.repository("pylint-dev__astroid.b114f6b5.combine_file__x") == "pylint-dev/astroid"


def test_every_python_repository_that_differs_has_its_own_profile():
    differing = {
        repo for repo, profile in profiles.PROFILES.items() if profile.command != profiles.DEFAULT_COMMAND
    }
    assert differing == {
        "tkrajina/gpxpy",
        "jax-ml/jax",
        "mido/mido",
        "paramiko/paramiko",
        "un33k/python-slugify",
        "tornadoweb/tornado",
        "python/mypy",
        "pydantic/pydantic",
    }
    assert {profile.log_parser for profile in profiles.PROFILES.values()} <= set(PARSERS)


def test_tornado_runs_its_own_runner_and_restores_the_modules_its_ids_name():
    f2p = ["test_redirect (tornado.test.web_test.RedirectTest)"]  # unittest's ids on Python 3.10
    p2p = ["test_get (tornado.test.httpclient_test.HTTPClientCommonTestCase)"]
    script = swesmith_eval_script(TORNADO, f2p, p2p)

    assert "python -m tornado.test --verbose\necho '>>>>> End Test Output'" in script
    assert "tornado/test/web_test.py" in script and "tornado/test/httpclient_test.py" in script
    assert "conda activate testbed" in script


def test_python_slugify_runs_test_py_with_unittest():
    assert (
        profiles.command_for(SLUGIFY, ["test_x (test.TestSlugify.test_x)"], []) == "python test.py --verbose"
    )
    assert profiles.files_of_tests(profiles.profile_for(SLUGIFY), ["anything"]) == ["test.py"]


def test_min_testing_repositories_run_the_files_of_both_test_lists():
    command = profiles.command_for(
        JAX, ["tests/api_test.py::A::t"], ["tests/lax_test.py::B::u", "tests/api_test.py::A::v"]
    )
    assert command.endswith("-n auto tests/api_test.py tests/lax_test.py")


def test_mypy_selects_its_cases_by_name():
    command = profiles.command_for(
        MYPY, ["mypy/test/testcheck.py::TypeCheckSuite::check-a.test::testA"], ["x::testB"]
    )
    assert command == "pytest --color=no -rA -k 'testA or testB'"


def test_pydantic_runs_uv_outside_the_conda_env():
    script = swesmith_eval_script("pydantic__pydantic.acb0f10f.x", ["tests/test_a.py::t"], [])
    assert "conda activate" not in script and "/root/.local/bin/uv run pytest" in script


def test_mido_ids_lose_their_dev_prefix():
    assert profiles.files_of_tests(
        profiles.profile_for("mido__mido.a0158ff9.x"), ["../dev/tests/test_a.py::t"]
    ) == ["tests/test_a.py"]


@pytest.mark.parametrize(
    ("parser", "log", "expected"),
    [
        (
            "swesmith_pytest",
            "tests/test_a.py::test_one PASSED                                      [ 33%]\n"
            "tests/test_a.py::test_two[x-1] FAILED                                 [ 66%]\n"
            "tests/test_b.py::test_three SKIPPED (no network)                       [100%]\n"
            "=========================== short test summary info ============================\n"
            "FAILED tests/test_a.py::test_two[x-1] - assert 1 == 2\n",
            {
                "tests/test_a.py::test_one": "PASSED",
                "tests/test_a.py::test_two[x-1]": "FAILED",
                "tests/test_b.py::test_three": "SKIPPED",
            },
        ),
        (
            "swesmith_pytest_xdist",
            "[gw0] PASSED tests/test_numpy.py::test_dot \n[gw1] FAILED tests/test_core.py::test_grad \n",
            {"tests/test_numpy.py::test_dot": "PASSED", "tests/test_core.py::test_grad": "FAILED"},
        ),
        (
            "swesmith_pytest_summary",
            "tests/test_client.py::SSHClientTest::test_auth PASSED\n"
            "PASSED tests/test_client.py::SSHClientTest::test_auth\n"
            "FAILED tests/test_sftp.py::test_get - OSError\n",
            {
                "tests/test_client.py::SSHClientTest::test_auth": "PASSED",
                "tests/test_sftp.py::test_get": "FAILED",
            },
        ),
        (
            "swesmith_unittest",
            "test_accented_text (__main__.TestSlugify.test_accented_text) ... ok\n"
            "test_max_length (__main__.TestSlugify.test_max_length) ... FAIL\n",
            {
                "test_accented_text (__main__.TestSlugify.test_accented_text)": "PASSED",
                "test_max_length (__main__.TestSlugify.test_max_length)": "FAILED",
            },
        ),
        (
            "swesmith_tornado",
            "test_get (tornado.test.web_test.GetTest.test_get) ... ok\n"
            "test_ipv6 (tornado.test.netutil_test.IPv6Test.test_ipv6) ... skipped 'no ipv6'\n"
            "test_redirect (tornado.test.web_test.RedirectTest.test_redirect) ... FAIL\n"
            "======================================================================\n"
            "FAIL: test_redirect (tornado.test.web_test.RedirectTest.test_redirect)\n",
            {
                "test_get (tornado.test.web_test.GetTest.test_get)": "PASSED",
                "test_ipv6 (tornado.test.netutil_test.IPv6Test.test_ipv6)": "SKIPPED",
                "test_redirect (tornado.test.web_test.RedirectTest.test_redirect)": "FAILED",
            },
        ),
        (
            "swesmith_mypy",
            "PASSED mypy/test/testcheck.py::TypeCheckSuite::check-classes.test::testA\n"
            "FAILED mypy/test/testcheck.py::TypeCheckSuite::check-classes.test::testB\n",
            {
                "mypy/test/testcheck.py::TypeCheckSuite::check-classes.test::testA": "PASSED",
                "mypy/test/testcheck.py::TypeCheckSuite::check-classes.test::testB": "FAILED",
            },
        ),
    ],
)
def test_each_parser_reads_its_runner_as_swesmith_does(parser, log, expected):
    assert PARSERS[parser](log, None) == expected


def test_images_carry_the_host_arch(monkeypatch):
    monkeypatch.setattr("platform.machine", lambda: "aarch64")
    assert (
        swesmith_image("oauthlib__oauthlib.1fd52536.x")
        == "swebench/swesmith.arm64.oauthlib_1776_oauthlib.1fd52536"
    )
    rows = load_instances("swe-smith", FIXTURES / "swe_smith.jsonl")
    assert rows[0].image == "jyangballin/swesmith.arm64.oauthlib_1776_oauthlib.1fd52536"


def test_a_row_without_a_bug_diff_is_refused_in_one_line(tmp_path):
    line = (
        (FIXTURES / "swe_smith.jsonl")
        .read_text()
        .splitlines()[0]
        .replace('"patch": "diff', '"patch": "", "x": "diff')
    )
    (tmp_path / "rows.jsonl").write_text(line + "\n")
    with pytest.raises(InstanceRowError) as raised:
        load_instances("swe-smith", tmp_path / "rows.jsonl")
    assert (
        "no bug diff" in str(raised.value)
        and "'patch'" in str(raised.value)
        and "\n" not in str(raised.value)
    )
