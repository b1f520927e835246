"""The hunt's text outputs, pure: the Markdown table (``table.md``), the minimal scenario as
TOML (``minimal.toml``) and the HTML page (``index.html``) that puts them with the plots."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

from lagrace.hunt.model import Config, Trial, TrialOutcome
from lagrace.hunt.space import overrides_for
from lagrace.hunt.window import HuntResult, value_text
from lagrace.scenario import Scenario, scenario_to_json, with_overrides

_OUTCOME_MARK = {
    TrialOutcome.REPRODUCED: "reproduced",
    TrialOutcome.NOT_REPRODUCED: "not reproduced",
    TrialOutcome.INCONCLUSIVE: "inconclusive (not counted)",
    TrialOutcome.DISCARDED: "discarded: unclean start (not counted)",
}


def finished_line(result: HuntResult) -> str:
    """How the hunt ended, in one line."""
    if result.finished is None:
        return "still running (or interrupted)"
    return f"{result.finished.reason}: {result.finished.detail}"


def format_table_markdown(result: HuntResult, trials: Sequence[Trial]) -> str:
    """``table.md``: the window statements, one table of points per axis, the minimal
    configuration and every trial."""
    lines = ["# Hunt", "", f"Ended: {finished_line(result)}.", ""]
    lines += [
        f"Trials: {len(trials)} ({result.counted} counted, {result.inconclusive} inconclusive, "
        f"{result.discarded} discarded for an unclean start).",
        "",
        "## Window",
        "",
    ]
    lines += [f"* {axis.statement}" for axis in result.axes]
    for axis in result.axes:
        p = axis.param
        lines += [
            "",
            f"## {p.name} ({p.scale}, {p.format(p.lo)}..{p.format(p.hi)})",
            "",
            "| value | reproduced | n | p | 95% interval | attempts | inconclusive | discarded |",
            "|---:|---:|---:|---:|---|---:|---:|---:|",
        ]
        for row in axis.points:
            e = row.estimate
            edge = ""
            if axis.bracket is not None and row.value in axis.bracket:
                edge = " (never edge)" if row.value == axis.bracket[0] else " (reproduces edge)"
            lines.append(
                f"| {value_text(p, row.value)}{edge} | {e.k} | {e.n} | {e.p:.2f} | "
                f"[{e.low:.2f}, {e.high:.2f}] | {row.attempts} | {row.inconclusive} | "
                f"{row.discarded} |"
            )
    lines += ["", "## Minimal configuration", ""]
    if result.minimal is None:
        lines.append("None: no searched point reproduced.")
    else:
        est = result.minimal_estimate
        shown = "" if est is None else f" p = {est.format()}"
        lines.append(f"`minimal.toml`:{shown}")
        lines.append("")
        lines += [f"* `{name}` = {value:g}" for name, value in sorted(result.minimal.items())]
        if result.shrink is not None and result.shrink.started:
            if result.shrink.refused:
                refused = ", ".join(f"{n} = {v:g}" for n, v in result.shrink.refused)
                lines.append(f"* refused reductions (p below the threshold): {refused}")
        elif result.shrink is not None:
            lines.append("* not shrunk: the best point's estimate is below the threshold")
    lines += [
        "",
        "## Trials",
        "",
        "| # | stage | configuration | seed | outcome | s | run directory |",
        "|---:|---|---|---:|---|---:|---|",
    ]
    for t in trials:
        config = ", ".join(f"{k}={v:g}" for k, v in sorted(t.config.items()))
        detail = f" — {t.detail}" if t.detail else ""
        lines.append(
            f"| {t.index} | {t.stage} | {config} | {t.seed} | {_OUTCOME_MARK[t.outcome]}{detail} "
            f"| {t.duration_s:.1f} | {t.run_dir or ''} |"
        )
    return "\n".join(lines) + "\n"


def scenario_for(base: Scenario, config: Config) -> Scenario:
    """The base scenario with the hunt-level ``config`` applied (no validation)."""
    overrides: dict[str, Any] = {}
    for name, value in sorted(config.items()):
        overrides.update(overrides_for(name, value))
    return with_overrides(base, overrides)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def scenario_toml(scenario: Scenario, *, header: Sequence[str] = ()) -> str:
    """A scenario as a TOML file ``lagrace run --scenario`` reads back to the same scenario
    (``run.runs_dir`` and unset optional keys are left out)."""
    data = scenario_to_json(scenario)
    lines = [f"# {h}" for h in header]
    for section, table in data.items():
        if section == "signatures":
            continue
        assert isinstance(table, Mapping)
        lines += ["", f"[{section}]"]
        for key, value in table.items():
            if value is None or (section, key) == ("run", "runs_dir"):
                continue
            lines.append(f"{key} = {_toml_value(value)}")
    if data["signatures"]:
        lines += ["", "[signatures]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in data["signatures"].items()]
    return "\n".join(lines).lstrip("\n") + "\n"


def format_index_html(
    result: HuntResult,
    trials: Sequence[Trial],
    *,
    title: str,
    plots: Mapping[str, str],
    minimal_toml: str | None,
) -> str:
    """``index.html``: statements, plots (``plots`` maps axis name to a relative PNG path),
    per-point tables, the minimal scenario and every trial with a link to its directory."""
    esc = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:75em}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
        "padding:.25em .6em;text-align:right}th{background:#f4f4f4}"
        "td.l{text-align:left}pre{background:#f7f7f7;padding:1em;overflow:auto}"
        ".reproduced{color:#c62828}.discarded,.inconclusive{color:#777}</style>",
        "</head><body>",
        f"<h1>{esc(title)}</h1>",
        f"<p>Ended: {esc(finished_line(result))}. Trials: {len(trials)} ({result.counted} "
        f"counted, {result.inconclusive} inconclusive, {result.discarded} discarded).</p>",
        "<h2>Window</h2><ul>",
        *[f"<li>{esc(a.statement)}</li>" for a in result.axes],
        "</ul>",
    ]
    for axis in result.axes:
        p = axis.param
        parts.append(f"<h2>{esc(p.name)}</h2>")
        if p.name in plots:
            parts.append(
                f'<img src="{esc(plots[p.name])}" alt="reproduction probability against '
                f'{esc(p.name)}" width="900">'
            )
        parts.append(
            "<table><tr><th>value</th><th>reproduced</th><th>n</th><th>p</th>"
            "<th>95% interval</th><th>attempts</th></tr>"
        )
        for row in axis.points:
            e = row.estimate
            parts.append(
                f"<tr><td>{esc(value_text(p, row.value))}</td><td>{e.k}</td><td>{e.n}</td>"
                f"<td>{e.p:.2f}</td><td>[{e.low:.2f}, {e.high:.2f}]</td>"
                f"<td>{row.attempts}</td></tr>"
            )
        parts.append("</table>")
    parts.append("<h2>Minimal configuration</h2>")
    if minimal_toml is None:
        parts.append("<p>None: no searched point reproduced.</p>")
    else:
        est = result.minimal_estimate
        if est is not None:
            parts.append(f"<p>p = {esc(est.format())} at this configuration.</p>")
        parts.append(
            '<p><a href="minimal.toml">minimal.toml</a> — replay with '
            "<code>lagrace run --scenario minimal.toml</code></p>"
        )
        parts.append(f"<pre>{esc(minimal_toml)}</pre>")
    parts.append(
        "<h2>Trials</h2><table><tr><th>#</th><th>stage</th><th>configuration</th>"
        "<th>outcome</th><th>s</th><th>run</th></tr>"
    )
    for t in trials:
        config = ", ".join(f"{k}={v:g}" for k, v in sorted(t.config.items()))
        link = (
            f'<a href="{esc(t.run_dir)}/">{esc(t.run_dir)}</a>'
            if t.run_dir
            else esc(t.detail or "")
        )
        parts.append(
            f"<tr><td>{t.index}</td><td class=l>{esc(t.stage)}</td><td class=l>{esc(config)}"
            f'</td><td class="l {t.outcome.value}">{esc(_OUTCOME_MARK[t.outcome])}</td>'
            f"<td>{t.duration_s:.1f}</td><td class=l>{link}</td></tr>"
        )
    parts += ["</table>", "</body></html>"]
    return "\n".join(parts) + "\n"
