"""A checker for the Chrome trace-event JSON object format (Perfetto, chrome://tracing).

Checks what the report promises: the object form with ``traceEvents`` and ``displayTimeUnit``;
every event has ``name``, ``ph``, ``ts``, ``pid``, ``tid`` of the right types; ``ph`` is one of
the phases used; ``X`` events have a numeric ``dur`` >= 0; instants have a scope ``s`` in
g/p/t; counters have numeric ``args``; metadata events name processes and threads; every
(pid, tid) used by a non-metadata event has ``process_name`` and ``thread_name`` metadata;
timestamps are sorted. Returns the list of problems (empty when the trace is fine).
"""

from __future__ import annotations

from typing import Any

PHASES = {"X", "i", "I", "M", "C", "B", "E"}
METADATA_NAMES = {"process_name", "thread_name", "process_sort_index", "thread_sort_index"}


def _is_num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_trace(trace: Any) -> list[str]:
    """Problems with ``trace`` as a trace-event JSON object (empty list: valid)."""
    if not isinstance(trace, dict) or not isinstance(trace.get("traceEvents"), list):
        return ["not an object with a traceEvents list"]
    problems: list[str] = []
    if trace.get("displayTimeUnit") not in ("ms", "ns"):
        problems.append(f"displayTimeUnit {trace.get('displayTimeUnit')!r}")
    named_pids: set[int] = set()
    named_threads: set[tuple[int, int]] = set()
    used: set[tuple[int, int]] = set()
    last_ts = float("-inf")
    for i, event in enumerate(trace["traceEvents"]):
        where = f"event {i}"
        if not isinstance(event, dict):
            problems.append(f"{where}: not an object")
            continue
        for key, ok in (
            ("name", isinstance(event.get("name"), str)),
            ("ph", event.get("ph") in PHASES),
            ("ts", _is_num(event.get("ts"))),
            ("pid", isinstance(event.get("pid"), int)),
            ("tid", isinstance(event.get("tid"), int)),
        ):
            if not ok:
                problems.append(f"{where}: bad or missing {key}: {event.get(key)!r}")
        if not _is_num(event.get("ts")):
            continue
        if event["ts"] < last_ts:
            problems.append(f"{where}: ts {event['ts']} before {last_ts} (not sorted)")
        last_ts = event["ts"]
        ph, pid, tid = event.get("ph"), event.get("pid"), event.get("tid")
        if not isinstance(pid, int) or not isinstance(tid, int):
            continue
        if ph == "M":
            if event.get("name") not in METADATA_NAMES or not isinstance(event.get("args"), dict):
                problems.append(f"{where}: bad metadata event {event!r}")
            elif event["name"] == "process_name":
                named_pids.add(pid)
            elif event["name"] == "thread_name":
                named_threads.add((pid, tid))
            continue
        used.add((pid, tid))
        if ph == "X" and not (_is_num(event.get("dur")) and event["dur"] >= 0):
            problems.append(f"{where}: X event with dur {event.get('dur')!r}")
        if ph in ("i", "I") and event.get("s", "t") not in ("g", "p", "t"):
            problems.append(f"{where}: instant scope {event.get('s')!r}")
        if ph == "C" and not all(_is_num(v) for v in (event.get("args") or {"": None}).values()):
            problems.append(f"{where}: counter without numeric args")
    for pid, tid in sorted(used):
        if pid not in named_pids:
            problems.append(f"pid {pid} has no process_name metadata")
        if (pid, tid) not in named_threads:
            problems.append(f"pid {pid} tid {tid} has no thread_name metadata")
    return problems
