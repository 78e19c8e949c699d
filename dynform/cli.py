"""Command line: ``python -m dynform train ...`` trains one regular-time model and prints its result;
``python -m dynform irregular ...`` trains one irregular-time model and prints its test error;
``python -m dynform sensitivity`` measures how far the book's trained numbers move under rounding."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from .errors import ParameterError, TrainingDiverged
from .experiment import RunConfig, run
from .irregular import IRREGULAR_MODELS, IrregularConfig, run_irregular
from .irregular_data import DATASETS, TASKS
from .models import MODEL_NAMES


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (no usage block) and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"dynform: error: {message}\n")


def _floats(name: str, count: int | None = None):
    def parse(text: str) -> tuple[float, ...]:
        try:
            values = tuple(float(x) for x in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"--{name} must be comma-separated numbers, got {text!r}") from None
        if count is not None and len(values) != count:
            raise argparse.ArgumentTypeError(f"--{name} must have {count} numbers, got {text!r}")
        return values
    return parse


def build_parser() -> argparse.ArgumentParser:
    """The ``dynform`` argument parser (sub-commands ``train`` and ``irregular``)."""
    d = RunConfig()
    parser = _Parser(prog="dynform", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("train", help="train one regular-time model on a linear system")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--system", default=d.system, help="spiral or center (default: %(default)s)")
    which.add_argument("--A", dest="matrix", help="the matrix as 'a,b;c,d'")
    p.add_argument("--model", default=d.model, help=f"one of {', '.join(MODEL_NAMES)} (default: %(default)s)")
    p.add_argument("--y0", type=_floats("y0"), default=d.y0, help="initial state, e.g. 2,0")
    p.add_argument("--t0", type=float, default=d.t0)
    p.add_argument("--t1", type=float, default=d.t1)
    p.add_argument("--points", type=int, default=d.points)
    p.add_argument("--epochs", type=int, default=d.epochs, help="maximum optimiser steps")
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--tol", type=float, default=None, help="stop when the loss falls below this")
    p.add_argument("--optimizer", default=d.optimizer, help="algorithm1 or torch-rmsprop")
    p.add_argument("--solver", default=d.solver, help="rk4 or odeint:METHOD")
    p.add_argument("--substeps", type=int, default=d.substeps)
    p.add_argument("--data", default=d.data, help="exact or rk4")
    p.add_argument("--hidden", type=int, default=d.hidden)
    p.add_argument("--init-std", dest="init_std", type=float, default=d.init_std)
    p.add_argument("--device", default=d.device, help="cpu or cuda")
    p.add_argument("--dtype", default=d.dtype, help="float32 (the note's) or float64")
    p.add_argument("--rounding", type=int, default=d.rounding,
                   help="rounding replicas trained beside the run (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    i = IrregularConfig()
    q = sub.add_parser("irregular", help="train one irregular-time model and report its test MSE")
    q.add_argument("--model", default=i.model, help=f"one of {', '.join(IRREGULAR_MODELS)} (default: %(default)s)")
    q.add_argument("--dataset", default=i.dataset, help=f"one of {', '.join(DATASETS)} (default: %(default)s)")
    q.add_argument("--task", default=i.task, help=f"one of {', '.join(TASKS)} (default: %(default)s)")
    q.add_argument("--seed", type=int, default=i.seed)
    q.add_argument("--epochs", type=int, default=i.epochs, help="full-batch Adam steps (default: %(default)s)")
    q.add_argument("--json", action="store_true", help="print one JSON object")
    from .sensitivity import VARIANTS

    r = sub.add_parser("sensitivity", help="measure how far the headline numbers move under rounding alone")
    r.add_argument("--out", default=None, help="JSON file to write (default: the package's sensitivity.json)")
    r.add_argument("--jobs", type=int, default=2, help="variants run at once, each in its own process")
    r.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated (default: all)")
    r.add_argument("--no-irregular", dest="irregular", action="store_false", help="leave out the irregular runs")
    r.add_argument("--figures", action="store_true",
                   help="instead, re-execute the chapters under other math kernels and measure each figure's change")
    return parser


#: What the plain-text output of each sub-command lists (``--json`` prints everything).
_SHOWN = {
    "train": ("model", "system", "loss", "seconds", "iterations", "matrix", "true_matrix", "max_abs_error"),
    "irregular": ("model", "dataset", "task", "mse", "train_mse", "seconds", "parameters"),
}


def _run(args: argparse.Namespace):
    """Validate the settings of the sub-command and run it; returns its result."""
    if args.command == "irregular":
        fields = {k: v for k, v in vars(args).items() if k not in ("command", "json")}
        return run_irregular(IrregularConfig(**fields).validate())
    fields = {k: v for k, v in vars(args).items() if k not in ("command", "json", "matrix")}
    if args.matrix is not None:
        fields["system"] = args.matrix
    config = RunConfig(**fields).validate()
    return run(config, progress=sys.stderr.isatty() and not args.json)


def _bad_option(err: ParameterError, args: argparse.Namespace) -> str:
    """``--option: problem`` for a bad setting; a bad matrix is reported under ``--A``."""
    option, text = "--" + err.name.replace("_", "-"), str(err).split(": ", 1)[1]
    if err.name == "A" or (err.name == "system" and getattr(args, "matrix", None) is not None):
        option, text = "--A", text.removeprefix("matrix A: ")
    return f"{option}: {text}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 2 bad argument, 3 diverged)."""
    args = build_parser().parse_args(argv)
    if args.command == "sensitivity":
        from .sensitivity import measure

        command = "python -m dynform " + " ".join(sys.argv[1:] if argv is None else argv)
        try:
            if args.figures:
                from pathlib import Path

                from .sensitivity import measure_figures

                found = measure_figures(sorted(Path("chapters").glob("[0-9][0-9]_*.md")), jobs=args.jobs)
                print(json.dumps(found, indent=1))
                return 0
            measure(args.out, tuple(args.variants.split(",")), args.irregular, args.jobs, command.strip(),
                    progress=sys.stderr.isatty())
        except ParameterError as err:
            print(f"dynform: error: --{err}", file=sys.stderr)
            return 2
        return 0
    try:
        result = _run(args)
    except ParameterError as err:
        print(f"dynform: error: {_bad_option(err, args)}", file=sys.stderr)
        return 2
    except TrainingDiverged as err:
        print(f"dynform: error: {err}", file=sys.stderr)
        return 3
    summary = result.summary()
    if args.json:
        print(json.dumps(summary))
    else:
        for key in _SHOWN[args.command]:
            if key in summary:
                print(f"{key:>14}: {summary[key]}")
    return 0
