"""A local Ray cluster of two simulated nodes for the Ray tests, each node offering its own sandbox slots."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

SLOTS_PER_NODE = 1
OBJECT_STORE_BYTES = 80 * 2**20
"""Per node: the machine is shared, and jobs and logs are small."""


@contextlib.contextmanager
def two_node_cluster(connect: bool = True) -> Iterator[object]:
    """Yield a `ray.cluster_utils.Cluster`: a head without sandbox slots and two nodes with
    SLOTS_PER_NODE each; the driver is connected when `connect`. Skips the test when Ray is missing."""
    pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")
    import ray
    from ray.cluster_utils import Cluster

    from harness.executors.ray_executor import SLOT_RESOURCE

    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 0, "object_store_memory": OBJECT_STORE_BYTES, "include_dashboard": False},
    )
    try:
        for _ in range(2):
            cluster.add_node(
                num_cpus=1, resources={SLOT_RESOURCE: SLOTS_PER_NODE}, object_store_memory=OBJECT_STORE_BYTES
            )
        cluster.wait_for_nodes()
        if connect:
            ray.init(address=cluster.address, log_to_driver=False)
        yield cluster
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()
