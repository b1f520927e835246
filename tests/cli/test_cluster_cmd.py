"""``lagrace cluster`` in process against three fake nodes served from a background thread."""

from __future__ import annotations

import json
from collections.abc import Iterator

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
