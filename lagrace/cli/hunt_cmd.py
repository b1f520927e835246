"""``lagrace hunt``: search the timing window of the race (docs/hunt.md).

A thin shell: options become :class:`~lagrace.hunt.model.Settings` and a base scenario, the
shell in :mod:`lagrace.hunt.runner` runs the trials (each one ``lagrace run``), and the exit code
says what was found. The first SIGINT/SIGTERM ends the current trial cleanly and saves the hunt
(resume with ``--resume DIR``); a second one exits at once.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

from lagrace.cli.interrupt import INTERRUPTED, interruptible
from lagrace.cli.progress import make_progress_display
from lagrace.clock import SystemClock
from lagrace.errors import UsageError
from lagrace.hunt.model import SHRINK_ORDER, Finished, HuntState, Settings
from lagrace.hunt.render import finished_line
from lagrace.hunt.runner import (
    RECOVER_S,
    Hunt,
    HuntStopped,
    create_hunt_dir,
    created_by_trials,
    load_hunt,
    run_trial_with,
    write_outputs,
)
from lagrace.hunt.space import base_value, check_params, parse_param
from lagrace.hunt.window import HuntResult
from lagrace.loop import run as run_on_loop
from lagrace.scenario import Scenario, scenario_from_file, validate, with_overrides

EXIT_FOUND: Final = 0
EXIT_NOTHING: Final = 2
EXIT_ERROR: Final = 3
EXIT_STOPPED: Final = 4

HUNT_EXIT_HELP: Final = (
    "exit codes: 0 the hunt ended with a reproducing point (window stated, minimal.toml "
    "written); 2 no searched point reproduced before the search, the trial budget or the time "
    "limit ended, or interrupted (resume with --resume DIR); 3 usage, configuration or driver "
    "error (one line on stderr); 4 a real cluster did not come back clean after a trial (the "
    "message names that trial's directory)"
)

_SCENARIO_OPTIONS: Final = {"nodes": "cluster.nodes", "logs": "cluster.logs"}


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``lagrace hunt``."""
    parser = subparsers.add_parser(
        "hunt",
        help="search the timing window of the race: sweep, bisect, shrink",
        description=(
            "Hunt the minimal timing window of the race. Each --param NAME=LO:HI is searched "
            "in turn (the others at the base scenario's values): a coarse sweep of "
            "--coarse-points values with --trials trials each, then bisection of the boundary "
            "between 'never reproduces' and 'reproduces' with --boundary-trials trials per "
            "point, down to --resolution. Then the best reproducing point is shrunk greedily "
            "(fewer creates, fewer workers, lower rate, shorter or no slow-down) while its "
            "estimate stays >= --threshold. Every trial is a `lagrace run` of the base "
            "scenario with the trial's values (the embedded simulated cluster unless --nodes). "
            "Stops at the end of the search, at --budget-trials trials or when the next "
            "trial would pass --time-limit. Writes hunts/<name>/<UTC time>-<id>/: hunt.json "
            "(state; --resume DIR continues it), table.md, plots/*.png, minimal.toml (replay "
            "with `lagrace run --scenario minimal.toml`), index.html, trials/. "
            "NAME is one of: hammer.rate, hammer.workers, hammer.batch, hammer.ordering "
            "(weak:strong), burst.count, burst.spacing_s, burst.offset_s, burst.concurrency, "
            "lag.duration_s (0 = no slow-down), lag.offset_s, cluster.sim_grpc_timeout_ms "
            "(simulated cluster only). See docs/hunt.md."
        ),
        epilog=HUNT_EXIT_HELP,
    )
    s = parser.add_argument_group("search")
    s.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=LO:HI[:linear|log][:int|float][:res=X]",
        help="a parameter to search (repeatable), e.g. hammer.rate=1:40:linear",
    )
    s.add_argument("--trials", type=int, default=5, metavar="N", help="per sweep point (5)")
    s.add_argument(
        "--boundary-trials", type=int, metavar="N", help="per point next to the boundary (2N)"
    )
    s.add_argument("--coarse-points", type=int, default=5, metavar="K", help="sweep points (5)")
    s.add_argument(
        "--resolution",
        type=float,
        metavar="X",
        help="stop bisecting at this width, in the parameter's units (default 1/16 of the range)",
    )
    s.add_argument(
        "--budget-trials",
        type=int,
        metavar="N",
        help="most trials in all, discarded included (100)",
    )
    s.add_argument(
        "--time-limit", type=float, metavar="S", help="no trial starts that would end later (3600)"
    )
    s.add_argument("--seed", type=int, help="seed of the hunt; trial seeds derive from it")
    s.add_argument(
        "--threshold", type=float, default=0.8, help="shrink while p >= this (default 0.8)"
    )
    s.add_argument("--shrink-trials", type=int, metavar="N", help="per shrink step (N)")
    s.add_argument("--no-shrink", action="store_true", help="do not shrink")
    s.add_argument("--resume", type=Path, metavar="DIR", help="continue the hunt in DIR")
    c = parser.add_argument_group("scenario and cluster")
    c.add_argument("--scenario", type=Path, help="TOML base scenario (see docs/scenario.md)")
    c.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a base scenario key (repeatable), e.g. --set lag.duration_s=5",
    )
    c.add_argument("--nodes", help="comma-separated node URLs of a running cluster")
    c.add_argument("--logs", help="comma-separated log files of those nodes, in node order")
    c.add_argument(
        "--recover",
        type=float,
        default=RECOVER_S,
        metavar="S",
        help=f"real cluster: bound for it to come back clean after a trial ({RECOVER_S:g})",
    )
    o = parser.add_argument_group("output")
    o.add_argument("--name", help="hunt name (default: the scenario's run.name)")
    o.add_argument("--hunts-dir", type=Path, default=Path("hunts"), help="default ./hunts")
    o.add_argument("--trial-reports", action="store_true", help="render each trial's report")
    o.add_argument("--quiet", action="store_true", help="no live progress")
    parser.set_defaults(execute=execute)


def base_scenario(args: argparse.Namespace) -> Scenario:
    """Defaults, the scenario file, ``--nodes``/``--logs``, then every ``--set``."""
    base = scenario_from_file(args.scenario) if args.scenario else Scenario()
    overrides: dict[str, Any] = {key: getattr(args, d) for d, key in _SCENARIO_OPTIONS.items()}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or "." not in key:
            raise UsageError(f"--set takes KEY=VALUE with a dotted scenario key, got {item!r}")
        overrides[key.strip()] = value.strip()
    return validate(with_overrides(base, overrides))


def settings_from_args(args: argparse.Namespace, base: Scenario) -> Settings:
    """The search settings of a new hunt."""
    params = tuple(parse_param(spec) for spec in args.param)
    check_params(params, base)
    if not base.uses_sim and any(p.name.startswith("cluster.sim_") for p in params):
        raise UsageError(
            "--param cluster.sim_grpc_timeout_ms searches the simulated cluster only; a real "
            "cluster's grpc_timeout_ms is set when it starts (scripts/run_cluster.sh)"
        )
    names = dict.fromkeys([*(p.name for p in params), *SHRINK_ORDER])
    trials = args.trials
    return Settings(
        params=params,
        base={name: base_value(base, name) for name in names},
        seed=args.seed if args.seed is not None else random.SystemRandom().randrange(2**31),
        trials=trials,
        boundary_trials=args.boundary_trials or 2 * trials,
        coarse_points=args.coarse_points,
        resolution=args.resolution,
        budget_trials=args.budget_trials or 100,
        time_limit_s=args.time_limit or 3600.0,
        shrink=not args.no_shrink,
        threshold=args.threshold,
        shrink_trials=args.shrink_trials or trials,
    )


def _new_or_resumed(args: argparse.Namespace) -> Hunt:
    clock = SystemClock()
    if args.resume is not None:
        if args.param or args.scenario or args.set or args.nodes:
            raise UsageError("--resume continues a hunt as it was set up: give no --param/--set")
        hunt_dir, state, base = load_hunt(args.resume)
        settings = state.settings
        if args.budget_trials:
            settings = replace(settings, budget_trials=args.budget_trials)
        if args.time_limit:
            settings = replace(settings, time_limit_s=args.time_limit)
        state.settings = settings
        name = args.name or base.run.name
    else:
        base = base_scenario(args)
        settings = settings_from_args(args, base)
        name = args.name or base.run.name
        hunt_dir = create_hunt_dir(args.hunts_dir, name, clock.anchor.unix_ns)
        state = HuntState(settings)
    display = make_progress_display(quiet=args.quiet)
    hunt = Hunt(
        dir=hunt_dir,
        base=base,
        state=state,
        name=name,
        run_trial=run_trial_with(
            api_key=args.api_key, on_progress=display.update, report=args.trial_reports
        ),
        api_key=args.api_key,
        recover_s=args.recover,
        on_line=(lambda _line: None) if args.quiet else _print_err,
        clock=clock,
    )
    hunt.created.update(created_by_trials(hunt_dir, state.trials))
    return hunt


def _print_err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def _run_with_signals(hunt: Hunt) -> Finished | None:
    """Run the hunt; the first SIGINT/SIGTERM ends the current trial cleanly and stops, a
    second exits at once (as ``lagrace run``; :mod:`lagrace.cli.interrupt`)."""
    from lagrace.hunt.runner import run_hunt, write_state  # noqa: PLC0415  # keeps --help light

    def first() -> None:
        hunt.interrupted = True

    got = await interruptible(
        run_hunt(hunt),
        doing="ending this trial and saving the hunt",
        second_exit=EXIT_NOTHING,
        on_first=first,
    )
    if got is INTERRUPTED:
        write_state(hunt)
        return None
    return got


def format_summary(result: HuntResult, hunt: Hunt) -> str:
    """What the hunt found, for stdout."""
    lines = [f"hunt {hunt.dir.path.name}: {finished_line(result)}"]
    lines += [f"  window: {axis.statement}" for axis in result.axes]
    if result.minimal is not None:
        est = result.minimal_estimate
        shown = "" if est is None else f" (p = {est.format()})"
        lines.append(f"  minimal scenario: {hunt.dir.path / 'minimal.toml'}{shown}")
    lines.append(
        f"  trials: {len(hunt.state.trials)} ({result.counted} counted, "
        f"{result.inconclusive} inconclusive, {result.discarded} discarded)"
    )
    lines.append(f"hunt directory: {hunt.dir.path}")
    lines.append(f"report: {hunt.dir.path / 'index.html'}")
    return "\n".join(lines)


def execute(args: argparse.Namespace) -> int:
    """Run or resume the hunt; print what it found; exit with the documented code."""
    hunt = _new_or_resumed(args)
    try:
        finished = run_on_loop(_run_with_signals(hunt), args.loop)
    except HuntStopped as exc:
        write_outputs(hunt)
        print(f"lagrace: {exc}", file=sys.stderr)
        return EXIT_STOPPED
    result = write_outputs(hunt)
    print(format_summary(result, hunt))
    if finished is None:
        print(f"lagrace: interrupted; resume with --resume {hunt.dir.path}", file=sys.stderr)
        return EXIT_NOTHING
    return EXIT_FOUND if result.reproduced else EXIT_NOTHING
