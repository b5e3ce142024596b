"""`python -m srl_swe.eval --mode steps`: held-out step examples scored by the SRL reward, greedy and
sampled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from srl_swe.eval import main
from srl_swe.eval_steps import command_kind, decoding_metrics
from srl_swe.train import DEMO_TRAJECTORIES


def test_command_kind_names_bash_editor_sub_commands_and_submit() -> None:
    assert command_kind("cd /testbed && grep -n x a.py") == "bash"
    assert command_kind("str_replace_editor view /testbed/a.py --view_range 1 5") == "view"
    assert (
        command_kind("str_replace_editor str_replace /testbed/a.py --old_str 'a' --new_str 'b'")
        == "str_replace"
    )
    assert command_kind("str_replace_editor create /testbed/t.py --file_text 'x'") == "create"
    assert command_kind("submit") == "submit"


def test_step_metrics_score_reward_format_errors_exact_matches_and_similarity() -> None:
    expert = ["python3 -m pytest -q", "str_replace_editor view /testbed/a.py"]
    completions = [
        ["<think>run the tests</think>\n```bash\npython3 -m pytest -q\n```", "no think tags at all"],
        ["<think>look</think>\n```bash\nstr_replace_editor view /testbed/b.py\n```", "<think>x</think>"],
    ]
    metrics = decoding_metrics(completions, expert, ["bash", "view"])
    similar = metrics["by_kind"]["view"]["similarity"]
    assert 0.9 < similar < 1.0
    assert metrics["completions"] == 4
    assert metrics["format_error_rate"] == 0.5 and metrics["exact_match_rate"] == 0.25
    assert metrics["step_reward"] == pytest.approx((1.0 - 1.0 + similar - 1.0) / 4)
    assert metrics["similarity"] == pytest.approx((1.0 + similar) / 2)
    bash = metrics["by_kind"]["bash"]
    assert (bash["completions"], bash["step_reward"], bash["similarity"]) == (2, 0.0, 1.0)
    assert bash["format_error_rate"] == bash["exact_match_rate"] == 0.5


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--mode", "steps"], "--steps"), (["--mode", "steps", "--steps", "/no/such/steps"], "/no/such/steps")],
)
def test_steps_mode_without_a_step_dataset_is_one_line(
    argv: list[str], message: str, tmp_path: Path, capsys
) -> None:
    assert main([*argv, "--run-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and message in err and "\n" not in err


@pytest.mark.vllm
def test_steps_mode_scores_held_out_steps_greedy_and_sampled(tmp_path: Path, capsys) -> None:
    from srl_swe.data import build

    build(DEMO_TRAJECTORIES, tmp_path / "steps", validation=2, seed=0)
    held_out = str(tmp_path / "steps-validation")
    argv = ["--mode", "steps", "--steps", held_out, "--samples", "2", "--max-new-tokens", "16"]
    assert main([*argv, "--run-dir", str(tmp_path), "--run-id", "held-out"]) == 0
    result = json.loads((tmp_path / "held-out" / "steps.json").read_text())
    assert result["model"] == "srl-swe-tiny" and result["steps"] == held_out
    assert result["greedy"]["completions"] == result["examples"] > 0
    assert result["sampled"]["completions"] == 2 * result["examples"]
    assert result["sampled"]["temperature"] == 1.0 and result["greedy"]["temperature"] == 0.0
    for decoding in ("greedy", "sampled"):
        metrics = result[decoding]
        assert -1.0 <= metrics["step_reward"] <= 1.0 and 0.0 <= metrics["format_error_rate"] <= 1.0
        assert sum(kind["completions"] for kind in metrics["by_kind"].values()) == metrics["completions"]
    # per step example, what the report page shows: the context, the expert's action, each scored completion
    records = result["per_example"]
    assert len(records) == result["examples"]
    greedy = [completion["reward"] for record in records for completion in record["greedy"]]
    assert sum(greedy) / len(greedy) == pytest.approx(result["greedy"]["step_reward"])
    for record in records:
        assert record["instance_id"].startswith("srl-demo__") and isinstance(record["step_index"], int)
        assert record["prompt"] and all({"role", "content"} <= set(m) for m in record["prompt"])
        assert len(record["sampled"]) == 2 and all("completion" in c for c in record["sampled"])
    out = capsys.readouterr().out
    assert "held-out steps" in out and "step report:" in out
    assert f"report page: {tmp_path / 'held-out' / 'report.html'}" in out
