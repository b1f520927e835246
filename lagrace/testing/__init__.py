"""Test helpers shipped with lagrace (like ``structlog.testing``); imported only by tests.

* :mod:`~lagrace.testing.fakes`: :class:`ScriptedTransport` and :class:`FakeNode`, the real
  HTTP client over a scripted transport (re-exported here);
* :mod:`~lagrace.testing.histories`: literal histories written through the real recorder;
* :mod:`~lagrace.testing.oracles`: scripted and seeded noisy oracles for the window hunt.
"""

from lagrace.testing.fakes import (
    REFUSED,
    Answer,
    FakeNode,
    Script,
    ScriptedTransport,
    UnscriptedCall,
    cluster_disabled,
    cluster_status,
    fail,
    info,
    ok,
    refused,
    staging_telemetry,
    timed_out,
    to_qdrant_json,
)

__all__ = [
    "REFUSED",
    "Answer",
    "FakeNode",
    "Script",
    "ScriptedTransport",
    "UnscriptedCall",
    "cluster_disabled",
    "cluster_status",
    "fail",
    "info",
    "ok",
    "refused",
    "staging_telemetry",
    "timed_out",
    "to_qdrant_json",
]
