"""Command line: ``python -m dynform train ...`` trains one regular-time model and prints its result;
``python -m dynform irregular ...`` trains one irregular-time model and prints its test error;
``python -m dynform sensitivity`` measures how far the book's trained numbers move under rounding;
``python -m dynform search ...`` trains the readings of the note's setup over many seeds, in parallel.

The options of ``train`` and ``irregular`` are the fields of :class:`~dynform.regular.RunConfig`
and :class:`~dynform.irregular.IrregularConfig`, with their defaults and help texts, so the CLI
and the chapters describe a run the same way. Values may begin with a minus
(``--A "-0.5,1;0,-1"``, ``--y0 "-1,2"``).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from typing import Any, Sequence

from .errors import ParameterError, TrainingDiverged
from .irregular import IrregularConfig
from .irregular.presets import PRESETS
from .regular import RunConfig


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (no usage block) and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"dynform: error: {message}\n")


def _floats(name: str):
    def parse(text: str) -> tuple[float, ...]:
        try:
            return tuple(float(x) for x in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"--{name} must be comma-separated numbers, got {text!r}") from None
    return parse


def _type(f: dataclasses.Field) -> Any:
    """The argparse type of a config field, read off its default."""
    if f.name == "tol":
        return float
    if isinstance(f.default, tuple):
        return _floats(f.name)
    return type(f.default)


def _add_settings(p: argparse.ArgumentParser, config: type, skip: Sequence[str] = ()) -> None:
    """One option per field of ``config`` (``--init-std`` for ``init_std``), default and help from the field."""
    for name, f in config.settings().items():
        if name in skip:
            continue
        option = "--" + name.replace("_", "-")
        names = getattr(f.metadata.get("check"), "names", None)
        choices = f": one of {', '.join(names)}" if names else ""
        p.add_argument(option, dest=name, type=_type(f), default=f.default,
                       help=f"{f.metadata.get('help', '')}{choices} (default: %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    """The ``dynform`` argument parser (sub-commands ``train``, ``irregular`` and ``sensitivity``)."""
    parser = _Parser(prog="dynform", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("train", help="train one regular-time model on a linear system")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--system", default=RunConfig.system, help="spiral or center (default: %(default)s)")
    which.add_argument("--A", dest="matrix", help="the matrix as 'a,b;c,d'")
    _add_settings(p, RunConfig, skip=("system",))
    p.add_argument("--json", action="store_true", help="print one JSON object")
    q = sub.add_parser("irregular", help="train one irregular-time model and report its test MSE")
    _add_settings(q, IrregularConfig)
    q.add_argument("--json", action="store_true", help="print one JSON object")
    q.add_argument("--preset", default=None, choices=sorted(PRESETS),
                   help="start from the periodic study's settings at this scale; other options override them")
    q.add_argument("--seeds", default=None, help="comma-separated seeds, trained together as members (default: --seed)")
    q.add_argument("--tasks", default=None, help="comma-separated tasks, trained together as members (default: --task)")
    q.add_argument("--out", default=None,
                   help="write the run (settings, results, date, machine, command) to this JSON file and the "
                        "trained parameters beside it (.pt)")
    q.add_argument("--track", type=int, default=0,
                   help="also take the test MSE every this many steps, and keep the training terms averaged "
                        "over the same blocks, in the record (default: 0, not tracked)")
    parser.irregular = q  # type: ignore[attr-defined]
    from .book.sensitivity import VARIANTS

    r = sub.add_parser("sensitivity", help="measure how far the headline numbers move under rounding alone")
    r.add_argument("--out", default=None, help="JSON file to write (default: the package's sensitivity.json)")
    r.add_argument("--jobs", type=int, default=2, help="variants run at once, each in its own process")
    r.add_argument("--variants", default="", help=f"comma-separated, of {', '.join(VARIANTS)} "
                   "(default: all that this CPU can run)")
    r.add_argument("--no-irregular", dest="irregular", action="store_false", help="leave out the irregular runs")
    r.add_argument("--figures", action="store_true",
                   help="instead, re-execute the chapters under other math kernels and measure each figure's change")
    r.add_argument("--chapters", default=None,
                   help="with --figures: comma-separated chapter names (e.g. 02_spiral); default: every chapter")
    r.add_argument("--readings", action="store_true",
                   help="instead, measure how far rounding moves the runs of the setup search (readings_rounding.json)")
    _add_search(sub)
    return parser


def _add_search(sub: Any) -> None:
    from .note.readings import READINGS
    from .note.seeds import SEEDS
    from .note.settings import EXAMPLES, TABLE_ROWS
    from .regular.search import BACKENDS

    s = sub.add_parser("search", help="train readings of the note's setup, each over many seeds, in parallel")
    s.add_argument("--design", choices=("full", "ofat"), default="full",
                   help="every combination of the factors' levels, or one factor at a time (default: %(default)s)")
    s.add_argument("--factors", default=",".join(READINGS),
                   help=f"comma-separated, from {', '.join(READINGS)} (default: all)")
    s.add_argument("--examples", default=",".join(EXAMPLES), help="comma-separated (default: %(default)s)")
    s.add_argument("--models", default=",".join(TABLE_ROWS), help="comma-separated (default: %(default)s)")
    s.add_argument("--adaptive", action="store_true", help="include the adaptive dopri5 solver (slow)")
    s.add_argument("--members", type=int, default=SEEDS, help="seeds per reading (default: %(default)s, the book's)")
    s.add_argument("--jobs", type=int, default=-1, help="readings trained at once; -1: all cores (default)")
    s.add_argument("--backend", default="loky", help=f"joblib backend: {', '.join(BACKENDS)} (default: %(default)s)")
    s.add_argument("--out", default="search.json", help="JSON table to write (default: %(default)s)")


def _attach_values(parser: argparse.ArgumentParser, argv: Sequence[str]) -> list[str]:
    """``--opt VALUE`` written as ``--opt=VALUE`` where VALUE begins with a minus and is not an option
    itself, so that argparse does not mistake ``-0.5,1;0,-1`` for a flag."""
    options: set[str] = set()
    valued: set[str] = set()
    for action in parser._subparsers._group_actions[0].choices.values():  # type: ignore[union-attr]
        for a in action._actions:
            options.update(a.option_strings)
            if a.nargs is None and not isinstance(a, (argparse._StoreTrueAction, argparse._StoreFalseAction,
                                                      argparse._HelpAction)):
                valued.update(a.option_strings)
    out: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        if args[i] in valued and i + 1 < len(args) and args[i + 1].startswith("-") and args[i + 1] not in options:
            out.append(f"{args[i]}={args[i + 1]}")
            i += 2
        else:
            out.append(args[i])
            i += 1
    return out


#: What the plain-text output of each sub-command lists (``--json`` prints everything).
_SHOWN = {
    "train": ("model", "system", "loss", "seconds", "iterations", "matrix", "true_matrix", "max_abs_error"),
    "irregular": ("model", "dataset", "task", "mse", "mse_all", "train_mse", "seconds", "parameters"),
}


def _run(args: argparse.Namespace, argv: Sequence[str] = ()) -> dict[str, Any]:
    """Validate the settings of the sub-command, run it and return its summary."""
    fields = {k: v for k, v in vars(args).items() if k not in ("command", "json", "matrix")}
    if args.command == "irregular":
        from .irregular.study import run_study

        extra = {k: fields.pop(k) for k in ("preset", "seeds", "tasks", "out", "track")}
        return run_study(IrregularConfig(**fields).validate(), extra["seeds"], extra["tasks"], extra["out"],
                         ("python -m dynform " + " ".join(argv)).strip(), progress=sys.stderr.isatty(),
                         track=extra["track"])
    if args.matrix is not None:
        fields["system"] = args.matrix
    result = RunConfig(**fields).validate().run(progress=sys.stderr.isatty() and not args.json)
    summary = result.summary()
    if result.replicas is not None:
        from .book.sensitivity import loss

        summary["loss_tolerance"] = loss(result).tol
    return summary


def _search(args: argparse.Namespace, command: str) -> int:
    """Train the design the options describe, write its table and print one line per reading."""
    from .note import readings
    from .note.seeds import spread
    from .regular import search

    names = args.factors.split(",")
    chosen = readings.factors(names, args.adaptive)
    design = search.full_factorial(chosen) if args.design == "full" else search.one_at_a_time(chosen)
    tasks = search.plan(readings.bases(args.examples.split(","), args.models.split(",")), design)
    start = time.perf_counter()
    rows = search.search(tasks, args.members, args.jobs, args.backend, progress=sys.stderr.isatty())
    search.write(args.out, rows, command, design=args.design, factors=names, members=args.members,
                 jobs=args.jobs, seconds=round(time.perf_counter() - start, 1))
    for row in rows:
        s = spread(row.loss)
        print(f"{row.system:>7} {row.model:>6}  median {s['median']:.4g}  range [{s['min']:.4g}, {s['max']:.4g}]  "
              f"{row.label()}")
    print(f"{len(rows)} readings written to {args.out}")
    return 0


def _bad_option(err: ParameterError, args: argparse.Namespace) -> str:
    """``--option: problem`` for a bad setting; a bad matrix is reported under ``--A`` with its own words."""
    if getattr(args, "matrix", None) is not None and err.name == "system":
        cause = err.__cause__
        return f"--A: {cause.problem if isinstance(cause, ParameterError) else err.problem}"
    return f"--{err.name.replace('_', '-')}: {err.problem}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 2 bad argument, 3 diverged)."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(_attach_values(parser, argv))
    if args.command == "irregular" and args.preset:  # the preset's settings become the defaults
        parser.irregular.set_defaults(**PRESETS[args.preset])
        args = parser.parse_args(_attach_values(parser, argv))
    if args.command == "search":
        try:
            return _search(args, ("python -m dynform " + " ".join(argv)).strip())
        except ParameterError as err:
            print(f"dynform: error: {_bad_option(err, args)}", file=sys.stderr)
            return 2
    if args.command == "sensitivity":
        from .book.sensitivity import measure, measure_figures

        try:
            if args.readings:
                from .note.readings import measure_rounding

                measure_rounding(args.out, args.jobs, ("python -m dynform " + " ".join(argv)).strip())
                return 0
            if args.figures:
                from pathlib import Path

                chapters = sorted(Path("chapters").glob("[0-9][0-9]_*.md"))
                if args.chapters:
                    wanted = set(args.chapters.split(","))
                    unknown = wanted - {md.stem for md in chapters}
                    if unknown:
                        raise ParameterError(f"chapters: no chapter {', '.join(sorted(unknown))} in chapters/")
                    chapters = [md for md in chapters if md.stem in wanted]
                found = measure_figures(chapters, jobs=args.jobs)
                print(json.dumps(found, indent=1))
                return 0
            measure(args.out, tuple(args.variants.split(",")) if args.variants else None, args.irregular, args.jobs,
                    ("python -m dynform " + " ".join(argv)).strip(), progress=sys.stderr.isatty())
        except ParameterError as err:
            print(f"dynform: error: --{err}", file=sys.stderr)
            return 2
        return 0
    try:
        summary = _run(args, argv)
    except ParameterError as err:
        print(f"dynform: error: {_bad_option(err, args)}", file=sys.stderr)
        return 2
    except TrainingDiverged as err:
        print(f"dynform: error: {err}", file=sys.stderr)
        return 3
    if args.json:
        print(json.dumps(summary))
    elif "runs" in summary:  # several members: one line each
        for run in summary["runs"]:
            print(f"seed {run['seed']:>3} {run['task']:>7}  mse {run['mse']:.4g}  mse_all {run['mse_all']:.4g}  "
                  f"mean predictor {run['mean_predictor']:.4g}")
        print(f"{len(summary['runs'])} members in {summary['seconds']:.1f} s")
    else:
        for key in _SHOWN[args.command]:
            if key in summary:
                print(f"{key:>14}: {summary[key]}")
    return 0
