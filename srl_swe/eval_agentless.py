"""Agentless mode of `python -m srl_swe.eval`: SWE-RL's Agentless Mini pipeline (agents.agentless) run per
instance, each stage's result kept under ``<run-dir>/<run-id>/agentless/<instance>/<stage>.json`` (written
atomically; a rerun skips the stages already there), the selected patch written to predictions.jsonl and
graded like the other modes (srl_swe.eval_policy drives the run).

Stages, in order (``--agentless-stages`` picks them; repair and select always run):
  localize      ``--localize-samples`` replies naming files from the issue and the repository's tree (without
                this stage, only with ``--gold-localization``: the files the gold patch edits, i.e. oracle
                localization, which the report then names);
  repair        ``--repair-samples`` replies under SWE-RL's repair protocol over the localized files;
  regression    the repository's existing tests on the original code and with each distinct patch;
  reproduction  ``--reproduction-samples`` generated scripts, kept when they reproduce the issue on the
                original code, then run with each distinct patch;
  select        SWE-RL's reranking and majority vote.

The per-stage report (a table and ``agentless_report.json``) counts, per instance: localization recall of
the gold files, samples with a patch, patches that apply, that pass regression, that reproduce (pass a kept
reproduction test), and the selected sample and whether it resolved.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents.agentless import localize, regression, repair, reproduction, select
from agents.agentless.sandbox import RepoRunner
from agents.oracle import edited_files
from agents.swe_rl import repair_prompt, reply_to_repair
from agents.swe_rl_prompts import load_prompt_texts
from harness.evaluation import write_json_atomic

if TYPE_CHECKING:
    from agents.policies import Conversation, Policy
    from harness import TaskInstance
    from srl_swe.eval_config import EvalConfig

STAGE_DIR = "agentless"
REPORT_FILE = "agentless_report.json"


def stage_path(root: Path, instance_id: str, stage: str) -> Path:
    """Return where ``stage``'s result for ``instance_id`` is kept."""
    return root / STAGE_DIR / instance_id / f"{stage}.json"


def run_agentless_mode(config: EvalConfig, policy: Policy | None = None) -> int:
    """Run (or resume) Agentless Mini on the task set, grade the chosen patches, print the tables and the
    reports' paths; return 0 when every instance was graded, else 1 (srl_swe.eval_policy drives the run)."""
    from srl_swe.eval_policy import run_policy_mode

    return run_policy_mode(config, policy, make_batch=agentless_batch, report_more=print_stage_report)


def print_stage_report(console: Any, instances: Sequence[TaskInstance], root: Path, run: Any) -> None:
    """Print the per-stage table and where its JSON was written."""
    table, path = stage_report(instances, root, run)
    console.print(table)
    console.print(f"per-stage report: {path}", soft_wrap=True)


def read_stage(root: Path, instance_id: str, stage: str) -> dict | None:
    """Return ``stage``'s recorded result for ``instance_id`` (None when the stage has not run)."""
    path = stage_path(root, instance_id, stage)
    return json.loads(path.read_text()) if path.is_file() else None


def agentless_batch(
    batch: Sequence[TaskInstance], policy: Policy, config: EvalConfig, root: Path, name: str
) -> Iterator[tuple[str, str, dict]]:
    """Run every stage for a batch (the policy's prompts of a stage go together, container work runs
    ``config.workers`` at a time); yield (instance id, selected patch, select record) per instance."""
    stages = Stages(batch, policy, config, root)
    if "localize" in config.agentless_stages:
        stages.localize()
    stages.repair()
    if "regression" in config.agentless_stages:
        stages.in_containers("regression", stages.regression)
    if "reproduction" in config.agentless_stages:
        stages.reproduction()
    for instance in batch:
        record = stages.select(instance)
        yield instance.instance_id, record["patch"], record


class Stages:
    """The stages of one batch; each reads the earlier stages' files and writes its own."""

    def __init__(self, batch: Sequence[TaskInstance], policy: Policy, config: EvalConfig, root: Path) -> None:
        self.batch, self.policy, self.config, self.root = list(batch), policy, config, root
        self.texts = load_prompt_texts(config.prompt_texts)
        self._scripts: dict[str, list[str]] = {}

    def localize(self) -> None:
        """Ask for the files to edit (``localize_samples`` per instance) and record them with their recall."""
        todo = self._todo("localize")
        if not todo:
            return
        sampled = self.config.localize_samples > 1
        files = dict(zip(_ids(todo), self._map(self._list_files, todo), strict=True))
        prompts: list[Conversation] = []
        for instance in todo:
            shown = localize.source_files(files[instance.instance_id], instance.repo)
            files[instance.instance_id] = shown
            rng = self._rng(instance, "localize")
            prompts += [
                localize.localization_prompt(
                    instance.problem_statement, shown, sampled, rng, self.config.thinking, self.texts
                )
                for _ in range(self.config.localize_samples)
            ]
        replies = [own[0] for own in self._generate(prompts, sampled)]
        for offset, instance in enumerate(todo):
            own = replies[offset * self.config.localize_samples : (offset + 1) * self.config.localize_samples]
            found = [localize.found_files(reply, files[instance.instance_id]) for reply in own]
            gold = edited_files(instance.patch)
            self._write(
                instance,
                "localize",
                {
                    "files_shown": len(files[instance.instance_id]),
                    "found": found,
                    "gold": gold,
                    "recall": localize.recall(found, gold),
                    "replies": own,
                },
            )

    def repair(self) -> None:
        """Sample ``repair_samples`` repairs per instance over its localized files and read each reply as
        SWE-RL does."""
        todo = self._todo("repair")
        if not todo:
            return
        count = self.config.repair_samples
        sampled = count > 1
        lists = {i.instance_id: repair.file_lists(self._found(i), count) for i in todo}
        texts = dict(zip(_ids(todo), self._map(self._read_localized, todo, lists), strict=True))
        prompts, shown = [], []
        for instance in todo:
            rng = self._rng(instance, "repair")
            for paths in lists[instance.instance_id]:
                budget = self.config.agentless_max_input_chars
                files = repair.repair_files(
                    paths, texts[instance.instance_id], budget, rng if sampled else None
                )
                shown.append(files)
                prompts.append(
                    repair_prompt(instance.problem_statement, files, self.config.thinking, self.texts)
                )
        replies = iter(own[0] for own in self._generate(prompts, sampled))
        files_of = iter(shown)
        for instance in todo:
            samples = []
            for _ in lists[instance.instance_id]:
                files, reply = next(files_of), next(replies)
                result = reply_to_repair(reply, files)
                samples.append(
                    {
                        "files": list(files),
                        "reply": reply,
                        "patch": result.patch,
                        "error": result.error,
                        "key": select.normalized_key(result.new_texts) if result.patch else "",
                        **result.details(),
                    }
                )
            error = None if lists[instance.instance_id] else "localization named no file of the repository"
            localization = "localize" if "localize" in self.config.agentless_stages else "gold"
            self._write(
                instance, "repair", {"samples": samples, "error": error, "localization": localization}
            )

    def regression(self, instance: TaskInstance, runner: RepoRunner) -> dict:
        """Return the existing tests' verdict on each sample: applied, and the originally-passing tests it
        breaks (nothing is run when no sample has a patch)."""
        if not self._patches(instance):
            return {"original_passing": None, "samples": [None for _ in self._samples(instance)]}
        original = runner.regression()
        passing = regression.passing_tests(original.status)
        by_patch: dict[str, dict] = {}
        for patch in self._patches(instance):
            run = runner.regression(patch)
            failed = regression.failed_regressions(original.status, run.status) if run.applied else None
            by_patch[patch] = {"applied": run.applied, "failed": failed}
        return {
            "original_passing": len(passing),
            "samples": [by_patch.get(s["patch"]) for s in self._samples(instance)],
        }

    def reproduction(self) -> None:
        """Generate reproduction scripts (one greedy, the rest sampled), keep those that reproduce the issue
        on the original code, and run the kept ones with each distinct patch."""
        todo = self._todo("reproduction")
        if not todo:
            return
        count = self.config.reproduction_samples
        prompts = [
            reproduction.reproduction_prompt(i.problem_statement, self.config.thinking, self.texts)
            for i in todo
        ]
        greedy = self._generate(prompts, sampled=False)
        rest = self._generate(prompts, sampled=True, n=count - 1) if count > 1 else [[] for _ in todo]
        for index, instance in enumerate(todo):
            self._scripts[instance.instance_id] = [*greedy[index], *rest[index]]
        self.in_containers("reproduction", self._reproduce, todo)

    def select(self, instance: TaskInstance) -> dict:
        """Choose the instance's patch from its samples and the rankers' results; record and return it."""
        path = stage_path(self.root, instance.instance_id, "select")
        if path.is_file():
            return json.loads(path.read_text())
        samples = self._samples(instance)
        reg = self._stage(instance, "regression") or {}
        rep = self._stage(instance, "reproduction") or {}
        candidates = []
        for index, sample in enumerate(samples):
            reg_run = (reg.get("samples") or [None] * len(samples))[index] or {}
            rep_run = (rep.get("samples") or [None] * len(samples))[index] or {}
            resolved = rep_run.get("resolved")
            candidates.append(
                select.Candidate(
                    index,
                    sample["patch"],
                    sample["key"],
                    None if reg_run.get("failed") is None else len(reg_run["failed"]),
                    None if resolved is None else frozenset(resolved),
                )
            )
        chosen = select.select(candidates, regression=bool(reg), reproduction=bool(rep))
        repair_error = (self._stage(instance, "repair") or {}).get("error")
        record = {
            "instance_id": instance.instance_id,
            "selected": None if chosen is None else chosen.index,
            "patch": "" if chosen is None else chosen.patch,
            "rankers": [name for name, used in (("regression", reg), ("reproduction", rep)) if used],
            "error": None if chosen else repair_error or "no repair sample gave a patch",
        }
        write_json_atomic(path, record)
        return record

    def in_containers(self, stage: str, work, instances: Sequence[TaskInstance] | None = None) -> None:
        """Run ``work(instance, runner)`` for the instances without ``stage``'s file, ``workers`` at a time,
        and write each result as that file."""
        todo = [i for i in (instances or self._todo(stage)) if not self._done(i, stage)]

        def one(instance: TaskInstance) -> None:
            with self._runner(instance) as runner:
                self._write(instance, stage, work(instance, runner))

        self._map(one, todo)

    def _reproduce(self, instance: TaskInstance, runner: RepoRunner) -> dict:
        scripts = [reproduction.extract_test(reply) for reply in self._scripts[instance.instance_id]]
        distinct: dict[str, str] = {}
        for code in scripts:
            if code is not None:
                distinct.setdefault(reproduction.normalized_test(code), code)
        codes = list(distinct.values())
        outputs = runner.reproduce(codes) or []
        kept = [index for index, out in enumerate(outputs) if reproduction.REPRODUCED in out]
        by_patch: dict[str, dict] = {}
        for patch in self._patches(instance) if kept else []:
            results = runner.reproduce([codes[index] for index in kept], patch)
            resolved = (
                None
                if results is None
                else [f"test-{kept[n]}" for n, out in enumerate(results) if reproduction.RESOLVED in out]
            )
            by_patch[patch] = {"applied": results is not None, "resolved": resolved}
        return {
            "generated": len(scripts),
            "tests": [{"code": code, "reproduces": index in kept} for index, code in enumerate(codes)],
            "replies": self._scripts[instance.instance_id],
            "samples": [by_patch.get(s["patch"]) for s in self._samples(instance)] if kept else [],
        }

    def _generate(self, prompts: list, sampled: bool, n: int = 1) -> list[list[str]]:
        """Return ``n`` completions per prompt, greedy or at ``agentless_temperature``; the policy's own
        sampling settings are restored."""
        import dataclasses

        from srl_swe.eval_policy import call_policy  # srl_swe.eval_policy imports no mode module

        if not prompts:
            return []
        own = self.policy.sampling
        temperature = self.config.agentless_temperature if sampled else 0.0
        self.policy.sampling = dataclasses.replace(own, temperature=temperature)
        try:
            replies = call_policy(lambda: self.policy.generate(prompts, n=n))
        finally:
            self.policy.sampling = own
        return replies

    def _list_files(self, instance: TaskInstance) -> list[str]:
        with self._runner(instance) as runner:
            return runner.files()

    def _read_localized(self, instance: TaskInstance, lists: dict) -> dict[str, str]:
        paths = sorted({path for paths in lists[instance.instance_id] for path in paths})
        if not paths:
            return {}
        with self._runner(instance) as runner:
            return runner.read(paths)

    def _found(self, instance: TaskInstance) -> list[list[str]]:
        """Return the localize stage's file lists; the gold patch's files only under --gold-localization."""
        done = self._stage(instance, "localize")
        if done is not None:
            return done["found"]
        if self.config.gold_localization:
            return [edited_files(instance.patch)]
        from srl_swe.eval_policy import PolicyEvalError

        raise PolicyEvalError(
            f"{instance.instance_id}: no localize stage file to repair from "
            f"({stage_path(self.root, instance.instance_id, 'localize')}); add the localize stage, or pass "
            "--gold-localization to repair the gold patch's files"
        )

    def _samples(self, instance: TaskInstance) -> list[dict]:
        return (self._stage(instance, "repair") or {}).get("samples", [])

    def _patches(self, instance: TaskInstance) -> list[str]:
        """Return the instance's distinct non-empty repair patches, in sample order."""
        return list(dict.fromkeys(s["patch"] for s in self._samples(instance) if s["patch"]))

    def _runner(self, instance: TaskInstance) -> RepoRunner:
        sandbox = self.config.grading().sandbox_config(instance.image, self.config.timeout_s)
        return RepoRunner(instance, sandbox, self.config.timeout_s, self.config.step_timeout_s)

    def _rng(self, instance: TaskInstance, stage: str) -> random.Random:
        digest = hashlib.sha256(f"{self.config.seed}/{instance.instance_id}/{stage}".encode()).hexdigest()
        return random.Random(int(digest[:16], 16))

    def _map(self, work, instances: Sequence[TaskInstance], *extra) -> list:
        with ThreadPoolExecutor(max_workers=max(1, self.config.workers)) as pool:
            return list(pool.map(lambda i: work(i, *extra), instances))

    def _todo(self, stage: str) -> list[TaskInstance]:
        return [i for i in self.batch if not self._done(i, stage)]

    def _done(self, instance: TaskInstance, stage: str) -> bool:
        return stage_path(self.root, instance.instance_id, stage).is_file()

    def _stage(self, instance: TaskInstance, stage: str) -> dict | None:
        return read_stage(self.root, instance.instance_id, stage)

    def _write(self, instance: TaskInstance, stage: str, record: dict) -> None:
        write_json_atomic(stage_path(self.root, instance.instance_id, stage), record)


def stage_report(instances: Sequence[TaskInstance], root: Path, run: Any) -> tuple[Any, Path]:
    """Return the per-stage report as a rich Table, and write it (per instance and totals) to
    ``agentless_report.json`` in ``root``; return its path too."""
    from rich import box
    from rich.table import Table

    rows = [instance_counts(instance, root, run) for instance in instances]
    totals = {
        key: sum(row[key] or 0 for row in rows)
        for key in ("samples", "patches", "applied", "pass_regression", "reproduce", "resolved")
    }
    recalls = [row["localization_recall"] for row in rows if row["localization_recall"] is not None]
    gold = any(row["localization"] == "gold" for row in rows)
    totals["localization"] = "gold localization" if gold else "localize stage"
    totals["instances"] = len(rows)
    totals["mean_localization_recall"] = sum(recalls) / len(recalls) if recalls else None
    report = root / REPORT_FILE
    write_json_atomic(report, {"totals": totals, "instances": rows})
    table = Table(
        title="agentless stages" + (" (gold localization: the gold patch's files)" if gold else ""),
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        caption="recall: of the gold files by localization; samp: repair samples; patch: with a patch; "
        "apply / regr / repro: patches that apply, pass regression, pass a kept reproduction test; tests: "
        "reproduction tests kept; pick: chosen sample; '-': not run",
    )
    columns = [
        ("instance", "instance_id"),
        ("recall", "localization_recall"),
        ("samp", "samples"),
        ("patch", "patches"),
        ("apply", "applied"),
        ("regr", "pass_regression"),
        ("tests", "reproduction_tests"),
        ("repro", "reproduce"),
        ("pick", "selected"),
        ("res", "resolved"),
    ]
    table.add_column("instance", overflow="fold", min_width=10)
    for title, _ in columns[1:]:
        table.add_column(title, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(*[_cell(row[key]) for _, key in columns])
    mean = totals["mean_localization_recall"]
    table.add_row(
        "total",
        _cell(mean),
        *[_cell(totals[key]) for key in ("samples", "patches", "applied", "pass_regression")],
        "",
        _cell(totals["reproduce"]),
        "",
        _cell(totals["resolved"]),
    )
    return table, report


def instance_counts(instance: TaskInstance, root: Path, run: Any) -> dict:
    """Return one instance's per-stage counts from its stage files (None where a stage did not run)."""
    loc, rep_, reg, repro, sel = (
        read_stage(root, instance.instance_id, s)
        for s in ("localize", "repair", "regression", "reproduction", "select")
    )
    samples = (rep_ or {}).get("samples", [])
    runs = reg["samples"] if reg else (repro or {}).get("samples") or None
    entry = run.entry(instance.instance_id) if run is not None else None
    return {
        "instance_id": instance.instance_id,
        "localization_recall": None if loc is None else loc["recall"],
        "localization": (rep_ or {}).get("localization"),
        "samples": len(samples) if rep_ else None,
        "patches": sum(bool(s["patch"]) for s in samples) if rep_ else None,
        "applied": None if runs is None else _count_patches(samples, runs, lambda r: r["applied"]),
        "pass_regression": (
            _count_patches(samples, reg["samples"], lambda r: r["failed"] == []) if reg else None
        ),
        "reproduction_tests": (sum(t["reproduces"] for t in repro["tests"]) if repro is not None else None),
        "reproduce": (
            _count_patches(samples, repro["samples"], lambda r: bool(r.get("resolved"))) if repro else None
        ),
        "selected": None if sel is None else sel["selected"],
        "resolved": None if entry is None else int(bool(entry["resolved"])),
    }


def _ids(instances: Sequence[TaskInstance]) -> list[str]:
    return [instance.instance_id for instance in instances]


def _count_patches(samples: list[dict], runs: list, test) -> int:
    """Return how many samples with a patch have a run (same index) for which ``test`` holds."""
    runs = list(runs) + [None] * (len(samples) - len(runs))
    return sum(1 for s, r in zip(samples, runs, strict=False) if s["patch"] and r is not None and test(r))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)
