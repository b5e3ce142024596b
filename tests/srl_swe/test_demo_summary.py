"""The demo's summary over seeds: each row's mean and spread, and the seeds where SRL beats the base model."""

from __future__ import annotations

import pytest

from srl_swe.demo import ROWS, SUMMARY_METRICS, DemoConfig, summarize, summary_table, wins_line


def _rows(greedy: dict[str, float]) -> list[dict]:
    return [
        {"name": name, **dict.fromkeys(SUMMARY_METRICS, 0.0), "heldout_step_reward": greedy[name]}
        for name in ROWS
    ]


def test_summary_gives_mean_spread_and_the_seeds_where_srl_beats_base() -> None:
    runs = {
        0: _rows({"base": 0.0, "sft": -0.5, "srl": 0.2, "srl-rlvr": 0.2}),
        1: _rows({"base": 0.1, "sft": -0.4, "srl": 0.1, "srl-rlvr": 0.1}),  # a tie is no win
        2: _rows({"base": -1.0, "sft": -1.0, "srl": -0.2, "srl-rlvr": -0.2}),
    }
    summary = summarize(runs)
    srl = summary["rows"]["srl"]["heldout_step_reward"]
    assert srl["mean"] == pytest.approx(1 / 30) and srl["min"] == -0.2 and srl["max"] == 0.2
    assert srl["std"] == pytest.approx(0.208167, abs=1e-6)  # sample standard deviation
    assert summary["srl_beats_base"] == 2 and summary["seeds"] == 3


def test_one_seed_has_no_spread_and_a_missing_sampled_reward_is_left_out() -> None:
    rows = _rows({"base": 0.0, "sft": 0.0, "srl": 0.1, "srl-rlvr": 0.1})
    rows[0]["heldout_step_reward_sampled"] = None
    summary = summarize({7: rows})
    assert summary["rows"]["srl"]["heldout_step_reward"]["std"] == 0.0
    assert "heldout_step_reward_sampled" not in summary["rows"]["base"]
    from rich.console import Console

    console = Console(width=120, record=True)
    console.print(summary_table(summary, 1))
    text = console.export_text()
    assert "0.100±0.00" in text and wins_line(summary).endswith("in 1 of 1 seed(s)")


def test_seeds_must_be_a_whole_number_of_at_least_one() -> None:
    with pytest.raises(ValueError, match="seeds must be a whole number >= 1"):
        DemoConfig(seeds=0)
