"""``lagrace bench``: consensus apply latency, measured from outside, per peer.

Pure core: :mod:`.config` (what to run, validated), :mod:`.progress` (apply progress from
``GET /cluster``), :mod:`.applylog` (apply progress from the peers' DEBUG log lines),
:mod:`.measure` (each entry's timings per peer), :mod:`.histogram` (the HDR histogram),
:mod:`.stats` (summaries, stalls, lag and drain, the driver's own lag), :mod:`.result`
(``bench.json``, ``compare``, text) and :mod:`.plots`. Shell: :mod:`.runner` (the workload,
pollers, tailers and the hammer of ``lagrace run`` on one loop, one clock, one history).
How each number is measured and at which resolution: ``docs/bench.md``.
"""
