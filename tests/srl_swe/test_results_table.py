"""The training results table: one row per metric, one column per step, at most TABLE_STEPS steps spread
from the run's first to its last."""

from __future__ import annotations

import itertools

from rich.console import Console

from srl_swe.train import TABLE_STEPS, results_table, shown_steps
from tests.srl_swe.results_table import table_steps


def test_a_long_run_shows_its_first_and_last_step_and_evenly_spread_ones_between() -> None:
    rows = [{"step": step, "loss": 0.5} for step in range(1, 101)]
    steps = [row["step"] for row in shown_steps(rows)]
    assert len(steps) == TABLE_STEPS and steps[0] == 1 and steps[-1] == 100
    gaps = {b - a for a, b in itertools.pairwise(steps)}
    assert max(gaps) - min(gaps) <= 1


def test_the_table_has_a_row_per_logged_metric_and_fits_an_80_column_terminal() -> None:
    rows = [
        {"step": step, "loss": 0.1, "reward": 0.5, "rlvr/resolved_rate": 0.25, "time/env_s": 3.0}
        for step in range(1, 21)
    ]
    console = Console(width=80, record=True)
    console.print(results_table(rows))
    text = console.export_text()
    assert table_steps(text) == [row["step"] for row in shown_steps(rows)]
    assert "rlvr/resolved_rate" in text and "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
