"""Validate the device models against the measured data sets (issue 4).

Writes ``report.md`` and PNG figures into ``--out`` (default ``results/validation-measured``
under the current directory; ``results/`` is git-ignored, so nothing lands in the source tree)
and exits 1 if any fit is worse than its
stated bound (the bounds are listed in the report and in ``xbar/reports/measured.py``).

    python validation/measured/run.py [--quick] [--out DIR] [--seed N]

Needs the data under ``$XBAR_DATA_DIR`` (see the README, Data).  ``--quick`` (10 I-V cycles,
the same ramp checks with fewer perfect-model draws for the KS floor, relaxation predicted at the
last time point only, 20k-sample noise series) runs in well under 2 minutes.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout

from xbar.reports.measured import run, summarize


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="reduced run (< 2 min)")
    ap.add_argument(
        "--out",
        default=str(Path("results") / "validation-measured"),
        help="report folder (default: results/validation-measured, git-ignored)",
    )
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    return summarize(run(args.out, quick=args.quick, random_state=args.seed))


if __name__ == "__main__":
    sys.exit(main())
