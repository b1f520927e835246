"""summary.md of fixed findings: sections, tables, escaping, the timeline block."""

from __future__ import annotations

from lagrace.analysis.findings import Disruption, Findings, Verdict, WriteFailure, WriteSummary
from lagrace.analysis.inputs import analysis_input_from_history
from lagrace.analysis.verdict import analyse
from lagrace.render.markdown import cell, format_summary_markdown, node_peers_from_meta
from lagrace.testing.histories import example_run

META = {
    "run_id": "abc123",
    "scenario": "consensus-lag",
    "seed": 7,
    "target": {"node": 2, "peer_id": 102},
    "versions": {"qdrant": {"1": "1.18.3", "2": "1.18.3"}},
    "nodes": [{"node": 1, "peer_id": 101}, {"node": 2, "peer_id": 102}, {"node": "x"}],
}


def test_summary_of_a_reproduced_run() -> None:
    """Verdict, reasons, signature/disruption/write/lag tables and the timeline are all there."""
    h = example_run()
    md = format_summary_markdown(analyse(h, analysis_input_from_history(h)), META)
    lines = md.splitlines()
    assert lines[0] == "# lagrace run abc123 (consensus-lag)"
    assert "**Verdict: reproduced** (exit code 1)" in lines
    assert "seed `7`; target node 2 (peer 102); qdrant node 1: 1.18.3, node 2: 1.18.3" in lines
    for heading in (
        "## Reasons",
        "## Signatures",
        "## Replica disruptions (existing collection)",
        "## Writes to the existing collection",
        "## Lag",
        "## Timeline",
    ):
        assert heading in lines
    assert any(
        line.startswith(
            "| dead_expected_active | 2 | 102 | +6.071 s | 102 | 0 | existing_collection |"
        )
        for line in lines
    )
    assert (
        "| existing_collection | 0 | 102 | 1 | Dead → Partial | +3.200 s | +8.000 s | 4.800 s |"
        in lines
    )
    assert "| 2 | 102 | yes | +1.050 s | +6.050 s | 14 | 1150 ms | 0 |" in lines
    assert "2 writes: 1 ok, 0 failed, 1 unknown outcome." in lines
    start = lines.index("```text")
    end = lines.index("```", start + 1)
    assert any("SLOW     slow-down started: sleeping 5000 ms" in line for line in lines[start:end])
    assert "First disruption at +3.200 s." in lines


def test_summary_of_an_empty_run() -> None:
    """Nothing found: the sections say so instead of showing empty tables."""
    md = format_summary_markdown(Findings(Verdict.INCONCLUSIVE, ("lag never took hold",)), {})
    assert md.startswith("# lagrace run ? (?)\n")
    assert "No signature line on any peer." in md
    assert "No replica of the existing collection left Active." in md
    assert "0 writes: 0 ok, 0 failed, 0 unknown outcome." in md
    assert "Lag took hold: **no**. Converged: **no**." in md
    assert "(empty)" in md
    assert "|" not in md


def test_cells_are_escaped_and_long_tables_cut() -> None:
    """Pipes and newlines cannot break a table row; long tables end with a count."""
    assert cell("a|b\nc") == "a\\|b c"
    assert cell(None) == "-"
    failures = tuple(
        WriteFailure(i, "w|x", 1, 0, None, "info", None, "never completed") for i in range(60)
    )
    disruption = Disruption("c", 0, 1, 1, None, "Dead", ("Dead",), 0, None)
    md = format_summary_markdown(
        Findings(
            Verdict.REPRODUCED,
            (),
            disruptions=(disruption,),
            writes=WriteSummary(60, 0, 0, 60, failures),
        ),
        {},
    )
    assert "| 0 | w\\|x | 1 | +0.000 s | - | info | - | never completed |" in md
    assert "... 10 more rows not shown (see findings.json)" in md
    assert "| c | 0 | 1 | 1 | Dead | +0.000 s | never | - |" in md


def test_node_peers_from_meta() -> None:
    """Only well-formed node entries count."""
    assert node_peers_from_meta(META) == {1: 101, 2: 102}
    assert node_peers_from_meta({}) == {}
