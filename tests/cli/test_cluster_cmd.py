"""``lagrace cluster`` in process against three fake nodes served from a background thread."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lagrace.cli import main
from tests.api.qdrant_app import PEER_IDS, NodeState, dead_port, serve_in_thread, three_nodes

DEAD = dead_port()


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[list[NodeState], list[str]]]:
    """Three fake nodes on loopback, served by their own loop in a thread."""
    states = three_nodes()
    with serve_in_thread(states) as urls:
        yield states, urls


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_prints_the_table(
    cluster: tuple[list[NodeState], list[str]], capsys: pytest.CaptureFixture[str], loop: str
) -> None:
    """The table lists every node with its peer id and marks the leader; exit 0."""
    _, urls = cluster
    code = main(["--loop", loop, "cluster", "--nodes", ",".join(urls)])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("node  url")
    for index, (url, peer) in enumerate(zip(urls, PEER_IDS, strict=True), start=1):
        row = lines[index].split()
        assert row[:3] == [str(index), url, str(peer)]
    assert lines[1].split()[3:5] == ["Leader", "*"]
    assert lines[-1] == f"leader: peer {PEER_IDS[0]} (node 1)"


def test_json_output(
    cluster: tuple[list[NodeState], list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    """--json prints one JSON object with every node."""
    _, urls = cluster
    code = main(["cluster", "--nodes", urls[0], "--nodes", ",".join(urls[1:]), "--json"])
    out, _ = capsys.readouterr()
    assert code == 0
    obj = json.loads(out)
    assert [n["peer_id"] for n in obj["nodes"]] == list(PEER_IDS)
    assert obj["leader_node"] == 1


def test_api_key_is_sent(
    cluster: tuple[list[NodeState], list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    """--api-key reaches the nodes as the api-key header and is not printed."""
    states, urls = cluster
    for state in states:
        state.api_key = "cli-secret"
    try:
        assert main(["cluster", "--nodes", ",".join(urls)]) == 3
        assert "with --api-key" in capsys.readouterr().err
        assert main(["--api-key", "cli-secret", "cluster", "--nodes", ",".join(urls)]) == 0
        out, err = capsys.readouterr()
        assert "cli-secret" not in out + err
    finally:
        for state in states:
            state.api_key = None


@pytest.mark.parametrize(
    ("nodes", "needle"),
    [
        ("localhost:6333", "malformed node URL 'localhost:6333'"),
        (f"http://127.0.0.1:{DEAD}", f"node 1 (http://127.0.0.1:{DEAD}) does not answer"),
        ("http://a:1,http://a:1", "node URL given twice"),
    ],
    ids=["malformed", "dead-port", "twice"],  # the dead port differs between processes
)
def test_bad_urls_give_one_line_and_exit_3(
    capsys: pytest.CaptureFixture[str], nodes: str, needle: str
) -> None:
    """Bad or dead URLs print one clear line on stderr and exit 3."""
    code = main(["cluster", "--nodes", nodes])
    out, err = capsys.readouterr()
    assert (code, out) == (3, "")
    assert err.count("\n") == 1
    assert err.startswith("lagrace: error: ")
    assert needle in err


def _http(method: str, url: str, body: dict[str, object] | None = None) -> object:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _poll_cluster_until(
    urls: list[str],
    capsys: pytest.CaptureFixture[str],
    done: Callable[[dict[int, dict[str, Any]]], bool],
    within_s: float = 4.0,
) -> dict[int, dict[str, Any]]:
    """`lagrace cluster --json` every 100 ms until ``done(nodes by index)`` (a poll of a remote
    cluster: there is no event to wait on); the last view if it never holds within ``within_s``."""
    deadline = time.monotonic() + within_s
    while True:
        assert main(["cluster", "--nodes", ",".join(urls), "--json"]) == 0
        view = json.loads(capsys.readouterr().out)
        by_node: dict[int, dict[str, Any]] = {n["node"]: n for n in view["nodes"]}
        if done(by_node) or time.monotonic() > deadline:
            return by_node
        time.sleep(0.1)


@pytest.mark.sim
@pytest.mark.timeout(60)
def test_cluster_table_shows_a_lagging_peer_of_the_simulated_cluster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """During a slow-down, `lagrace cluster` shows node 2's frozen commit and stale last_update."""
    command = [sys.executable, "-m", "lagrace", "sim", "--nodes", "3", "--json", "--seed", "3"]
    with subprocess.Popen(
        [*command, "--log-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            ready = json.loads(proc.stdout.readline())
            urls = [n["url"] for n in ready["nodes"]]
            lagging = ready["nodes"][1]["peer_id"]
            body = {"vectors": {"size": 4, "distance": "Cosine"}, "shard_number": 1}
            _http("PUT", f"{urls[0]}/collections/c0", body)
            _http(
                "POST",
                f"{urls[0]}/collections/c0/cluster",
                {"test_slow_down": {"peer_id": lagging, "duration": 6}},
            )
            # entries committed by the healthy majority while node 2 sleeps
            _http("PUT", f"{urls[0]}/collections/c1?timeout=1", body)
            by_node = _poll_cluster_until(
                urls, capsys, lambda nodes: nodes[2]["last_update_age_ms"] > 1000
            )
            assert by_node[2]["commit"] < by_node[1]["commit"]
            assert by_node[2]["last_update_age_ms"] > 1000
            assert by_node[1]["last_update_age_ms"] < 1000
            assert main(["cluster", "--nodes", ",".join(urls)]) == 0
            table = capsys.readouterr().out
            assert str(lagging) in table
        finally:
            proc.terminate()
            proc.wait(timeout=10)
