"""The race: the interpreter of a plan and the only async shell of a run.

* :mod:`~lagrace.race.orchestrate`: one run end to end (preflight, run directory, the simulated
  cluster's process, the runner, analysis, report);
* :mod:`~lagrace.race.runner`: the hub (setup, race, settle, cleanup) on one loop and one clock;
* :mod:`~lagrace.race.workers`: slow-down proposers, the create burst, the upsert hammer;
* :mod:`~lagrace.race.watchers`, :mod:`~lagrace.race.snapshots`: pollers of every peer and
  their snapshots;
* :mod:`~lagrace.race.settle`: when the race phase is over (pure, table-tested);
* :mod:`~lagrace.race.tailer`: every peer's log on the run clock;
* :mod:`~lagrace.race.preflight`, :mod:`~lagrace.race.discovery`: what the cluster is, before
  anything is sent;
* :mod:`~lagrace.race.simproc`: the simulated cluster as a child process.

Everything here is I/O at the edge of the pure core (:mod:`lagrace.plan`, :mod:`lagrace.analysis`,
:mod:`lagrace.report`, ...), which it calls and which never calls back.
"""
