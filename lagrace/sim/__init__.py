"""A model of a Qdrant cluster served over real HTTP on loopback (not Qdrant).

Pure core: ``replica_states``, ``operations``, ``state_machine``, ``raft``, ``placement``,
``backoff``, ``late_create``, ``bodies``, ``storage_errors``, ``views``. Async shells: ``peer``
(apply loop), ``dataplane`` and ``meta_ops`` (request flows), ``http_app``, ``cluster``.
See ``docs/simulated-cluster.md``.
"""

from lagrace.sim.cluster import MODEL_LABEL, SimCluster, SimNode
from lagrace.sim.config import SimConfig
from lagrace.sim.late_create import Mode

__all__ = ["MODEL_LABEL", "Mode", "SimCluster", "SimConfig", "SimNode"]
