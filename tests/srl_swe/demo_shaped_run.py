"""``python -m tests.srl_swe.demo_shaped_run OUT``: the demo's own stages, cut to base and SRL with a budget
of minutes and one seed (gold validation, the held-out split, the base model measured, 2 SRL steps with the
held-out steps evaluated after each, SRL measured, the comparison, the summary and its report page), in a
process of its own so that its vLLM engines never meet the test session's. It prints what the demo prints."""

from __future__ import annotations

import sys

import srl_swe.demo as demo


def main(out: str) -> None:
    """Run the cut demo into ``out``."""
    demo.ROWS = ("base", "srl")  # the demo's stage list without SFT and SRL→RLVR: minutes, not ten
    config = demo.DemoConfig(
        out=out,
        train_steps=2,
        validation_every=1,
        prompts_per_step=2,
        num_generations=4,
        samples=2,
        max_new_tokens=24,
        e2e_max_steps=2,
        seeds=1,
    )
    demo.run_seeds(config)


if __name__ == "__main__":
    main(sys.argv[1])
