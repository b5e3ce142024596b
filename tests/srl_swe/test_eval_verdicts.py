"""Every unresolved verdict names its cause, in the same words on the console, in the run report and in
`harness.images check`: "did not apply: <git's complaint>", "tests did not run: <the error line>" (an image
without pytest, a patch that breaks the syntax of a module the tests import), "tests failed: <the tests>"."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import load_instances
from harness.images import ensure_images
from harness.sandbox import labels
from harness.sandbox.engine import connect_engine
from srl_swe.eval import main
from tests.srl_swe.test_eval_predictions_mode import UNAPPLIABLE, WRONG, syntax_breaking

pytestmark = pytest.mark.docker
NO_PYTEST = "srl-demo__timespan-3"
SYNTAX = "srl-demo__timespan-10"
UNAPPLIED = "srl-demo__tabulet-9"
FAILED = "srl-demo__tabulet-12"


@pytest.fixture(scope="module")
def no_pytest_image() -> Iterator[str]:
    """Returns the demo image of timespan with pytest uninstalled (committed from a container; removed
    afterwards)."""
    client = connect_engine()
    (instance,) = load_instances("demo", instance_ids=[NO_PYTEST])
    ensure_images([instance])
    remove = (
        "import os, shutil, pytest, _pytest; "
        "[shutil.rmtree(os.path.dirname(m.__file__)) for m in (pytest, _pytest)]"
    )
    container = client.containers.run(
        instance.image, ["python3", "-c", remove], detach=True, labels={labels.SANDBOX: "1"}
    )
    assert container.wait()["StatusCode"] == 0
    name = "srl-swe-h22-nopytest/timespan:1"
    container.commit(repository=name.split(":")[0], tag="1")
    container.remove()
    yield name
    client.images.remove(name, force=True)


def test_each_verdict_names_its_cause_on_the_console_and_in_the_report(
    no_pytest_image: str, tmp_path: Path, capsys
) -> None:
    instances = {i.instance_id: i for i in load_instances("demo")}
    patches = {
        NO_PYTEST: instances[NO_PYTEST].patch,
        SYNTAX: syntax_breaking(instances[SYNTAX].patch),
        UNAPPLIED: UNAPPLIABLE,
        FAILED: WRONG,
    }
    predictions = tmp_path / "preds.jsonl"
    predictions.write_text(
        "".join(
            json.dumps({"instance_id": iid, "model_name_or_path": "agent", "model_patch": patch}) + "\n"
            for iid, patch in patches.items()
        )
    )
    image_map = tmp_path / "images.json"
    image_map.write_text(json.dumps({NO_PYTEST: no_pytest_image}))
    argv = ["--mode", "predictions", "--predictions", str(predictions), "--image-map", str(image_map)]
    assert main([*argv, "--run-dir", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    report = json.loads(next((tmp_path / "runs").glob("*/agent.*.json")).read_text())
    verdicts = {iid: d["verdict"] for iid, d in report["unresolved_diagnosis"].items()}
    assert set(verdicts) == set(patches)
    assert verdicts[NO_PYTEST] == "tests did not run: /usr/bin/python3: No module named pytest"
    assert verdicts[SYNTAX].startswith("tests did not run: SyntaxError")
    assert verdicts[UNAPPLIED] == "did not apply: error: no_such_module.py: No such file or directory"
    first = instances[FAILED].FAIL_TO_PASS[0]
    assert verdicts[FAILED].startswith(f"tests failed: FAIL_TO_PASS {first}")
    for iid, verdict in verdicts.items():
        assert f"{iid}: unresolved: {verdict}" in out


def test_images_check_says_the_tests_did_not_run_and_why(no_pytest_image: str, tmp_path: Path) -> None:
    image_map = tmp_path / "images.json"
    image_map.write_text(json.dumps({NO_PYTEST: no_pytest_image}))
    command = ["-m", "harness.images", "check", "--instance-ids", NO_PYTEST, "--image-map", str(image_map)]
    done = subprocess.run(
        [sys.executable, *command], capture_output=True, text=True, timeout=600, check=False, env=None
    )
    assert done.returncode == 1, done.stderr
    assert "tests run: tests did not run: /usr/bin/python3: No module named pytest" in done.stdout
