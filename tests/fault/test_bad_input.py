"""Bad input: one clear line on stderr, exit 3, and nothing sent that could change the cluster.

Every case runs ``lagrace run`` in process against in-process fake Qdrant nodes that record
every request (``tests.api.qdrant_app``). Afterwards no node may have seen a mutating request
(PUT/POST/DELETE/PATCH), no run directory may exist, and checks that need no cluster (values,
scenario files, the runs directory) must not have sent anything at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from lagrace.cli import main
from tests.api.qdrant_app import NodeState, dead_port, serve_in_thread, three_nodes
from tests.fault.conftest import Figures

pytestmark = [pytest.mark.fault, pytest.mark.timeout(30)]

MUTATING = frozenset({"PUT", "POST", "DELETE", "PATCH"})


@dataclass(frozen=True)
class Case:
    """One bad input: how to break the fake cluster, the extra arguments, what stderr says."""

    name: str
    expect: str
    args: Callable[[Path, list[str]], list[str]] = lambda _tmp, _urls: []
    breaks: Callable[[list[NodeState]], None] = lambda _states: None
    urls: Callable[[list[str]], list[str]] = lambda urls: urls
    may_read: bool = True  # False: refused before any request at all
    before: tuple[str, ...] = ()  # global options (before `run`)


def _no_cluster_mode(states: list[NodeState]) -> None:
    for s in states:
        s.cluster_enabled = False


def _no_staging(states: list[NodeState]) -> None:
    for s in states:
        s.staging = False


def _not_qdrant(states: list[NodeState]) -> None:
    states[1].faults["/"] = "not_qdrant"


def _needs_key(states: list[NodeState]) -> None:
    for s in states:
        s.api_key = "the-right-key"


def _bad_toml(tmp: Path, _urls: list[str]) -> list[str]:
    path = tmp / "bad.toml"
    path.write_text("[lag]\nduration_s = \n")
    return ["--scenario", str(path)]


def _unknown_key(tmp: Path, _urls: list[str]) -> list[str]:
    path = tmp / "typo.toml"
    path.write_text("[lag]\nduraton_s = 5\n")
    return ["--scenario", str(path)]


def _wrong_type(tmp: Path, _urls: list[str]) -> list[str]:
    path = tmp / "type.toml"
    path.write_text('[hammer]\nworkers = "many"\n')
    return ["--scenario", str(path)]


def _runs_under_a_file(tmp: Path, _urls: list[str]) -> list[str]:
    blocker = tmp / "not-a-dir"
    blocker.write_text("a file where the runs directory should go\n")
    return ["--runs-dir", str(blocker / "runs")]


CASES = [
    Case(
        "unreachable URL",
        "does not answer",
        urls=lambda urls: [urls[0], urls[1], f"http://127.0.0.1:{dead_port()}"],
    ),
    Case("malformed URL", "malformed node URL", urls=lambda u: [u[0], "ftp://x", u[2]]),
    Case("not Qdrant", "not Qdrant", breaks=_not_qdrant),
    Case("no cluster mode", "without cluster mode", breaks=_no_cluster_mode),
    Case("no staging feature", "`staging` cargo feature", breaks=_no_staging),
    Case("missing a node URL", "no --nodes URL reaches", urls=lambda u: u[:2]),
    Case("same node twice", "are the same peer", urls=lambda u: [u[0], u[0], u[1], u[2]]),
    Case("wrong API key", "API key", breaks=_needs_key, before=("--api-key", "wrong-key")),
    Case("missing API key", "API key", breaks=_needs_key),
    Case("target not in cluster", "is not in the cluster", args=lambda _t, _u: ["--target", "99"]),
    Case("target not a node", "neither a node number", args=lambda _t, _u: ["--target", "x"]),
    Case("via not in cluster", "is not in the cluster", args=lambda _t, _u: ["--lag-via", "42"]),
    Case(
        "slow-down 301 s",
        "lag.duration_s must be within 0..300",
        args=lambda _t, _u: ["--slow-down", "301"],
        may_read=False,
    ),
    Case(
        "slow-down -1 s",
        "lag.duration_s must be within 0..300",
        args=lambda _t, _u: ["--slow-down=-1"],
        may_read=False,
    ),
    Case("invalid TOML", "invalid TOML", args=_bad_toml, may_read=False),
    Case("unknown scenario key", "unknown scenario key", args=_unknown_key, may_read=False),
    Case("wrong value type", "must be an integer", args=_wrong_type, may_read=False),
    Case("unwritable runs dir", "cannot create runs directory", args=_runs_under_a_file,
         may_read=False),
]  # fmt: skip


_serve = serve_in_thread


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_refused_before_touching_the_cluster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], figures: Figures, case: Case
) -> None:
    """One line, exit 3, no mutating request, no run directory."""
    states = three_nodes()
    case.breaks(states)
    runs = tmp_path / "runs"
    with _serve(states) as served:
        urls = case.urls(served)
        argv = [
            *case.before, "run", "--quiet", "--no-report", "--runs-dir", str(runs),
            "--nodes", ",".join(urls), *case.args(tmp_path, served),
        ]  # fmt: skip
        code = main(argv)
    err = capsys.readouterr().err
    requests = [r for s in states for r in s.requests]
    mutating = [r for r in requests if r[0] in MUTATING]
    refused = (
        code == 3
        and len(err.strip().splitlines()) == 1
        and not mutating
        and (case.may_read or not requests)
    )
    figures.bad_inputs_tried += 1
    figures.bad_inputs_refused += int(refused)
    assert code == 3, err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("lagrace: error: ")
    assert case.expect in err
    assert not mutating, mutating
    if not case.may_read:
        assert not requests, requests
    assert not list(runs.glob("*/*")), "a run directory was created"
    assert "wrong-key" not in err
