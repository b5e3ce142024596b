"""The fixture scenario: where the fixture files are and the actions every format must read from them.

The files under fixtures/ follow the real formats' schemas, noise included (SWE-agent .traj, mini-swe-agent
.traj.json, SWE-smith fine-tuning rows, SWE-Gym's OpenHands rows, OpenHands event streams); most hold the same
fix of a small made-up repository (calc), a few a shorter variant of it. Their editor observations are what
SWE-agent's editor prints for that file, their bash observations what the commands print. The same runs
recorded on a real demo instance, replayed in SWEEnv, are under fixtures_replay/
(test_expert_actions_run_in_env.py).
"""

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"

EXPECTED_ACTIONS = [
    'grep -n "def add" -r /testbed',
    "str_replace_editor view /testbed/calc/ops.py --view_range 1 5",
    "str_replace_editor str_replace /testbed/calc/ops.py"
    " --old_str '    return a - b' --new_str '    return a + b'",
    "cd /testbed && python -m pytest -q tests/test_ops.py",
    "submit",
]
