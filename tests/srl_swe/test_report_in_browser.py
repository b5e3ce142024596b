"""The run report in a real browser: headless Chromium (Debian's package) opens the page that `python -m
srl_swe.eval --mode oracle|e2e --task demo` and a cut-down demo wrote at their end, the test reads the page's
text after its scripts ran (``--dump-dom``) for the instances, verdicts and numbers of the run, and keeps a
screenshot of each page beside the test's files (``report-<name>.png`` under pytest's tmp dir)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import load_instances

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium; .ci/run installs it)"
)
DEMO_IDS = [instance.instance_id for instance in load_instances("demo")]


def run_module(*argv: str) -> str:
    """Run ``python -m ARGV`` from the repository root as a user would; assert it exited 0; return stdout."""
    done = subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=REPO,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def printed_page(stdout: str) -> Path:
    """Return the report page whose path the command printed last (``report page: PATH``)."""
    found = re.findall(r"^report page: (.+)$", stdout, flags=re.MULTILINE)
    assert found, stdout[-2000:]
    return Path(found[-1].strip())


def open_in_browser(page: Path, screenshot: Path) -> str:
    """Open ``page`` from the file system in headless Chromium; save a screenshot; return the DOM's text as
    the browser holds it once the page's scripts ran."""
    profile = screenshot.parent / f".chromium-{screenshot.stem}"
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}"]
    url = page.resolve().as_uri()
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0 and "</html>" in dom.stdout, dom.stderr[-2000:]
    shot = subprocess.run(
        [*common, "--window-size=1280,2000", f"--screenshot={screenshot}", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.read_bytes().startswith(b"\x89PNG")
    return dom.stdout


def page_text(dom: str) -> str:
    """Return the visible text of a DOM dump (tags dropped, whitespace collapsed)."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.DOTALL)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", text).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")


def assert_offline(dom: str) -> None:
    """Assert that the page loads nothing from a network: no remote script, style, image or link."""
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", dom)
    assert "@import" not in dom


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    """Run `eval --mode oracle` and `--mode e2e` on the demo set with the tiny model, as README shows them;
    return per mode the report page it printed and its run report."""
    runs = tmp_path_factory.mktemp("graded")
    found = {}
    for mode in ("oracle", "e2e"):
        stdout = run_module(
            "srl_swe.eval", "--mode", mode, "--task", "demo", "--run-dir", str(runs),
            "--max-steps", "3", "--max-new-tokens", "48",
        )  # fmt: skip
        page = printed_page(stdout)
        assert page == runs / f"{mode}-demo-srl-swe-tiny" / "report.html"
        report = json.loads(next(page.parent.glob("srl-swe-tiny.*.json")).read_text())
        found[mode] = (page, report)
    return found


@needs_browser
@pytest.mark.docker
@pytest.mark.vllm
@pytest.mark.parametrize("mode", ["oracle", "e2e"])
def test_graded_run_report_shows_every_instance_its_verdict_and_patch(
    graded: dict[str, tuple[Path, dict]], mode: str, tmp_path: Path
) -> None:
    page, report = graded[mode]
    dom = open_in_browser(page, tmp_path / f"report-{mode}.png")
    assert_offline(dom)
    text = page_text(dom)
    total, resolved = report["total_instances"], report["resolved_instances"]
    assert total == len(DEMO_IDS)
    assert f"resolved {resolved}/{total}" in text
    for instance_id in DEMO_IDS:  # each instance's card opens with its verdict
        summary = rf'<summary><b>{re.escape(instance_id)}</b> <span class="badge \w+">([\w ]+)</span>'
        shown = re.search(summary, dom)
        assert shown, instance_id
        empty = "empty patch" if instance_id in report["empty_patch_ids"] else "unresolved"
        verdict = "resolved" if instance_id in report["resolved_ids"] else empty
        if instance_id in report["error_ids"]:
            verdict = "error"
        assert shown.group(1) == verdict, instance_id
    if mode == "e2e":
        well_formed = 0
        for instance_id in DEMO_IDS:
            steps = json.loads((page.parent / "trajectories" / f"{instance_id}.traj").read_text())[
                "trajectory"
            ]
            assert f"{len(steps)} actions · exit" in text, instance_id
            well_formed += sum(1 for step in steps if step["action"])
        # the demo ships expert trajectories (5+ actions each): every action is scored against the expert's
        assert text.count("similarity to the expert's action") == well_formed
    else:
        replies = [json.loads(p.read_text()) for p in (page.parent / "replies").glob("*.json")]
        for reply in replies:
            if reply["error"]:
                assert f"no patch from the reply: {reply['error']}" in text


@needs_browser
@pytest.mark.docker
@pytest.mark.vllm
@pytest.mark.train
def test_demo_report_shows_the_comparison_and_expert_vs_policy_per_heldout_step(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    stdout = run_module("tests.srl_swe.demo_shaped_run", str(out))
    page = printed_page(stdout)
    assert page == out / "report.html"
    check_demo_page(out, tmp_path)


def check_demo_page(out: Path, tmp_path: Path) -> None:
    """Check the report page of the cut demo run in ``out`` (one seed, in ``out/seed-0``) in the browser
    (screenshots into ``tmp_path``)."""
    page = out / "report.html"
    dom = open_in_browser(page, tmp_path / "report-demo.png")
    assert_offline(dom)
    text = page_text(dom)
    summary = json.loads((out / "comparison.json").read_text())["summary"]
    wins = summary["srl_beats_base"]
    assert f"SRL beats the base model (greedy held-out step reward) in {wins} of 1" in text
    out = out / "seed-0"
    rows = json.loads((out / "comparison.json").read_text())
    assert [row["name"] for row in rows] == ["base", "srl"]
    for row in rows:  # the comparison table, as comparison.json holds it
        cells = f"{row['name']} {row['heldout_step_reward']:.3f} "
        assert cells in text, cells
    # per held-out step example: the expert's action and each model's greedy action, differences marked
    steps = json.loads((out / "measure" / "base" / "steps" / "steps.json").read_text())
    examples = steps["per_example"]
    section = re.search(r'<section id="seed-0-comparison-json">(.*?)</section>', dom, re.DOTALL)
    assert section, "no comparison section"
    compared, compared_text = section.group(1), page_text(section.group(1))
    cards = re.findall(r'<div class="card example"', compared)
    assert len(cards) == len(examples) == steps["examples"]
    assert f"{len(examples)} of {len(examples)} shown" in compared_text  # the page's script ran
    for name in ("base", "srl"):
        assert compared.count(f'<div class="who">{name} greedy</div>') == len(examples), name
    for example in examples:
        assert example["instance_id"] in compared_text
    # each well-formed action (greedy and sampled, both models) is shown over the expert's, differences marked
    well_formed = sum(
        not completion["format_error"]
        for name in ("base", "srl")
        for record in json.loads((out / "measure" / name / "steps" / "steps.json").read_text())["per_example"]
        for completion in record["greedy"] + record["sampled"]
    )
    assert compared.count('<pre class="expert">') == well_formed
    pairs = r'<pre class="action">(.*?)</pre><pre class="expert">(.*?)</pre>'
    marked = re.findall(pairs, compared, re.DOTALL)
    assert len(marked) == well_formed
    assert all("<del>" in mine or "<ins>" in theirs or mine == theirs for mine, theirs in marked)
    # the SRL run's own report page: its curves and its held-out steps after each training step
    srl_page = out / "srl" / "report.html"
    assert srl_page.is_file()
    srl_text = page_text(open_in_browser(srl_page, tmp_path / "report-srl.png"))
    assert "held-out step reward (greedy)" in srl_text and "dynamic sampling" in srl_text
