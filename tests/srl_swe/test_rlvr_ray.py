"""RLVR rollouts through Ray: with ``executor="ray"`` the trainer's pool holds RemoteEnv actors, one per group
member, placed on the nodes of a two-node cluster; the episodes are scored as on local envs and no container
is left when the trainer closes its envs."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import AutoTokenizer

from harness import load_instances
from tests.containers import containers_of
from tests.ray_cluster import two_node_cluster
from tests.srl_swe.test_rlvr_loss_mask import INSTANCE, ScriptedPolicy, scripted_config


@pytest.mark.docker
@pytest.mark.train
@pytest.mark.ray
def test_rlvr_rollouts_run_on_remote_envs_on_both_nodes_and_leave_no_container(
    tiny_model_dir: str, tmp_path: Path
) -> None:
    from srl_swe.recipes.rlvr import RLVRTrainer

    (instance,) = load_instances("demo", instance_ids=[INSTANCE])
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    policy = ScriptedPolicy(tokenizer, instance, split=True)
    with two_node_cluster() as cluster:
        config = scripted_config(
            tmp_path, policy, max_live_envs=2, executor="ray", ray_address=cluster.address
        )
        trainer = RLVRTrainer(tiny_model_dir, config, [instance], generate=policy)
        try:
            trainer.model.train()
            trainer._generate_and_score_completions([dict(trainer.train_dataset[0]) for _ in range(2)])
            places = [env.unwrapped.where() for env in trainer.pool.alive()]
        finally:
            trainer.close_envs()
        assert trainer._last_rewards_per_func[:, 0].tolist() == [1.0, 0.0]  # resolved; submitted nothing
        assert len({place["node"] for place in places}) == 2  # one slot per node: one env on each
        assert containers_of({place["pid"] for place in places}) == []
