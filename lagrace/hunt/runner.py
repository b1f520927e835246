"""The hunt's shell: runs what :func:`~lagrace.hunt.search.plan_next` asks, one ``lagrace run``
per trial, and writes the hunt directory.

Each trial is :func:`lagrace.race.orchestrate.run_scenario` (the function behind ``lagrace run``) on
the base scenario with the trial's overrides, its seed, and its run directory inside the hunt's
(``trials/trial-NNN/<UTC time>-<run id>/``). On the simulated cluster every trial starts a fresh
model; on a real cluster the cluster must be clean before each trial (:mod:`lagrace.hunt.clean`):
a trial that would start unclean is recorded as discarded (never counted), and a trial after
which the cluster does not come back clean within ``recover_s`` stops the hunt
(:class:`HuntStopped`, naming that trial's directory).

Hunt directory (``hunts/<name>/<UTC time>-<hunt id>/``): ``hunt.json`` (the state: settings,
trials, elapsed time; rewritten after every trial, so an interrupted hunt resumes),
``table.md``, ``plots/<param>.png``, ``minimal.toml``, ``index.html``, ``checks.jsonl`` (the
history of the cleanliness probes against a real cluster), ``trials/``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from lagrace.analysis.findings import Verdict
from lagrace.api.client import HttpNodeClient
from lagrace.clock import Clock, SystemClock
from lagrace.errors import LagraceError, RunDirError, UsageError
from lagrace.hunt.clean import CleanApi, Cleanliness, delete_leftovers, wait_clean
from lagrace.hunt.model import (
    Finished,
    HuntState,
    Request,
    Trial,
    TrialOutcome,
    observed,
    state_from_json,
    state_to_json,
)
from lagrace.hunt.render import (
    format_index_html,
    format_table_markdown,
    scenario_for,
    scenario_toml,
)
from lagrace.hunt.search import TimeLeft, plan_next, time_left
from lagrace.hunt.window import HuntResult, summarise
from lagrace.race.context import ProgressSink
from lagrace.race.orchestrate import run_scenario
from lagrace.race.settle import EndReason
from lagrace.recorder import JsonlSink, Recorder
from lagrace.scenario import Scenario, scenario_to_json, validate, with_overrides
from lagrace.store import create_stamped_dir, write_text_atomic

PRE_CLEAN_S: Final = 30.0  # how long a trial waits for a clean cluster before it is discarded
RECOVER_S: Final = 180.0  # default bound for the cluster to come back clean after a trial
MAX_DISCARDS_IN_A_ROW: Final = 3


class HuntStopped(LagraceError):
    """A real cluster did not come back clean after a trial: the hunt cannot go on."""


@dataclass(frozen=True, slots=True)
class HuntDir:
    """The paths of one hunt directory."""

    path: Path

    @property
    def state(self) -> Path:
        """``hunt.json``."""
        return self.path / "hunt.json"

    @property
    def trials(self) -> Path:
        """``trials/`` (the runs directory of every trial)."""
        return self.path / "trials"

    @property
    def plots(self) -> Path:
        """``plots/``."""
        return self.path / "plots"

    def write_text(self, name: str, text: str) -> Path:
        """Write a file of the hunt atomically."""
        return write_text_atomic(self.path / name, text)


def create_hunt_dir(hunts_dir: Path, name: str, unix_ns: int) -> HuntDir:
    """Make ``hunts_dir/<name>/<stamp>-<hunt id>/`` with ``trials/`` and ``plots/``."""
    return HuntDir(
        create_stamped_dir(hunts_dir, name, unix_ns, what="hunt", subdirs=("trials", "plots"))
    )


def scenario_from_json(obj: Mapping[str, Any]) -> Scenario:
    """A scenario back from :func:`lagrace.scenario.scenario_to_json` (as in ``hunt.json``)."""
    overrides: dict[str, Any] = {}
    for section, table in obj.items():
        if section == "signatures":
            overrides.update({f"signatures.{k}": v for k, v in table.items()})
            continue
        overrides.update({f"{section}.{k}": v for k, v in table.items()})
    return validate(with_overrides(Scenario(), overrides))


def load_hunt(path: Path) -> tuple[HuntDir, HuntState, Scenario]:
    """An existing hunt directory, to resume: its state and base scenario."""
    hunt = HuntDir(path)
    try:
        obj = json.loads(hunt.state.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path} is not a hunt directory (no hunt.json)") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {hunt.state}: {exc}") from exc
    state = state_from_json(obj)
    if "scenario" not in obj:
        raise UsageError(f"{hunt.state} has no base scenario")
    return hunt, state, scenario_from_json(obj["scenario"])


def trial_scenario(base: Scenario, request: Request, hunt: HuntDir) -> Scenario:
    """The scenario of one trial: the base with the trial's configuration and seed, its run
    directory under ``trials/``."""
    scenario = scenario_for(base, request.config)
    return validate(
        with_overrides(
            scenario,
            {
                "run.seed": request.seed,
                "run.runs_dir": str(hunt.trials),
                "run.name": f"trial-{request.index:03d}",
            },
        )
    )


@dataclass(frozen=True, slots=True)
class TrialResult:
    """What a trial's run said, and the collections it was to create (for cleanup checks)."""

    outcome: TrialOutcome
    run_dir: Path | None
    detail: str | None
    created: tuple[str, ...] = ()


TrialRunner = Callable[[Scenario], Awaitable[TrialResult]]

_VERDICTS: Final = {
    Verdict.REPRODUCED: TrialOutcome.REPRODUCED,
    Verdict.NOT_REPRODUCED: TrialOutcome.NOT_REPRODUCED,
}


def run_trial_with(
    *, api_key: str | None, on_progress: ProgressSink | None, report: bool
) -> TrialRunner:
    """The trial runner that calls ``run_scenario`` (what ``lagrace run`` does)."""

    async def run(scenario: Scenario) -> TrialResult:
        outcome = await run_scenario(
            scenario, api_key=api_key, on_progress=on_progress, report=report
        )
        verdict = outcome.findings.verdict
        config: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            config = json.loads(outcome.run_dir.config.read_text(encoding="utf-8"))
        created = tuple(
            n
            for n in [config.get("existing_collection"), *config.get("new_collections", [])]
            if isinstance(n, str)
        )
        if outcome.result.reason is EndReason.INTERRUPTED:
            return TrialResult(TrialOutcome.INCONCLUSIVE, outcome.run_dir.path, "interrupted")
        detail = outcome.findings.reasons[0] if outcome.findings.reasons else None
        return TrialResult(
            _VERDICTS.get(verdict, TrialOutcome.INCONCLUSIVE),
            outcome.run_dir.path,
            f"{verdict.value}: {detail}" if detail else verdict.value,
            created,
        )

    return run


@dataclass(slots=True)
class Hunt:
    """A hunt being run: where, from what scenario, and its state."""

    dir: HuntDir
    base: Scenario
    state: HuntState
    name: str
    run_trial: TrialRunner
    api_key: str | None = None
    recover_s: float = RECOVER_S
    pre_clean_s: float = PRE_CLEAN_S
    on_line: Callable[[str], None] = lambda _line: None
    clock: Clock = field(default_factory=SystemClock)
    created: set[str] = field(default_factory=set)  # every collection a trial was to create
    interrupted: bool = False


def format_start_line(hunt: Hunt, request: Request, left: TimeLeft) -> str:
    """``trial 7 (budget 100)  sweep hammer.rate=10.75  elapsed 6.2 min  left ~14 trials ~15.1
    min``."""
    s = hunt.state
    eta = "" if left.seconds is None else f" ~{left.seconds / 60:.1f} min"
    return (
        f"hunt: trial {request.index} (budget {s.settings.budget_trials})  {request.why}  "
        f"elapsed {s.elapsed_s / 60:.1f} min  left ~{left.trials} trials{eta}"
    )


def format_end_line(trial: Trial) -> str:
    """``hunt: trial 7 reproduced in 42.1 s (trials/trial-007/...)``."""
    where = f" ({trial.run_dir})" if trial.run_dir else ""
    detail = f": {trial.detail}" if trial.detail and not trial.outcome.counted else ""
    return (
        f"hunt: trial {trial.index} {trial.outcome.value} in {trial.duration_s:.1f} s"
        f"{where}{detail}"
    )


def _relative(hunt: HuntDir, path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return str(path.relative_to(hunt.path))
    except ValueError:
        return str(path)


def write_state(hunt: Hunt) -> None:
    """``hunt.json`` and ``table.md`` (after every trial)."""
    result = summarise(hunt.state)
    extra = {
        "name": hunt.name,
        "scenario": scenario_to_json(hunt.base),
        "window": [a.statement for a in result.axes],
        "minimal": None if result.minimal is None else dict(result.minimal),
    }
    hunt.dir.write_text("hunt.json", json.dumps(state_to_json(hunt.state, extra), indent=2) + "\n")
    hunt.dir.write_text("table.md", format_table_markdown(result, hunt.state.trials))


def write_outputs(hunt: Hunt) -> HuntResult:
    """Everything: ``hunt.json``, ``table.md``, the plots, ``minimal.toml``, ``index.html``."""
    from lagrace.hunt.plots import axis_figure  # noqa: PLC0415  # matplotlib loads only here

    write_state(hunt)
    result = summarise(hunt.state)
    plots: dict[str, str] = {}
    hunt.dir.plots.mkdir(exist_ok=True)
    for axis in result.axes:
        fig = axis_figure(
            axis, threshold=hunt.state.settings.threshold, title=f"{hunt.name}: {axis.statement}"
        )
        rel = f"plots/{axis.param.name}.png"
        try:
            fig.savefig(hunt.dir.path / rel)
        except OSError as exc:
            raise RunDirError(f"cannot write {hunt.dir.path / rel}: {exc.strerror}") from exc
        plots[axis.param.name] = rel
    toml = None
    if result.minimal is not None:
        minimal = with_overrides(
            scenario_for(hunt.base, result.minimal),
            {"run.name": f"{hunt.name}-minimal", "run.seed": result.minimal_seed},
        )
        est = result.minimal_estimate
        toml = scenario_toml(
            minimal,
            header=(
                f"The minimal configuration of hunt {hunt.dir.path.name} ({hunt.name}).",
                "" if est is None else f"Reproduced there with p = {est.format()}.",
                "Replay: lagrace run --scenario minimal.toml",
            ),
        )
        hunt.dir.write_text("minimal.toml", toml)
    page = format_index_html(
        result,
        hunt.state.trials,
        title=f"lagrace hunt {hunt.name} {hunt.dir.path.name}",
        plots=plots,
        minimal_toml=toml,
    )
    hunt.dir.write_text("index.html", page)
    return result


@contextlib.asynccontextmanager
async def _cluster_apis(hunt: Hunt) -> AsyncIterator[tuple[list[CleanApi], Recorder | None]]:
    """Clients of the real cluster for the cleanliness probes (none on the simulated one)."""
    if hunt.base.uses_sim:
        yield [], None
        return
    recorder = Recorder(hunt.clock, JsonlSink(hunt.dir.path / "checks.jsonl"))
    try:
        async with contextlib.AsyncExitStack() as stack:
            apis: list[CleanApi] = [
                await stack.enter_async_context(
                    HttpNodeClient(i + 1, url, recorder, api_key=hunt.api_key)
                )
                for i, url in enumerate(hunt.base.cluster.nodes)
            ]
            yield apis, recorder
    finally:
        recorder.close()


async def run_hunt(hunt: Hunt) -> Finished | None:
    """Run trials until the search is finished; ``None`` if interrupted (state saved)."""
    session_start_ns = hunt.clock.now_ns()
    elapsed_before = hunt.state.elapsed_s
    discards_in_a_row = 0

    def tick() -> None:
        hunt.state.elapsed_s = elapsed_before + (hunt.clock.now_ns() - session_start_ns) / 1e9

    async with _cluster_apis(hunt) as (apis, recorder):
        while not hunt.interrupted:
            tick()
            nxt = plan_next(hunt.state)
            if isinstance(nxt, Finished):
                hunt.state.finished = nxt
                write_state(hunt)
                return nxt
            hunt.on_line(format_start_line(hunt, nxt, time_left(hunt.state)))
            if recorder is not None:
                pre = await _wait_clean(hunt, apis, recorder, hunt.pre_clean_s)
                if not pre.clean:
                    tick()
                    trial = observed(nxt, TrialOutcome.DISCARDED, detail=f"unclean: {pre.why}")
                    hunt.state.trials.append(trial)
                    write_state(hunt)
                    hunt.on_line(format_end_line(trial))
                    discards_in_a_row += 1
                    if discards_in_a_row >= MAX_DISCARDS_IN_A_ROW:
                        raise HuntStopped(_unrecoverable(hunt, pre, before=True))
                    continue
            discards_in_a_row = 0
            started_ns = hunt.clock.now_ns()
            result = await hunt.run_trial(trial_scenario(hunt.base, nxt, hunt.dir))
            hunt.created.update(result.created)
            duration = (hunt.clock.now_ns() - started_ns) / 1e9
            if result.detail == "interrupted" or hunt.interrupted:
                hunt.interrupted = True  # not recorded: a resumed hunt runs this trial again
                break
            trial = observed(
                nxt,
                result.outcome,
                duration_s=round(duration, 3),
                run_dir=_relative(hunt.dir, result.run_dir),
                detail=result.detail,
            )
            hunt.state.trials.append(trial)
            tick()
            write_state(hunt)
            hunt.on_line(format_end_line(trial))
            if recorder is not None:
                await delete_leftovers(apis, sorted(result.created), hunt.created.__contains__)
                post = await _wait_clean(hunt, apis, recorder, hunt.recover_s)
                if not post.clean:
                    raise HuntStopped(_unrecoverable(hunt, post, before=False))
    tick()
    write_state(hunt)
    return None


async def _wait_clean(
    hunt: Hunt, apis: list[CleanApi], recorder: Recorder, bound_s: float
) -> Cleanliness:
    return await wait_clean(apis, recorder, hunt.created.__contains__, bound_s)


def _unrecoverable(hunt: Hunt, why: Cleanliness, *, before: bool) -> str:
    last = next((t for t in reversed(hunt.state.trials) if t.run_dir), None)
    where = "before the first trial" if last is None else f"after trial {last.index}"
    directory = "" if last is None else f": {hunt.dir.path / (last.run_dir or '')}"
    bound = hunt.pre_clean_s if before else hunt.recover_s
    return (
        f"the cluster did not come back clean {where} within {bound:g} s ({why.why}); "
        f"hunt stopped{directory}"
    )


def created_by_trials(hunt: HuntDir, trials: list[Trial]) -> set[str]:
    """The collections the recorded trials were to create (from their ``config.json``)."""
    names: set[str] = set()
    for t in trials:
        if not t.run_dir:
            continue
        try:
            config = json.loads((hunt.path / t.run_dir / "config.json").read_text("utf-8"))
        except (OSError, ValueError):
            continue
        for name in [config.get("existing_collection"), *config.get("new_collections", [])]:
            if isinstance(name, str):
                names.add(name)
    return names
