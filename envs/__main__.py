"""python -m envs --task demo --instance-ids ID: step through a task instance by hand (see envs.interactive).

The expert is the scripted one (the gold patch as editor calls, then submit) unless --no-expert;
`python -m srl_swe.debug` runs the same prompt with a recorded expert trajectory instead. Several ids are
stepped one after another. Bad input (an unknown set or id, a missing image) is one line, exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from rich.console import Console

from harness.errors import HarnessError


def only_instance_id(task: str, path: str | None, image_map: str | None) -> str:
    """Returns the id of the set's one instance; raises ValueError naming --instance-ids when it has several
    (or none)."""
    from harness import load_instances

    ids = [instance.instance_id for instance in load_instances(task, path, image_map=image_map)]
    if len(ids) == 1:
        return ids[0]
    where = f"--path {path}" if path else f"--task {task}"
    shown = " ".join(ids[:5]) + (" ..." if len(ids) > 5 else "")
    raise ValueError(f"{where} has {len(ids)} instances: pass --instance-ids ID [ID ...] (e.g. {shown})")


def main(argv: list[str] | None = None, expert_for: Callable | None = None) -> int:
    """Runs the interactive prompt; returns the process exit status.

    `expert_for(instance)` gives the expert to compare with (default: the scripted expert).
    """
    parser = argparse.ArgumentParser(prog="python -m envs", description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="demo", help="task set (default: demo)")
    parser.add_argument(
        "--instance-ids", nargs="+", metavar="ID", help="instance id(s) (needed when the set has several)"
    )
    parser.add_argument("--path", help="local JSON/JSONL/Parquet file or folder of instances")
    parser.add_argument("--image-map", help="JSON/YAML file: instance id -> image to run it in")
    parser.add_argument("--no-pull", action="store_true", help="never pull a missing image")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds an action may run (default 60)")
    parser.add_argument("--no-expert", action="store_true", help="no expert to compare with")
    parser.add_argument("--no-color", action="store_true", help="plain text output")
    args = parser.parse_args(argv)

    from envs.interactive import InteractiveSession, run_session
    from envs.scripted_expert import scripted_expert_actions
    from envs.swe_env import SWEEnv, SWEEnvConfig
    from envs.wrappers import ExpertAware

    colour = not args.no_color and sys.stdout.isatty()
    console = Console(no_color=not colour, highlight=False, soft_wrap=True)
    config = SWEEnvConfig(step_timeout_s=args.timeout, pull_images=not args.no_pull)
    try:
        instance_ids = args.instance_ids or [only_instance_id(args.task, args.path, args.image_map)]
    except (HarnessError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for instance_id in instance_ids:
        try:
            env = SWEEnv(
                task=args.task,
                instance_id=instance_id,
                path=args.path,
                image_map=args.image_map,
                config=config,
            )
        except (HarnessError, ValueError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        try:
            expert = [] if args.no_expert else (expert_for or scripted_expert_actions)(env.instance)
            run_session(InteractiveSession(ExpertAware(env, expert, follow=False), console), colour)
        except (HarnessError, ValueError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        finally:
            env.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
