"""`srl_swe.eval --mode agentless` in real containers: with a scripted policy that localizes the gold file,
repairs with the gold edit twice and with a regression once, and writes a reproduction script, every stage
does its job (the regression is filtered out, the gold patch is chosen and resolves); a rerun resumes stage by
stage; and with the tiny model through real vLLM the report counts every stage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.policies import SamplingConfig
from harness import load_instances
from srl_swe.eval import EvalConfig
from srl_swe.eval_agentless import REPORT_FILE, read_stage, run_agentless_mode, stage_path
from tests.agents.test_swe_rl_protocol import gold_reply

pytestmark = pytest.mark.docker
ID = "srl-demo__semverkit-8"
BROKEN = """```python
### semverkit/version.py
<<<<<<< SEARCH
        return int(identifier)
=======
        return identifier
>>>>>>> REPLACE
```"""
REPRODUCTION = """```python
from semverkit import Version

def test_mixed_prerelease_identifiers():
    try:
        lower = Version.parse("1.0.0-alpha.1") < Version.parse("1.0.0-alpha.beta")
    except TypeError:
        print("Issue reproduced")
        return
    except Exception:
        print("Other issues")
        return
    print("Issue resolved" if lower else "Issue reproduced")

test_mixed_prerelease_identifiers()
```"""


def answer(text: str) -> str:
    return f"<think>\nLet me see.\n</think>\n<solution>\n{text}\n</solution>"


class ScriptedPolicy:
    """Answers each stage's prompt as a good model would: repair samples cycle gold, gold, regression."""

    def __init__(self, gold_patch: str) -> None:
        self.sampling = SamplingConfig(temperature=0.0)
        self.gold = gold_reply(gold_patch)
        self.repairs = 0
        self.calls = 0

    def generate(self, conversations, n: int = 1) -> list[list[str]]:
        self.calls += 1
        return [[self.reply(conversation[-1]["content"]) for _ in range(n)] for conversation in conversations]

    def reply(self, prompt: str) -> str:
        if "### Repository Structure ###" in prompt:
            return answer("```\nsemverkit/version.py\n```")
        if "--- BEGIN FILE ---" in prompt:
            self.repairs += 1
            return answer(BROKEN) if self.repairs % 3 == 0 else self.gold
        return answer(REPRODUCTION)


def test_every_stage_works_and_the_gold_repair_is_chosen_and_resolves(tmp_path: Path, capsys) -> None:
    (instance,) = load_instances("demo", instance_ids=[ID])
    config = EvalConfig(
        mode="agentless", instance_ids=[ID], run_dir=str(tmp_path), repair_samples=3, reproduction_samples=2
    )
    policy = ScriptedPolicy(instance.patch)
    assert run_agentless_mode(config, policy) == 0
    root = tmp_path / "agentless-demo-srl-swe-tiny"
    report = json.loads((root / REPORT_FILE).read_text())
    (row,) = report["instances"]
    assert row == {
        "instance_id": ID,
        "localization_recall": 1.0,
        "localization": "localize",
        "samples": 3,
        "patches": 3,
        "applied": 3,
        "pass_regression": 2,
        "reproduction_tests": 1,
        "reproduce": 3,
        "selected": 0,
        "resolved": 1,
    }
    regression = read_stage(root, ID, "regression")
    assert regression["original_passing"] > 0 and regression["samples"][2]["failed"]
    (prediction,) = [json.loads(line) for line in (root / "predictions.jsonl").read_text().splitlines()]
    assert prediction["model_patch"] == read_stage(root, ID, "repair")["samples"][0]["patch"]
    out = capsys.readouterr().out
    assert "resolved 1/1" in out and REPORT_FILE in out

    # resume: drop the prediction and the last stage; the earlier stages are read back, not redone
    (root / "predictions.jsonl").unlink()
    stage_path(root, ID, "select").unlink()
    again = ScriptedPolicy(instance.patch)
    assert run_agentless_mode(config, again) == 0
    assert again.calls == 0
    assert read_stage(root, ID, "select")["selected"] == 0


@pytest.mark.vllm
def test_the_tiny_model_goes_through_every_stage_to_a_report(tmp_path: Path, vllm_engine, capsys) -> None:
    """The tiny model names no file, so localization is left out here (--gold-localization: the gold files
    stand in, and the report says so) for the repair stage to have samples; the default pipeline runs in
    tests/test_entry_points.py."""
    from agents.policies.vllm_policy import VLLMPolicy

    config = EvalConfig(
        mode="agentless",
        instance_ids=[ID],
        run_dir=str(tmp_path),
        max_new_tokens=32,
        agentless_stages=["repair", "regression", "reproduction", "select"],
        gold_localization=True,
        repair_samples=2,
        reproduction_samples=2,
    )
    policy = VLLMPolicy(engine=vllm_engine, sampling=SamplingConfig(max_new_tokens=32, seed=0))
    assert run_agentless_mode(config, policy) == 0
    root = tmp_path / "agentless-demo-srl-swe-tiny"
    assert read_stage(root, ID, "localize") is None
    samples = read_stage(root, ID, "repair")["samples"]
    assert len(samples) == 2 and all(s["files"] == ["semverkit/version.py"] for s in samples)
    # the tiny model's context may not hold the whole file: the sample then says so
    assert all(s["reply"] or "may not fit" in s["error"] for s in samples)
    regression = read_stage(root, ID, "regression")  # the tests run only for samples with a patch
    assert len(regression["samples"]) == 2
    assert all(run is None for run, s in zip(regression["samples"], samples, strict=True) if not s["patch"])
    assert len(read_stage(root, ID, "reproduction")["replies"]) == 2
    (row,) = json.loads((root / REPORT_FILE).read_text())["instances"]
    assert row["samples"] == 2 and row["localization_recall"] is None and row["localization"] == "gold"
    assert "agentless stages (gold localization" in capsys.readouterr().out
