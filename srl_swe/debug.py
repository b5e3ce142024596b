"""`python -m srl_swe.debug --task demo --instance-ids ID [--trajectory PATH]`: step an env by hand against a
recorded expert trajectory (any format `srl_swe.trajectories.read` takes).

The prompt is envs' (`python -m envs`, whose flags it also takes); the expert defaults to the demo set's
shipped trajectory for the instance. `:expert` shows the expert's next action, `:sim` the SRL similarity of
yours to it, `:replay` runs the trajectory and reports where observations diverge.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from srl_swe.demo_trajectories import TRAJECTORIES_DIR


def main(argv: list[str] | None = None) -> int:
    """Run the interactive prompt with a recorded expert; return the process exit status."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--trajectory", type=Path, help="expert trajectory file (default: the demo's own)")
    args, rest = parser.parse_known_args(argv)

    def expert_for(instance):
        from srl_swe.trajectories import read

        path = args.trajectory or TRAJECTORIES_DIR / f"{instance.instance_id}.traj"
        if not path.exists():
            raise ValueError(f"no expert trajectory at {path}: pass --trajectory PATH")
        matching = [t for t in read(path) if t.instance_id == instance.instance_id]
        if not matching:
            raise ValueError(f"{path} holds no trajectory of {instance.instance_id}")
        return matching[0]

    from envs.__main__ import main as interactive

    return interactive(rest, expert_for=expert_for)


if __name__ == "__main__":
    sys.exit(main())
