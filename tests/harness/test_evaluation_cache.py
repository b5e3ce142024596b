"""A rerun reuses a graded result only when instance, patch and image id all match; anything else is
regraded, and `force` regrades everything."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from harness import load_instances
from harness.evaluation import evaluate
from harness.grading import grade
from harness.images import ensure_images, ensure_swebench_layout_images

pytestmark = pytest.mark.docker
IMAGE = "srl-swe-test-cache/timespan:1"


def test_reuse_needs_same_patch_and_image_id_and_force_regrades_all(docker_client, tmp_path: Path) -> None:
    instances = load_instances("demo", instance_ids=["srl-demo__timespan-3", "srl-demo__timespan-6"])
    ensure_images(instances)
    plain = docker_client.images.get(instances[0].image)
    layout = docker_client.images.get(ensure_swebench_layout_images(instances[:1])["srl-demo__timespan-3"])
    plain.tag(IMAGE)  # one name, whose image is replaced below as a user's rebuild would
    instances = [dataclasses.replace(instance, image=IMAGE) for instance in instances]
    graded: list[str] = []

    def counting(instance, patch, **options):
        graded.append(instance.instance_id)
        return grade(instance, patch, **options)

    def again(predictions: dict, **options):
        graded.clear()
        run = evaluate(instances, predictions, tmp_path, grader=counting, progress=False, **options)
        return run, sorted(graded)

    try:
        gold = {i.instance_id: i.patch for i in instances}
        run, regraded = again(gold)
        assert regraded == sorted(gold) and run.reused == []
        run, regraded = again(gold)
        assert regraded == [] and sorted(run.reused) == sorted(gold)
        report = json.loads(run.report_path.read_text())
        assert report["reused_instances"] == 2 and report["resolved_instances"] == 2

        changed = {**gold, "srl-demo__timespan-6": ""}
        run, regraded = again(changed)
        assert regraded == ["srl-demo__timespan-6"] and run.reused == ["srl-demo__timespan-3"]
        assert not run.entry("srl-demo__timespan-6")["resolved"]

        layout.tag(IMAGE)  # the image was rebuilt: same name, another id
        run, regraded = again(changed)
        assert regraded == sorted(gold) and run.reused == []

        run, regraded = again(changed, force=True)
        assert regraded == sorted(gold) and run.reused == []
    finally:
        docker_client.images.remove(IMAGE)
