"""SRL and RLVR on more than one process: README's two-process CPU launches run for real (gloo, a colocated
vLLM engine per process, the tiny model); every process takes the same dynamic-sampling rounds and fills the
same number of groups, one process reports, and the checkpoint holds both processes' state; RLVR's processes
each run their own rollout pool and leave no container. The agreement rule and the split of vLLM-CPU's KV
cache between the processes of one machine are also tested alone. Each real run takes about 1–1.5 minutes
on 2 cores (two engine starts) and peaks near 5.5 GiB for both processes.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import docker
import pytest
from accelerate.commands.config.config_args import load_config_from_file
from accelerate.utils import DistributedType
from safetensors.torch import load_file

from agents.policies.vllm_memory import cpu_kv_cache_bytes, processes_on_this_node
from harness.sandbox import labels
from srl_swe.recipes.dynamic_sampling import ROUNDS_LOG, stop_drawing
from srl_swe.train import TrainError, check_launch

REPO = Path(__file__).resolve().parents[2]
MiB = 1 << 20
EPSILON = 0.45
"""Drops part of the tiny model's groups, so that processes need different numbers of rounds."""
MAX_DRAWS = 3  # the cpu-demo preset's dynamic_sampling_max_draws


def rounds_taken(informative_per_round: list[list[int]], wanted: int, max_draws: int) -> int:
    """Returns the rounds every process takes when process p finds informative_per_round[p][r] groups in
    round r (the trainer's loop, with the gathered counts of each round)."""
    draws = 0
    while True:
        draws += 1
        counts = [sum(found[:draws]) for found in informative_per_round]
        if stop_drawing(counts, wanted, draws, max_draws):
            return draws


def test_processes_stop_together_when_the_one_with_fewest_groups_has_enough() -> None:
    assert rounds_taken([[2, 0, 0], [1, 1, 0]], wanted=2, max_draws=8) == 2  # the first had enough at once
    assert rounds_taken([[0, 1, 2], [2, 2, 2]], wanted=2, max_draws=8) == 3
    assert rounds_taken([[2, 2], [0, 0]], wanted=2, max_draws=2) == 2  # the cap: the second fills with zeros


def test_processes_of_one_machine_share_the_kv_cache_budget(
    tiny_model_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = cpu_kv_cache_bytes(tiny_model_dir, 2048, sequences=256, free=512 * MiB)
    shared = cpu_kv_cache_bytes(tiny_model_dir, 2048, sequences=256, free=512 * MiB, processes=2)
    assert (alone, shared) == (256 * MiB, 128 * MiB)  # half the free memory, then halved again
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    assert processes_on_this_node() == 1
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    assert processes_on_this_node() == 2


def test_the_shipped_zero3_config_is_accelerates_format() -> None:
    config = load_config_from_file(str(REPO / "configs/accelerate/zero3.yaml"))
    assert config.distributed_type == DistributedType.DEEPSPEED
    assert config.deepspeed_config["zero_stage"] == 3
    assert config.mixed_precision == "bf16"


def readme_two_process_command(recipe: str) -> list[str]:
    """Returns README's two-process CPU training command of ``recipe``, split into words."""
    text = (REPO / "README.md").read_text()
    section = text.split("## More than one process", 1)[1]
    lines = [
        line
        for line in section.splitlines()
        if line.startswith("accelerate launch --multi_gpu") and f"--recipe {recipe} " in line
    ]
    assert len(lines) == 1, lines
    return lines[0].split()


def run_launch(command: list[str], budget: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Runs an `accelerate launch` command of README with extra flags; returns the finished process after
    checking it exited 0, without a traceback, and that one process printed the results table."""
    assert command[:2] == ["accelerate", "launch"]
    accelerate = str(Path(sys.executable).parent / "accelerate")
    done = subprocess.run(
        [accelerate, *command[1:], *budget], cwd=cwd, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.stdout.count("training results") == 1  # one process reports
    return done


def read_rounds(output_dir: Path, process: int) -> dict[int, dict]:
    """Returns one process's dynamic-sampling records, by step."""
    path = output_dir / ROUNDS_LOG / f"process-{process}.jsonl"
    return {record["step"]: record for record in map(json.loads, path.read_text().splitlines())}


@pytest.mark.train
@pytest.mark.vllm
def test_two_processes_train_srl_and_agree_on_dynamic_sampling(tmp_path: Path) -> None:
    budget = ["--max_steps", "2", "--dynamic_sampling_epsilon", str(EPSILON)]
    done = run_launch(readme_two_process_command("srl"), budget, tmp_path)
    assert len(re.findall(r"built \d+ step examples", done.stderr)) == 1  # the step dataset is built once

    output_dir = tmp_path / "runs/train/srl-demo"
    first, second = read_rounds(output_dir, 0), read_rounds(output_dir, 1)
    assert sorted(first) == sorted(second) == [1, 2]
    for step in (1, 2):
        records = [first[step], second[step]]
        wanted = 2  # --prompts_per_step 4 over two processes
        assert [r["groups"] for r in records] == [wanted, wanted]
        assert [len(r["informative_per_draw"]) for r in records] == [r["draws"] for r in records]
        found = [r["informative_per_draw"] for r in records]
        assert records[0]["draws"] == records[1]["draws"] == rounds_taken(found, wanted, MAX_DRAWS)
        for record in records:
            assert record["filler_groups"] == max(0, wanted - sum(record["informative_per_draw"]))
    assert any(r["draws"] > 1 for r in first.values()), "no step needed a second round: raise EPSILON"

    checkpoint = output_dir / "checkpoint-2"
    state = json.loads((checkpoint / "trainer_state.json").read_text())
    assert state["global_step"] == 2
    assert {p.name for p in checkpoint.glob("rng_state_*.pth")} == {"rng_state_0.pth", "rng_state_1.pth"}
    assert load_file(output_dir / "model.safetensors")  # written once, whole


@pytest.mark.train
@pytest.mark.vllm
@pytest.mark.docker
def test_two_processes_train_rlvr_each_with_its_own_rollout_pool(tmp_path: Path) -> None:
    engine = docker.from_env()
    before = {c.id for c in engine.containers.list(all=True, filters=labels.SANDBOX_FILTER)}
    run_launch(readme_two_process_command("rlvr"), ["--max_steps", "1"], tmp_path)
    output_dir = tmp_path / "runs/train/rlvr-demo"
    first, second = read_rounds(output_dir, 0), read_rounds(output_dir, 1)
    assert sorted(first) == sorted(second) == [1]
    assert first[1]["draws"] == second[1]["draws"]
    assert first[1]["groups"] == second[1]["groups"] == 1  # 2 instances per step over two processes
    state = json.loads((output_dir / "checkpoint-1" / "trainer_state.json").read_text())
    assert state["global_step"] == 1
    after = {c.id for c in engine.containers.list(all=True, filters=labels.SANDBOX_FILTER)}
    assert after <= before, "the run left containers behind"


def test_a_cpu_launch_that_started_one_process_of_several_is_refused_in_one_line(tmp_path: Path) -> None:
    """What `accelerate launch --cpu --num_processes 2` does here: one process, a rendezvous address, no
    world size (accelerate 1.15 starts several CPU processes only through mpirun)."""
    probe = tmp_path / "environment.py"
    probe.write_text("import json, os\nprint(json.dumps(dict(os.environ)))\n")
    accelerate = str(Path(sys.executable).parent / "accelerate")
    done = subprocess.run(
        [accelerate, "launch", "--cpu", "--num_processes", "2", str(probe)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    launched = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(launched) == 1  # one process, not two
    with pytest.raises(TrainError, match="--multi_gpu --num_processes N"):
        check_launch(launched[0])
    check_launch({k: v for k, v in launched[0].items() if k != "MASTER_PORT"})  # one process asked for: fine
