"""The HTML report in headless Chromium: it runs without script errors and draws its hooks.

Marker ``browser``; skipped with a reason when ``/usr/bin/chromium`` (Debian package
``chromium``) is absent. Chromium is run once per page with ``--dump-dom`` (the DOM after the
page's script ran) and once with ``--screenshot`` (saved in the test's tmp dir).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from lagrace.report import render_report
from lagrace.report.timeline_html import LABEL_WIDTH, RIGHT_PAD
from tests.report.test_plots import png_size

CHROMIUM = os.environ.get("LAGRACE_CHROMIUM", "/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None,
        reason=f"needs headless Chromium at {CHROMIUM} (apt-get install chromium)",
    ),
]


def _chromium_args(profile: Path) -> list[str]:
    return [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1400,1300",
    ]


def _chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = [*_chromium_args(profile), *extra, page.as_uri()]
    return subprocess.run(args, capture_output=True, text=True, timeout=90, check=True)


class _Body(HTMLParser):
    """The <body> attributes and the classes / data-lane values of every element."""

    def __init__(self) -> None:
        super().__init__()
        self.body: dict[str, str] = {}
        self.elements: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "body":
            self.body = values
        self.elements.append(values)

    handle_startendtag = handle_starttag

    def count(self, cls: str) -> int:
        want = set(cls.split())
        return sum(want <= set(e.get("class", "").split()) for e in self.elements)


def _console_errors(stderr: str) -> list[str]:
    return [
        line
        for line in stderr.splitlines()
        if "CONSOLE" in line and re.search(r"Uncaught|Error|error", line)
    ]


def _dom(page: Path, tmp_path: Path) -> tuple[_Body, str]:
    result = _chromium(page, tmp_path / "profile-dom", "--dump-dom")
    parsed = _Body()
    parsed.feed(result.stdout)
    return parsed, result.stderr


def test_race_report_runs_cleanly_in_chromium(race_dir: Path, tmp_path: Path) -> None:
    """The script finishes (data-ready=1) with no errors; lanes, bands, markers are rendered."""
    files = render_report(race_dir, tmp_path / "report", png=False)
    dom, stderr = _dom(files.html, tmp_path)
    assert _console_errors(stderr) == []
    assert dom.body.get("data-ready") == "1", dom.body
    assert dom.body.get("data-errors") == "0"
    assert dom.body.get("data-lanes") == "7"
    lanes = [e["data-lane"] for e in dom.elements if "lane" in e.get("class", "").split()]
    assert lanes[:3] == ["peer-1", "peer-2", "peer-3"]
    static = _Body()
    static.feed(files.html.read_text(encoding="utf-8"))
    assert dom.count("band") == static.count("band") == 50
    assert dom.count("band replica") == static.count("band replica") > 0
    assert dom.count("marker warn") == 4
    assert dom.count("window") == 1
    assert dom.count("tick") > 5  # the axis is drawn by the script
    shot = tmp_path / "race.png"
    _chromium(files.html, tmp_path / "profile-shot", f"--screenshot={shot}")
    assert png_size(shot) == (1400, 1300)


def test_view_from_the_url_places_elements(race_dir: Path, tmp_path: Path) -> None:
    """Opened at #view=<window>, the slow-down window spans the plot area from edge to edge."""
    files = render_report(race_dir, tmp_path / "report", png=False)
    page = files.html.as_uri() + "#view=5.03,10.03"
    result = subprocess.run(
        [*_chromium_args(tmp_path / "profile-view"), "--dump-dom", page],
        capture_output=True, text=True, timeout=90, check=True,
    )  # fmt: skip
    dom = _Body()
    dom.feed(result.stdout)
    assert dom.body.get("data-errors") == "0"
    (window,) = [e for e in dom.elements if "window" in e.get("class", "").split()]
    left, width = float(window["x"]), float(window["width"])
    assert left == pytest.approx(LABEL_WIDTH, abs=0.5)
    (svg,) = [e for e in dom.elements if e.get("id") == "timeline"]
    svg_width = float(svg["viewbox"].split()[2])  # set by the script to the measured width
    assert 1000 < svg_width <= 1400
    assert left + width == pytest.approx(svg_width - RIGHT_PAD, abs=0.5)


def test_partial_report_runs_cleanly_in_chromium(partial_dir: Path, tmp_path: Path) -> None:
    """A report without findings still loads without script errors."""
    files = render_report(partial_dir, tmp_path / "report", png=False)
    dom, stderr = _dom(files.html, tmp_path)
    assert _console_errors(stderr) == []
    assert dom.body.get("data-ready") == "1"
    assert dom.body.get("data-errors") == "0"


def test_script_errors_are_reported_in_the_dom(race_dir: Path, tmp_path: Path) -> None:
    """A broken page is caught: the error count rises and data-ready never becomes 1."""
    files = render_report(race_dir, tmp_path / "report", png=False)
    html = files.html.read_text(encoding="utf-8")
    broken = re.sub(
        r'(<script type="application/json" id="report-data">).*?(</script>)',
        r"\1{not json\2",
        html,
        count=1,
        flags=re.DOTALL,
    )
    assert broken != html
    page = tmp_path / "broken.html"
    page.write_text(broken, encoding="utf-8")
    dom, _ = _dom(page, tmp_path)
    assert dom.body.get("data-ready") == "0"
    assert dom.body.get("data-errors") == "1"
