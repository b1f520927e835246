"""A model of a Qdrant cluster served over real HTTP on loopback (not Qdrant).

Pure core: ``replica_states``, ``operations``, ``state_machine``, ``raft``, ``placement``,
``mode``, ``backoff``, ``bodies``, ``storage_errors``, ``views``, ``config``. Async shells:
``toc_lock`` (the table of contents' lock), ``peer`` (apply loop), ``transport`` (internal
calls), ``dataplane`` and ``meta_ops`` (request flows), ``http_app``, ``cluster`` (the served
cluster: :class:`~lagrace.sim.cluster.SimCluster`). This package's ``__init__`` imports nothing,
so the pure core loads without the event loop or aiohttp (tests/test_layers.py).
See ``docs/simulated-cluster.md``.
"""
