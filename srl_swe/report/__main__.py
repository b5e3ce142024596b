"""``python -m srl_swe.report RUN_DIR [--out FILE]``: write a run folder's HTML report and print its path."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from srl_swe.report import ReportError, write_report


def main(argv: Sequence[str] | None = None) -> int:
    """Write the report; return the exit status (2 with one line when the folder cannot be reported on)."""
    parser = argparse.ArgumentParser(
        prog="python -m srl_swe.report",
        description="Write one self-contained HTML page of a run folder (eval, train or demo); print its "
        "path.",
    )
    parser.add_argument("run_dir", help="a folder that eval, train or the demo wrote (e.g. runs/demo)")
    parser.add_argument("--out", default=None, help="where to write the page (default: RUN_DIR/report.html)")
    args = parser.parse_args(argv)
    try:
        path = write_report(args.run_dir, args.out)
    except (ReportError, OSError) as error:
        print(f"error: {str(error).strip().splitlines()[0]}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
