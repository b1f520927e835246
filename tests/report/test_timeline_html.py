"""Tests for lagrace.report.timeline_html: the self-contained page and its stable hooks."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from lagrace.report.model import ReportModel
from lagrace.report.rundir import load_model
from lagrace.report.timeline_html import embed_json, format_report_html
from tests.report.fixtures import EVIL_WARN, EXISTING, NEW


class _Collect(HTMLParser):
    """Every start tag with its attributes, and the text of the JSON data script."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.data = ""
        self._in_data = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in_data = tag == "script" and ("id", "report-data") in attrs

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        self._in_data = False

    def handle_data(self, data: str) -> None:
        if self._in_data:
            self.data += data

    def having(self, cls: str, **attrs: str) -> list[dict[str, str]]:
        """Tags whose class list holds every word of ``cls`` and the given data attributes."""
        want = set(cls.split())
        return [
            a
            for _, a in self.tags
            if want <= set(a.get("class", "").split())
            and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]


def _page(model: ReportModel) -> tuple[str, _Collect]:
    html = format_report_html(model)
    parsed = _Collect()
    parsed.feed(html)
    return html, parsed


@pytest.fixture(scope="module")
def race(race_dir: Path) -> tuple[str, _Collect]:
    """The race run's page and its parsed tags."""
    return _page(load_model(race_dir))


def test_lanes_for_every_peer_and_worker(race: tuple[str, _Collect]) -> None:
    """One .lane per peer and per worker, keyed by data-lane; the target lane is flagged."""
    _, page = race
    lanes = [a["data-lane"] for a in page.having("lane")]
    assert lanes == [
        "peer-1", "peer-2", "peer-3",
        "worker-setup", "worker-lag-0", "worker-burst-0", "worker-hammer-0",
    ]  # fmt: skip
    assert [a["data-lane"] for a in page.having("lane", data_target="1")] == ["peer-2"]


def test_slow_down_window_shaded_on_the_stalled_peer(race: tuple[str, _Collect]) -> None:
    """The window is a .window rect on node 2 spanning 5.03 s to 10.03 s."""
    _, page = race
    (window,) = page.having("window")
    assert (window["data-node"], window["data-t0"], window["data-t1"]) == (
        "2",
        "5.030000",
        "10.030000",
    )
    assert window["data-source"] == "log"


def test_replica_bands_coloured_by_state(race: tuple[str, _Collect]) -> None:
    """Each observer shows replica 2002 of shard 1 Dead then Partial; created ones summarise."""
    _, page = race
    for node in ("1", "2", "3"):
        states = [
            b["data-state"]
            for b in page.having("band replica", data_node=node, data_collection=EXISTING)
            if b.get("data-shard") == "1" and b.get("data-replica") == "2002"
        ]
        assert states == ["Active", "Dead", "Partial", "Active"]
    dead = page.having("band", data_state="Dead")[0]
    assert dead["fill"] == "#d62728"
    assert page.having("band summary", data_collection=NEW[0], data_state="Initializing")
    absent = page.having("band absent", data_collection=NEW[0])
    assert [a["data-node"] for a in absent] == ["2"]


def test_markers_for_warns_creates_and_probes(race: tuple[str, _Collect]) -> None:
    """WARN markers carry the line; creates have sent/ack/visible marks; probe errors show."""
    _, page = race
    warns = page.having("marker warn")
    assert len(warns) == 4
    assert any(EVIL_WARN in w["data-tip"] for w in warns)
    sent = page.having("marker create sent", data_collection=NEW[0])
    ack = page.having("marker create ack ok", data_collection=NEW[0])
    visible = page.having("marker create visible", data_collection=NEW[0])
    assert len(sent) == len(ack) == 1
    assert len(visible) == 3
    assert len(page.having("marker probe")) == 2


def test_upserts_are_points_coloured_by_outcome(race: tuple[str, _Collect]) -> None:
    """Every upsert is a .point with its outcome and latency."""
    _, page = race
    points = page.having("point")
    assert len(points) == 140
    by_outcome = {o: len(page.having(f"point {o}")) for o in ("ok", "fail", "info")}
    assert by_outcome == {"ok": 132, "fail": 6, "info": 2}
    info = page.having("point info")[0]
    assert info["data-latency-ms"] == "2000.000"


def test_verdict_and_findings_at_the_top(race: tuple[str, _Collect]) -> None:
    """The verdict badge, reasons, signature counts and disruptions precede the timeline."""
    html, page = race
    assert page.having("verdict", data_verdict="reproduced")
    assert html.index('id="verdict"') < html.index('id="disruptions"') < html.index('id="timeline"')
    signatures = html[
        html.index('id="signatures"') : html.index("</table>", html.index('id="signatures"'))
    ]
    assert re.search(r"dead_expected_active</td><td><span class=\"num\">2<", signatures)
    assert re.search(r"last_active_replica</td><td><span class=\"num\">1<", signatures)
    assert html.count("Dead → Partial → Active") == 3


def test_run_strings_are_escaped(race: tuple[str, _Collect]) -> None:
    """Log text with markup never reaches the page raw (neither in attributes nor the JSON)."""
    html, page = race
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot;" in html
    assert html.count("<script") == 2  # the JSON data and the page script, nothing else
    data = json.loads(page.data)
    assert any(m["message"] == EVIL_WARN for m in data["logs"])


def test_page_is_self_contained(race: tuple[str, _Collect]) -> None:
    """No external scripts, styles, fonts or images: nothing to fetch."""
    html, page = race
    for tag, attrs in page.tags:
        assert "src" not in attrs, tag
        assert not attrs.get("href", "").startswith(("http", "//")), tag
    assert "@import" not in html
    assert "url(http" not in html


def test_embedded_json_cannot_close_the_script() -> None:
    """</script>, <!-- and big integers are made safe inside the data script."""
    text = embed_json({"m": "</script><!-- & \u2028", "peer": 2**63 + 5, "small": 7})
    assert "<" not in text
    assert ">" not in text
    assert "&" not in text
    assert json.loads(text) == {
        "m": "</script><!-- & \u2028",
        "peer": str(2**63 + 5),
        "small": 7,
    }


def test_clean_run_page(clean_dir: Path) -> None:
    """A clean run: not reproduced, a derived (dashed) window, no Dead band, no WARN marker."""
    _, page = _page(load_model(clean_dir))
    assert page.having("verdict", data_verdict="not_reproduced")
    assert [w["data-source"] for w in page.having("window derived")] == ["derived"]
    assert not page.having("band", data_state="Dead")
    assert not page.having("marker warn")


def test_partial_run_page_says_what_is_missing(partial_dir: Path) -> None:
    """Without findings the page has no verdict, explains why, and still draws the lanes."""
    html, page = _page(load_model(partial_dir))
    assert page.having("verdict", data_verdict="none")
    assert "no findings.json" in html
    assert "torn line" in html
    assert len(page.having("lane")) == 7
    assert page.having("band")
