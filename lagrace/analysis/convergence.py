"""The one convergence judge: do the latest snapshots show a settled cluster, and if not, why?

Used live, by the race's watchers on their latest snapshots (:mod:`lagrace.race.watchers`, to
end the race phase and to gate setup), by the hunt's cleanliness check, and offline, by the
lag detector on the last observations before cleanup (:mod:`lagrace.analysis.lag`). The rules
are the same everywhere; the snapshots are the ``data`` of ``cluster`` and
``collection_cluster`` observations (docs/run-directory.md):

* every node has a ``/cluster`` snapshot, all show the same commit, none has pending operations
  and no consensus thread is stalled;
* every collection named is visible on every node with all its replicas ``Active``; a
  collection in ``may_be_absent`` (a create that may never have happened) may instead be
  invisible on every node.

Pure: literal mappings in, a :class:`Convergence` out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from lagrace.analysis.disruptions import ACTIVE, ReplicaRow, replica_rows

Node = TypeVar("Node", bound=int | None)  # a node's number (None: a history without one)


@dataclass(frozen=True, slots=True)
class Convergence:
    """Whether snapshots show a settled cluster; ``why_not`` says what is missing (one line)."""

    converged: bool
    why_not: str | None = None


CONVERGED = Convergence(True)


def _order(node: int | None) -> int:
    return node or 0


def _nodes(nodes: Iterable[int | None]) -> str:
    return str(sorted(_order(n) for n in nodes))


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def judge_convergence(
    clusters: Mapping[Node, Mapping[str, Any]],
    views: Mapping[tuple[Node, str], Mapping[str, Any]],
    nodes: Iterable[Node],
    names: Iterable[str],
    *,
    may_be_absent: Collection[str] = (),
) -> Convergence:
    """Judge the latest snapshots of ``nodes`` over the collections ``names`` (module doc)."""
    wanted = sorted(set(nodes), key=_order)
    if not wanted or not clusters:
        return Convergence(False, "no cluster observation to judge by")
    missing = [n for n in wanted if n not in clusters]
    if missing:
        return Convergence(False, f"no cluster observation of node {_nodes(missing)}")
    commits = {n: _int(clusters[n].get("commit")) for n in wanted}
    if len(set(commits.values())) != 1:
        shown = ", ".join(f"node {_order(n)}: {c}" for n, c in commits.items())
        return Convergence(False, f"last commits differ ({shown})")
    busy = [n for n in wanted if _int(clusters[n].get("pending_operations"))]
    if busy:
        return Convergence(False, f"pending operations on node {_nodes(busy)}")
    stalled = [n for n in wanted if clusters[n].get("stalled")]
    if stalled:
        return Convergence(False, f"the consensus thread of node {_nodes(stalled)} is stalled")
    for name in dict.fromkeys(names):
        rows = {n: _rows(views.get((n, name))) for n in wanted}
        if name in may_be_absent and all(r is None for r in rows.values()):
            continue  # a create that never happened: absent everywhere is settled too
        for node, node_rows in rows.items():
            if node_rows is None:
                return Convergence(False, f"node {_order(node)} does not show {name}")
            bad = [(s, p, st) for s, p, st in node_rows if st != ACTIVE]
            if bad:
                shard, peer, state = bad[0]
                return Convergence(
                    False,
                    f"node {_order(node)} last saw {name} shard {shard} replica {peer} {state}",
                )
    return CONVERGED


def _rows(view: Mapping[str, Any] | None) -> list[ReplicaRow] | None:
    return None if view is None else replica_rows(dict(view))
