"""The findings of a run: what the detectors found and the verdict, as frozen data.

``findings.json`` in the run directory is :func:`findings_to_json` of this; the report and the
terminal timeline read it back with :func:`findings_from_json`. All instants are run-clock
nanoseconds (``*_ns``), the one axis of :mod:`lagrace.clock`.

Verdicts merge as in Jepsen: ``reproduced`` (anomaly) > ``inconclusive`` (unknown) >
``not_reproduced``; ``error`` means the run itself failed.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

from lagrace.exitcodes import ExitCode


class Verdict(enum.StrEnum):
    """The verdict of a run; its exit code is :meth:`exit_code`."""

    REPRODUCED = "reproduced"
    NOT_REPRODUCED = "not_reproduced"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"

    @property
    def exit_code(self) -> ExitCode:
        """0 not reproduced, 1 reproduced, 2 inconclusive, 3 error."""
        return {
            Verdict.NOT_REPRODUCED: ExitCode.OK,
            Verdict.REPRODUCED: ExitCode.ANOMALY,
            Verdict.INCONCLUSIVE: ExitCode.INCONCLUSIVE,
            Verdict.ERROR: ExitCode.ERROR,
        }[self]

    @property
    def label(self) -> str:
        """Human text: ``reproduced``, ``not reproduced``, ..."""
        return self.value.replace("_", " ")


@dataclass(frozen=True, slots=True)
class SignatureHit:
    """A log line matching a signature (the two WARNs of the notes, or a user regex)."""

    signature: str  # "dead_expected_active" | "last_active_replica" | "custom:<name>"
    node: int | None
    peer_id: int | None
    at_ns: int  # server timestamp placed on the run axis
    message: str
    replica_peer: int | None = None
    shard: int | None = None
    collection: str | None = None  # from the preceding "Set shard replica state" line
    explained_by: int | None = None  # node whose outage explains it (analysis/outages.py)


@dataclass(frozen=True, slots=True)
class Disruption:
    """A replica of a pre-existing collection seen leaving Active by one observer node."""

    collection: str
    shard: int
    replica_peer: int
    observer_node: int | None
    observer_peer: int | None
    state: str  # the first non-Active state seen
    states: tuple[str, ...]  # every state it went through before returning to Active
    first_ns: int
    back_active_ns: int | None  # None: still not Active at the end of the run
    explained_by: int | None = None  # node whose outage explains it (analysis/outages.py)

    @property
    def duration_ns(self) -> int | None:
        """How long it stayed non-Active (None when it never came back)."""
        return None if self.back_active_ns is None else self.back_active_ns - self.first_ns


@dataclass(frozen=True, slots=True)
class Outage:
    """A stretch in which one node refused connections (analysis/outages.py)."""

    node: int
    peer_id: int | None
    since_ns: int  # its last answer before the first refusal (else that refusal)
    first_refused_ns: int
    last_refused_ns: int
    refused: int  # calls refused
    until_ns: int | None = None  # its first answer after; None: never answered again


@dataclass(frozen=True, slots=True)
class WriteFailure:
    """A failed or unknown-outcome write to the existing collection."""

    op_id: int
    worker: str
    node: int | None
    invoked_ns: int
    completed_ns: int | None
    outcome: str  # "fail" | "info"
    status: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class WriteSummary:
    """Counts of writes to the existing collection by outcome, and the non-ok ones."""

    total: int
    ok: int
    fail: int
    info: int
    failures: tuple[WriteFailure, ...] = ()


@dataclass(frozen=True, slots=True)
class PeerLag:
    """Evidence that the lag took hold on one peer."""

    node: int | None
    peer_id: int | None
    max_commit_gap: int  # leader commit minus this peer's commit, largest seen
    max_last_update_age_ms: float  # largest age of consensus_thread_status.last_update seen
    max_send_failures: int  # largest message_send_failures count towards this peer (leader view)
    slept_from_ns: int | None = None  # "TestSlowDown: sleeping" log line, run axis
    slept_until_ns: int | None = None  # "TestSlowDown: finished sleeping" log line
    stalled: bool = False  # the detector's judgement that this peer lagged


@dataclass(frozen=True, slots=True)
class ApplyStall:
    """A peer whose consensus apply stayed inside one entry (not a slow-down's sleep)."""

    node: int | None
    peer_id: int | None
    entry: int | None  # the entry index (None when seen from /cluster only)
    operation: str  # "Creating collection ..." when the logs say, else "" / "commit N"
    from_ns: int
    until_ns: int | None  # None: still stalled when the run ended
    source: str  # "log" (apply lines) or "cluster" (commit frozen while the leader's advanced)


@dataclass(frozen=True, slots=True)
class RequestFreeze:
    """A peer whose calls needing its table of contents hung while ``GET /cluster`` answered."""

    node: int
    peer_id: int | None
    from_ns: int
    until_ns: int | None  # None: still hanging at the end of the run
    hung_calls: int
    cluster_answers: int  # GET /cluster answers from it meanwhile


@dataclass(frozen=True, slots=True)
class CoordinatorFailure:
    """A coordinator's failure line of the pile-up (update, forward, deactivation, notify)."""

    node: int | None
    peer_id: int | None
    at_ns: int
    kind: str  # "update_failed" | "forward_failed" | "deactivating" | "notify"
    about_peer: int | None
    collection: str | None = None
    shard: int | None = None
    timed_out: bool = False


@dataclass(frozen=True, slots=True)
class Panic:
    """A peer panicked (analysis/panics.py): its ``Panic occurred in file … at line …`` log
    line, its ``task N panicked`` request-error line, or a 500 ``task N panicked`` answer."""

    node: int | None
    peer_id: int | None
    at_ns: int
    source: str  # "log" (the panic line) | "request_log" | "answer" (a call lagrace made)
    message: str
    location: str | None = None  # "lib/collection/src/shards/shard_holder/mod.rs:423"
    task: int | None = None  # the tokio task id of a "task N panicked" text
    op_id: int | None = None  # the operation answered (source "answer")


@dataclass(frozen=True, slots=True)
class ServerErrorWrites:
    """Writes to the existing collection one node answered with HTTP 500
    (analysis/server_errors.py)."""

    node: int | None
    peer_id: int | None
    count: int
    first_ns: int
    last_ns: int
    panicked: int  # how many of them said "task N panicked"
    first_error: str | None = None


@dataclass(frozen=True, slots=True)
class Unresponsive:
    """A stretch in which one node answered no call at all, for at least a threshold: calls
    timed out, hung or were cut off (not refused: that is an :class:`Outage`)
    (analysis/unresponsive.py)."""

    node: int
    peer_id: int | None
    from_ns: int  # the first call of the stretch that got no answer was sent
    until_ns: int | None  # its first answer after; None: never answered again in the run
    unanswered: int  # calls sent to it in the stretch that got no answer


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of the lined-up timeline."""

    at_ns: int
    node: int | None
    peer_id: int | None
    kind: str  # "slow_down", "create", "state", "warn", "disruption", "write_fail", "phase", ...
    text: str
    index: int | None = None  # the history index of the event it comes from (ties sort by it)


@dataclass(frozen=True, slots=True)
class Findings:
    """Everything the detectors concluded about one run."""

    verdict: Verdict
    reasons: tuple[str, ...]
    signatures: tuple[SignatureHit, ...] = ()
    disruptions: tuple[Disruption, ...] = ()
    writes: WriteSummary = field(default_factory=lambda: WriteSummary(0, 0, 0, 0))
    lag: tuple[PeerLag, ...] = ()
    lag_took_hold: bool = False
    converged: bool = False
    timeline: tuple[TimelineEntry, ...] = ()
    first_disruption_ns: int | None = None
    outages: tuple[Outage, ...] = ()
    stalls: tuple[ApplyStall, ...] = ()
    freezes: tuple[RequestFreeze, ...] = ()
    coordinator_failures: tuple[CoordinatorFailure, ...] = ()
    chain: tuple[str, ...] = ()  # the causal chain, in order, with times
    mechanism: str | None = None  # named only when its evidence is there
    frozen_at_end: tuple[str, ...] = ()
    cluster: str | None = None  # what was raced: version, build, race mechanism (or the model)
    panics: tuple[Panic, ...] = ()
    server_errors: tuple[ServerErrorWrites, ...] = ()
    unresponsive: tuple[Unresponsive, ...] = ()


def findings_to_json(findings: Findings) -> dict[str, Any]:
    """The ``findings.json`` object (adds ``exit_code`` for scripts)."""
    out = asdict(findings)
    out["verdict"] = findings.verdict.value
    out["exit_code"] = int(findings.verdict.exit_code)
    return out


def findings_from_json(obj: dict[str, Any]) -> Findings:
    """Rebuild :class:`Findings` from ``findings.json``."""
    writes = obj.get("writes") or {}
    return Findings(
        verdict=Verdict(obj["verdict"]),
        reasons=tuple(obj.get("reasons", ())),
        signatures=tuple(SignatureHit(**s) for s in obj.get("signatures", ())),
        disruptions=tuple(
            Disruption(**{**d, "states": tuple(d.get("states", ()))})
            for d in obj.get("disruptions", ())
        ),
        writes=WriteSummary(
            total=writes.get("total", 0),
            ok=writes.get("ok", 0),
            fail=writes.get("fail", 0),
            info=writes.get("info", 0),
            failures=tuple(WriteFailure(**f) for f in writes.get("failures", ())),
        ),
        lag=tuple(PeerLag(**p) for p in obj.get("lag", ())),
        lag_took_hold=bool(obj.get("lag_took_hold", False)),
        converged=bool(obj.get("converged", False)),
        timeline=tuple(TimelineEntry(**t) for t in obj.get("timeline", ())),
        first_disruption_ns=obj.get("first_disruption_ns"),
        outages=tuple(Outage(**o) for o in obj.get("outages", ())),
        stalls=tuple(ApplyStall(**x) for x in obj.get("stalls", ())),
        freezes=tuple(RequestFreeze(**x) for x in obj.get("freezes", ())),
        coordinator_failures=tuple(
            CoordinatorFailure(**x) for x in obj.get("coordinator_failures", ())
        ),
        chain=tuple(obj.get("chain", ())),
        mechanism=obj.get("mechanism"),
        frozen_at_end=tuple(obj.get("frozen_at_end", ())),
        cluster=obj.get("cluster"),
        panics=tuple(Panic(**x) for x in obj.get("panics", ())),
        server_errors=tuple(ServerErrorWrites(**x) for x in obj.get("server_errors", ())),
        unresponsive=tuple(Unresponsive(**x) for x in obj.get("unresponsive", ())),
    )
