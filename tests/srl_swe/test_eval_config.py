"""`python -m srl_swe.eval` parses its flags with TRL's parser, as `srl_swe.train` does: defaults, then
`--config FILE.yaml`, then flags (dashes or underscores); bad input is one line with exit code 2; the eval
modules import no one in a circle, and the frameworks are quieted before any of them is imported."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from srl_swe.eval import ConfigError, EvalConfig, main, parse

SRL_SWE = Path(__file__).resolve().parents[2] / "srl_swe"


def test_defaults_then_yaml_then_flags(tmp_path: Path) -> None:
    assert parse([]) == EvalConfig()
    config_file = tmp_path / "eval.yaml"
    config_file.write_text("workers: 8\ninstance_ids: [a, b]\ngrade_network_mode: none\ngrade_memory: 2g\n")
    config = parse(["--config", str(config_file), "--workers", "3", "--no-control", "--force"])
    assert config.workers == 3 and config.instance_ids == ["a", "b"] and not config.control and config.force
    assert config.grading().network_mode == "none" and config.grading().memory == "2g"


def test_one_vocabulary_dashes_or_underscores_one_or_many_ids() -> None:
    assert parse(["--instance-ids", "x"]).instance_ids == ["x"]
    assert parse(["--instance_ids", "x", "y", "--image-map", "m.yaml"]).instance_ids == ["x", "y"]
    assert parse(["--no-pull"]).pull is False
    assert parse(["--gpu-memory-utilization", "0.5", "--verbose"]).gpu_memory_utilization == 0.5
    assert parse(["--grade-pids-limit", "512"]).grade_pids_limit == 512
    assert EvalConfig().grading().network_mode == "bridge"  # SWE-bench grades with the network on


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("worker: 3\n", "worker"),
        ("- 1\n", "mapping"),
        ("a: [\n", "not valid YAML"),
        ("workers: 0\n", "workers"),
    ],
)
def test_a_bad_config_file_is_one_line_naming_it(tmp_path: Path, text: str, named: str, capsys) -> None:
    config_file = tmp_path / "bad.yaml"
    config_file.write_text(text)
    with pytest.raises(ConfigError, match=named) as raised:
        parse(["--config", str(config_file)])
    assert str(config_file) in str(raised.value) and "\n" not in str(raised.value)
    assert main(["--config", str(config_file)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err


def test_an_unknown_flag_or_choice_exits_2() -> None:
    for argv in (["--mode", "nope"], ["--instance", "x"]):
        with pytest.raises(SystemExit) as raised:
            main(argv)
        assert raised.value.code == 2


def test_the_eval_modules_import_no_one_in_a_circle() -> None:
    def imports(name: str) -> set[str]:
        tree = ast.parse((SRL_SWE / f"{name}.py").read_text())
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("srl_swe.eval"):
                found.add(node.module.removeprefix("srl_swe."))
        return found

    assert imports("eval_config") == set()
    assert imports("eval_gold") == {"eval_config"}
    assert imports("eval_manifest") <= {"eval_config"}
    assert imports("eval_policy") <= {"eval_config", "eval_gold", "eval_manifest"}
    assert imports("eval_predictions") <= {"eval_config", "eval_manifest", "eval_policy"}
    assert "eval" not in imports("eval_gold") | imports("eval_policy") | imports("eval_predictions")


def test_frameworks_are_quieted_before_trl_or_vllm_is_imported() -> None:
    script = (
        "import sys, srl_swe.framework_logs as logs\n"
        "seen = []\n"
        "original = logs.quiet_frameworks\n"
        "logs.quiet_frameworks = lambda verbose=False: seen.append(\n"
        "    sorted(m for m in ('trl', 'vllm', 'transformers') if m in sys.modules)) or original(verbose)\n"
        "from srl_swe.eval import main\n"
        "main(['--task', 'no-such-set'])\n"
        "print(seen)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.stdout.strip() == "[[]]", done.stdout + done.stderr
