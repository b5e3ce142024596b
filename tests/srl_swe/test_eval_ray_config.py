"""The executor flags of `srl_swe.eval`: local by default (no Ray needed), ray where sandboxes run, refused
in one line where none does or a value is wrong."""

from __future__ import annotations

import subprocess
import sys

import pytest

from srl_swe.eval import ConfigError, parse


def test_local_is_the_default_and_builds_no_ray() -> None:
    config = parse([])
    assert (config.executor, config.ray_address, config.max_retries) == ("local", None, 2)
    with config.open_executor() as executor:
        assert type(executor).__name__ == "LocalExecutor"
    check = (
        "import sys, srl_swe.eval, srl_swe.eval_gold, srl_swe.eval_policy, harness.evaluation; "
        "config = srl_swe.eval.parse([])\nwith config.open_executor(): pass\nassert 'ray' not in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--mode", "steps", "--steps", "DIR", "--executor", "ray"], "mode steps runs no sandbox"),
        (["--executor", "ray", "--max-retries", "-1"], "max_retries must be a whole number >= 0"),
    ],
)
def test_bad_executor_settings_are_one_line(flags: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse(flags)
