"""The Prometheus text parser and the cluster families of GET /metrics."""

from __future__ import annotations

import math

import pytest

from lagrace.api.metrics import cluster_metrics, parse_samples
from lagrace.errors import ProtocolError
from tests.api.qdrant_app import metrics_text, three_nodes


def test_samples_with_labels_escapes_and_timestamps() -> None:
    """Names, labels (with escapes), special values and timestamps parse."""
    text = (
        "# HELP x help text\n"
        "\n"
        'a{b="1",c="q\\"uote\\\\d\\n"} 2.5\n'
        "nan_metric NaN\n"
        "inf_metric +Inf 1700000000000\n"
        'trailing{x="y",} -3\n'
    )
    a, nan, inf, trailing = parse_samples(text)
    assert (a.name, a.value, a.label("b"), a.label("c")) == ("a", 2.5, "1", 'q"uote\\d\n')
    assert math.isnan(nan.value)
    assert inf.value == math.inf
    assert (trailing.labels, trailing.value) == ((("x", "y"),), -3.0)


@pytest.mark.parametrize(
    "line", ["cluster_term", "cluster_term abc", "x{y=1} 2", "9bad 1", 'x{y="1" z="2"} 3']
)
def test_malformed_lines_raise(line: str) -> None:
    """A malformed sample line raises ProtocolError with its line number."""
    with pytest.raises(ProtocolError, match="metrics line 1"):
        parse_samples(line)


def test_cluster_metrics_from_a_qdrant_exposition() -> None:
    """The cluster_* families plus collection gauges map onto ClusterMetrics."""
    state = three_nodes()[0]
    state.collections = {"a": {}, "b": {}}
    state.pending = 3
    m = cluster_metrics(metrics_text(state))
    assert (m.enabled, m.peers_total, m.term, m.commit, m.pending_operations) == (
        True,
        3,
        2,
        40,
        3,
    )
    assert (m.voter, m.working, m.collections_total, m.dead_replicas) == (True, True, 2, 0)
    assert m.last_update_unix_s == 1767225600.5
    state.thread_status = "stopped"
    assert cluster_metrics(metrics_text(state)).working is False


def test_prefix_and_missing_families() -> None:
    """A configured metrics prefix is honoured; absent families stay None."""
    m = cluster_metrics("qd_cluster_term 7\ncluster_term 1\n", prefix="qd_")
    assert m.term == 7
    assert m.commit is None
    assert m.working is None
