"""A model of a Qdrant cluster served over real HTTP on loopback (not Qdrant).

Pure core: ``replica_states``, ``operations``, ``state_machine``, ``raft``, ``placement``,
``mode``, ``backoff``, ``bodies``, ``storage_errors``, ``views``. Async shells: ``toc_lock`` (the
table of contents' lock), ``peer`` (apply loop), ``transport`` (internal calls), ``dataplane``
and ``meta_ops`` (request flows), ``http_app``, ``cluster``.
See ``docs/simulated-cluster.md``.
"""

from lagrace.sim.cluster import MODEL_LABEL, SimCluster, SimNode
from lagrace.sim.config import SimConfig
from lagrace.sim.mode import Mode

__all__ = ["MODEL_LABEL", "Mode", "SimCluster", "SimConfig", "SimNode"]
