"""The flags of oracle's SWE-RL protocol and of agentless mode: their defaults (SWE-RL's completion budget
in the modes that follow it) and a bad stage name, or stages without localize and without
--gold-localization (the gold files are never used unless asked), as one line with exit code 2."""

from __future__ import annotations

import pytest

from srl_swe.eval import main, parse
from srl_swe.eval_config import AGENTLESS_STAGES, SWE_RL_MAX_NEW_TOKENS


@pytest.mark.parametrize(
    ("mode", "budget"), [("oracle", SWE_RL_MAX_NEW_TOKENS), ("agentless", 4096), ("e2e", 1024)]
)
def test_the_completion_budget_follows_swe_rl_in_its_modes(mode: str, budget: int) -> None:
    assert parse(["--mode", mode]).max_new_tokens == budget
    assert parse(["--mode", mode, "--max-new-tokens", "64"]).max_new_tokens == 64


def test_oracle_uses_swe_rl_by_default_and_ours_on_request() -> None:
    config = parse(["--mode", "oracle"])
    assert (config.oracle_prompt, config.thinking) == ("swe-rl", True)
    config = parse(["--mode", "oracle", "--oracle-prompt", "ours", "--no-thinking"])
    assert (config.oracle_prompt, config.thinking) == ("ours", False)


def test_agentless_runs_every_stage_unless_told() -> None:
    config = parse(["--mode", "agentless"])
    assert config.agentless_stages == list(AGENTLESS_STAGES)
    argv = ["--mode", "agentless", "--agentless-stages", "repair", "select", "--repair-samples", "3"]
    config = parse([*argv, "--gold-localization"])
    assert (config.agentless_stages, config.repair_samples, config.gold_localization) == (
        ["repair", "select"],
        3,
        True,
    )


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--agentless-stages", "repair", "vote"], "agentless_stages: 'vote'"),
        (["--repair-samples", "0"], "repair_samples must be"),
        (["--agentless-stages", "repair", "select"], "--gold-localization"),
    ],
)
def test_a_bad_agentless_value_is_one_line_and_exit_2(argv: list[str], named: str, capsys) -> None:
    assert main(["--mode", "agentless", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert named in err and len(err.splitlines()) == 1
