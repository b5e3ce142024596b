"""Reading the training command's results table back from its printed text (for the CLI tests)."""

from __future__ import annotations


def table_steps(stdout: str) -> list[int]:
    """Return the steps the printed results table shows (its header's columns after "step")."""
    header = next(line for line in stdout.splitlines() if line.startswith("┃") and "step" in line)
    return [int(cell.strip()) for cell in header.split("┃")[2:-1]]
