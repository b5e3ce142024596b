"""A SWE-Gym row graded on an image in SWE-Gym's layout, built offline from a demo repository.

The image has what SWE-Gym's images have: the repository at /testbed at its base commit, a conda-style
`testbed` env (`source /opt/miniconda3/bin/activate; conda activate testbed`) whose activation runs the
env's activate.d scripts, one of which reads an unset variable as some conda-forge packages' scripts do
(envs built from environment.yml carry them), and the repository installed (built, not editable) at the base
commit. The spec given to the row re-runs the install and exports the variable the tests need, as SWE-Gym's
specs for pandas (reinstall) and conan (PYTHONPATH) do; so the gold patch resolves only when both run.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import docker
import pytest

from harness import TaskInstance, eval_scripts, load_instances
from harness.demo import build_repo
from harness.grading import GradeResult, GradingConfig, grade
from harness.images import CONDA_SHIM, IMAGE_LABEL, check_image, ensure_base_image
from harness.swegym_specs import SwegymSpec

pytestmark = pytest.mark.docker
INSTANCE = "srl-demo__timespan-3"
BUILD = "/opt/timespan-build"
ENV = "/opt/miniconda3/envs/testbed"
SPEC = SwegymSpec(
    test_command="pytest -rA",
    install=f"python -m pip install --no-deps --no-build-isolation --no-index --upgrade --target {BUILD} .",
    environment=(f"export PYTHONPATH={BUILD}",),
)
# Reads GEO_DATA unguarded to back it up, as older proj / glib / mkl activation scripts did.
ACTIVATE_D_SCRIPT = """\
export CONDA_BACKUP_GEO_DATA=$GEO_DATA
export GEO_DATA="$CONDA_PREFIX/share/geo"
"""
HUB_FIELDS = (
    "instance_id",
    "hints_text",
    "patch",
    "test_patch",
    "created_at",
    "problem_statement",
    "repo",
    "base_commit",
    "version",
    "PASS_TO_PASS",
    "FAIL_TO_PASS",
)


def _dockerfile(base: str, commit: str) -> str:
    launcher = (
        f"'#!{ENV}/bin/python' 'import sys' 'from pytest import console_main' 'sys.exit(console_main())'"
    )
    return "\n".join(
        [
            f"FROM {base}",
            f"LABEL {IMAGE_LABEL}=swebench-layout",
            "COPY activate /opt/miniconda3/bin/activate",
            f"RUN python3 -m venv --system-site-packages --without-pip {ENV} && "
            f"printf '%s\\n' {launcher} > {ENV}/bin/pytest && chmod +x {ENV}/bin/pytest",
            f"COPY geo-activate.sh {ENV}/etc/conda/activate.d/geo-activate.sh",
            "COPY testbed /testbed",
            "WORKDIR /testbed",
            f"RUN git config --global --add safe.directory /testbed && git checkout -q {commit} && "
            "printf 'build/\\n*.egg-info/\\n' >> .git/info/exclude",
            # the repository installed at its base commit, as SWE-Gym's image build does
            f"RUN bash -c 'source /opt/miniconda3/bin/activate; conda activate testbed; {SPEC.install}' "
            '&& test -z "$(git status --porcelain)"',
            "",
        ]
    )


@pytest.fixture(scope="module")
def image(docker_client: docker.DockerClient) -> str:
    """Returns the SWE-Gym-layout image of the demo instance's repository (built unless present)."""
    demo = load_instances("demo", instance_ids=[INSTANCE])[0]
    base = ensure_base_image()
    dockerfile = _dockerfile(base, demo.base_commit)
    digest = hashlib.sha256((dockerfile + CONDA_SHIM + ACTIVATE_D_SCRIPT).encode()).hexdigest()[:12]
    name = f"srl-swe-gym-layout/timespan:{digest}"
    try:
        docker_client.images.get(name)
    except docker.errors.ImageNotFound:
        with tempfile.TemporaryDirectory(prefix="srl-swe-gym-layout-") as tmp:
            context = Path(tmp)
            build_repo(demo.repo, context / "testbed")
            (context / "activate").write_text(CONDA_SHIM)
            (context / "geo-activate.sh").write_text(ACTIVATE_D_SCRIPT)
            (context / "Dockerfile").write_text(dockerfile)
            docker_client.images.build(
                path=str(context), tag=name, rm=True, forcerm=True, network_mode="none"
            )
    return name


def swe_gym_instance(image: str, spec: SwegymSpec, *, nounset: bool = False) -> TaskInstance:
    """Returns the demo instance as a SWE-Gym row (the hub's fields) graded with `spec` on `image`;
    `nounset` keeps swebench's `set -u` (drops the script's `set +u`)."""
    demo = load_instances("demo", instance_ids=[INSTANCE])[0].to_row()
    row = {name: demo[name] for name in HUB_FIELDS}
    script = eval_scripts.swegym_eval_script(
        row["base_commit"], row["test_patch"], row["FAIL_TO_PASS"] + row["PASS_TO_PASS"], spec
    )
    if nounset:
        script = script.replace(f"\n{eval_scripts.NO_NOUNSET}\n", "\n", 1)
    row.update(image=image, eval_script=script)
    return TaskInstance.from_row(json.loads(json.dumps(row)), "swe-gym", source="the SWE-Gym-layout test")


def graded(instance: TaskInstance, patch: str, log_dir: Path) -> GradeResult:
    return grade(instance, patch, log_dir=log_dir, timeout_s=300, config=GradingConfig(network_mode="none"))


def test_the_image_keeps_the_contract_swe_gyms_eval_script_assumes(image: str) -> None:
    results = check_image(swe_gym_instance(image, SPEC))
    assert [result.ok for result in results] == [True] * 5, results


def test_gold_resolves_and_empty_and_wrong_do_not(image: str, tmp_path: Path) -> None:
    instance = swe_gym_instance(image, SPEC)
    assert instance.log_parser == "parse_log_pytest"

    gold = graded(instance, instance.patch, tmp_path / "gold")
    assert gold.resolved, gold.diagnosis
    log = Path(gold.log_path).read_text()
    assert f"--target {BUILD}" in log and "Successfully installed timespan" in log  # the reinstall ran

    empty = graded(instance, "", tmp_path / "empty")
    assert not empty.resolved and empty.diagnosis["failed"]

    wrong_fix = instance.patch.replace("divmod(abs(whole), 86400)", "divmod(-whole, 86400)")
    wrong = graded(instance, wrong_fix, tmp_path / "wrong")
    assert wrong.patch_applied and not wrong.resolved


def test_gold_needs_the_reinstall_and_the_environment_line(image: str, tmp_path: Path) -> None:
    instance = swe_gym_instance(image, SPEC)
    no_install = swe_gym_instance(image, SwegymSpec(SPEC.test_command, environment=SPEC.environment))
    no_environment = swe_gym_instance(image, SwegymSpec(SPEC.test_command, install=SPEC.install))

    stale = graded(no_install, instance.patch, tmp_path / "no-install")
    assert not stale.resolved and stale.diagnosis["failed"]  # the tests ran on the base commit's build
    unimportable = graded(no_environment, instance.patch, tmp_path / "no-environment")
    assert not unimportable.resolved
    assert "No module named 'timespan'" in Path(unimportable.log_path).read_text()


def test_under_swebenchs_set_u_activation_stops_the_script_before_any_test(
    image: str, tmp_path: Path
) -> None:
    instance = swe_gym_instance(image, SPEC, nounset=True)

    gold = graded(instance, instance.patch, tmp_path / "nounset")
    log = Path(gold.log_path).read_text()
    assert not gold.resolved
    assert "GEO_DATA: unbound variable" in log
    assert "pytest -rA" not in log.split("unbound variable", 1)[1]  # nothing after activation ran


def test_a_patch_that_skips_every_test_does_not_resolve(image: str, tmp_path: Path) -> None:
    """As an optimiser would: a root conftest.py (which the test patch does not touch) skips every test. A
    skipped FAIL_TO_PASS test is a failure here (swebench 5's rule; SWE-Gym's ignores skipped tests), and
    `pytest -rA` names no skipped test anyway (only `SKIPPED [n] file:line`): the log holds no result."""
    instance = swe_gym_instance(image, SPEC)
    skip_all = (
        "diff --git a/conftest.py b/conftest.py\nnew file mode 100644\nindex 0000000..1111111\n"
        "--- /dev/null\n+++ b/conftest.py\n@@ -0,0 +1,6 @@\n+import pytest\n+\n+\n"
        "+def pytest_collection_modifyitems(items):\n+    for item in items:\n"
        "+        item.add_marker(pytest.mark.skip(reason='skipped'))\n"
    )

    skipped = graded(instance, skip_all, tmp_path / "skip-all")
    assert skipped.patch_applied and not skipped.resolved
    assert skipped.diagnosis["tests_in_log"] == 0
    assert "29 skipped" in Path(skipped.log_path).read_text()
