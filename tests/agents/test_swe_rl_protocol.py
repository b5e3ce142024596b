"""SWE-RL's repair protocol: its prompt, the replies its evaluation reads into a patch (partial application
included) and those it rejects, and the stricter training-reward format recorded beside."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from unidiff import PatchSet

from agents.oracle import edited_files
from agents.swe_rl import (
    extract_solution,
    parse_edits,
    repair_prompt,
    reply_to_repair,
    reward_format_error,
)
from agents.swe_rl_prompts import DEFAULT_TEXTS, PromptTexts, PromptTextsError, load_prompt_texts
from harness import load_instances
from harness.demo import build_repo

FILES = {
    "a.py": "def add(a, b):\n    return a + b\n\ndef subtract(a, b):\n    return a - b\n",
    "b.py": "def sort_list(lst):\n    return sorted(lst)\n",
}


def block(path: str, search: str, replace: str, fence: str = "```python") -> str:
    return f"{fence}\n### {path}\n<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n```\n"


def reply(*blocks: str, thought: str = "dummy") -> str:
    return f"<think>\n{thought}\n</think>\n<solution>\n{''.join(blocks)}</solution>\n"


def gold_reply(patch: str) -> str:
    """The gold patch's hunks (context kept) as SWE-RL edits, one fenced block per hunk."""
    blocks = []
    for patched in PatchSet(patch):
        for hunk in patched:
            old = "".join(line.value for line in hunk if not line.is_added).rstrip("\n")
            new = "".join(line.value for line in hunk if not line.is_removed).rstrip("\n")
            blocks.append(block(patched.path, old, new))
    return reply(*blocks, thought="The fix is small.")


def test_prompt_is_the_thinking_system_prompt_and_the_repair_template_with_the_files() -> None:
    system, user = repair_prompt("It breaks.", FILES)
    assert system == {"role": "system", "content": DEFAULT_TEXTS.system}
    assert "<think>" in DEFAULT_TEXTS.system and "<solution>" in DEFAULT_TEXTS.system
    text = user["content"]
    assert "--- BEGIN ISSUE ---\nIt breaks.\n--- END ISSUE ---" in text
    assert f"--- BEGIN FILE ---\n```\n### a.py\n{FILES['a.py']}\n\n### b.py\n{FILES['b.py']}\n```" in text
    assert "```python\n### src/shapes/area.py\n<<<<<<< SEARCH\n" in text and "\n>>>>>>> REPLACE\n```" in text
    assert [m["role"] for m in repair_prompt("x", FILES, thinking=False)] == ["user"]


def test_a_prompt_texts_file_replaces_the_wording_and_keeps_our_text_for_missing_keys(tmp_path: Path) -> None:
    path = tmp_path / "texts.yaml"
    path.write_text(
        yaml.safe_dump({"system": "Think, then answer.", "repair": "Issue: {problem_statement}\n\n{content}"})
    )
    texts = load_prompt_texts(path)
    assert texts.localization == DEFAULT_TEXTS.localization
    system, user = repair_prompt("It breaks.", {"a.py": "x = 1\n"}, texts=texts)
    assert (
        system["content"] == "Think, then answer."
        and user["content"] == "Issue: It breaks.\n\n### a.py\nx = 1"
    )
    assert load_prompt_texts(None) == PromptTexts()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("repair: 'Issue: {problem_statement}'\n", "repair must use {content}, {problem_statement}"),
        (
            "localisation: 'x'\n",
            "expected a mapping with keys localization, repair, system, got localisation",
        ),
        ("system: ''\n", "system must be non-empty text"),
        ("system: [unclosed\n", "cannot read it"),
    ],
)
def test_a_bad_prompt_texts_file_is_one_line_naming_the_file_and_key(
    tmp_path: Path, content: str, reason: str
) -> None:
    path = tmp_path / "texts.yaml"
    path.write_text(content)
    with pytest.raises(PromptTextsError, match=r"--prompt-texts .*texts\.yaml: ") as error:
        load_prompt_texts(path)
    assert reason in str(error.value) and "\n" not in str(error.value)


def test_a_multi_file_reply_that_swe_rl_accepts_becomes_one_patch() -> None:
    answer = reply(
        block("a.py", "def add(a, b):", "def add(a: int, b: int) -> int:"),
        block("a.py", "def subtract(a, b):", "def subtract(a: float, b: float) -> float:"),
        block("b.py", "def sort_list(lst):", "def sort_list(lst: list[int]) -> list[int]:"),
    )
    result = reply_to_repair(answer, FILES)
    assert result.error is None and result.format_error is None
    assert (result.edits, result.applied) == (3, 3)
    assert {item.path for item in PatchSet(result.patch)} == {"a.py", "b.py"}
    assert "def sort_list(lst: list[int]) -> list[int]:" in result.new_texts["b.py"]


def test_edits_that_do_not_match_are_skipped_and_the_rest_applied() -> None:
    answer = reply(
        block("a.py", "def add(a, b):", "def add(a, b, c=0):"),
        block("a.py", "def multiply(a, b):", "def multiply(a, b, c):"),
        block("c.py", "x = 1", "x = 2"),
    )
    result = reply_to_repair(answer, FILES)
    assert result.error is None and (result.edits, result.applied) == (3, 1)
    assert result.unknown_files == ["c.py"]
    assert result.format_error == "a.py: SEARCH text not found"  # the training reward is stricter
    assert list(result.new_texts) == ["a.py"]


def test_a_search_text_is_replaced_everywhere_it_occurs() -> None:
    result = reply_to_repair(reply(block("a.py", "    return", "    result =")), FILES)
    assert result.new_texts["a.py"].count("    result =") == 2


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ("", "no reply"),
        (reply(block("a.py", "def add(a, b):", "def add(a, b, c):", fence="```")), "no SEARCH/REPLACE edit"),
        (
            reply("```python\n### a.py\n<<<<<<< SEARCH\nreturn a + b\n=======\nreturn a - b\n```\n"),
            "no SEARCH/REPLACE edit",
        ),
        (reply(block("a.py", "def nothing():", "def something():")), "no edit applies"),
        (reply(block("c.py", "", "print('new file')")), "no edit applies"),
        (reply(block("a.py", "def add(a, b):", "def add(a, b:")), "is not valid Python"),
        (reply(block("a.py", "    return a + b\n", "    return a + b\n\n")), "only blank lines"),
        (reply(block("a.py", "def add(a, b):\n    return a + b", "")), "no SEARCH/REPLACE edit"),
    ],
    ids=[
        "empty",
        "fence-without-python",
        "unterminated",
        "search-not-found",
        "new-file",
        "syntax-error",
        "blank-lines-only",
        "empty-replace",
    ],
)
def test_replies_that_swe_rl_reads_as_no_patch(answer: str, error: str) -> None:
    result = reply_to_repair(answer, FILES)
    assert result.patch == "" and error in result.error


def test_the_solution_is_read_even_without_its_tags() -> None:
    edit = block("b.py", "def sort_list(lst):", "def sort_list(items):")
    assert extract_solution(f"thinking...\n<solution>\n{edit}") == edit.strip()
    result = reply_to_repair(f"Here you go:\n{edit}", FILES)
    assert result.patch and result.format_error == "count of <think> is not 1"


def test_a_path_carries_over_to_later_edits_of_the_same_block() -> None:
    answer = (
        "```python\n### a.py\n<<<<<<< SEARCH\ndef add(a, b):\n=======\ndef add(x, y):\n>>>>>>> REPLACE\n"
        "<<<<<<< SEARCH\ndef subtract(a, b):\n=======\ndef subtract(x, y):\n>>>>>>> REPLACE\n```"
    )
    assert parse_edits(answer) == {
        "a.py": [("def add(a, b):", "def add(x, y):"), ("def subtract(a, b):", "def subtract(x, y):")]
    }


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (reply(block("a.py", "def add(a, b):", "def add(x, y):", fence="```")), None),
        (reply(block("c.py", "", "# new")), None),
        (
            "<think>\n\n</think><solution>" + block("a.py", "def add(a, b):", "def f(a, b):") + "</solution>",
            "empty",
        ),
        (reply(block("a.py", "def add(a, b):", "def add(a, b):")), "identical"),
        (reply("no edits at all\n"), "no valid SEARCH/REPLACE block"),
        (reply(block("a.py", "def add(a, b):", "x")) + "<solution>", "count of <solution> is not 1"),
    ],
    ids=["plain-fence", "new-file", "empty-thought", "identical", "no-block", "two-solutions"],
)
def test_the_training_reward_format(answer: str, error: str | None) -> None:
    found = reward_format_error(answer, FILES)
    assert found is None if error is None else error in found


@pytest.mark.parametrize("instance_id", ["srl-demo__semverkit-8", "srl-demo__timespan-6"])
def test_the_gold_change_written_as_swe_rl_edits_rebuilds_the_gold_files(
    instance_id: str, tmp_path: Path
) -> None:
    (instance,) = load_instances("demo", instance_ids=[instance_id])
    ours, gold = build_repo(instance.repo, tmp_path / "ours"), build_repo(instance.repo, tmp_path / "gold")
    files = {path: (ours / path).read_text() for path in edited_files(instance.patch)}
    result = reply_to_repair(gold_reply(instance.patch), files)
    assert result.error is None and result.format_error is None
    for root, patch in ((ours, result.patch), (gold, instance.patch)):
        subprocess.run(["git", "apply", "-"], input=patch, text=True, cwd=root, check=True)
    assert all((ours / path).read_text() == (gold / path).read_text() for path in files)


@pytest.mark.docker
def test_oracle_mode_under_swe_rl_reads_the_files_in_the_container_and_the_gold_reply_resolves(
    tmp_path: Path,
) -> None:
    from agents.oracle import oracle_predictions, read_oracle_files
    from agents.policies import SamplingConfig
    from agents.swe_rl import SWE_RL_ORACLE
    from harness.grading import grade
    from harness.images import ensure_images

    (instance,) = load_instances("demo", instance_ids=["srl-demo__semverkit-8"])
    ensure_images([instance])
    files = read_oracle_files(instance)
    assert list(files) == ["semverkit/version.py"]
    seen = []

    class GoldPolicy:
        sampling = SamplingConfig(temperature=0.0)

        def generate(self, conversations, n=1):
            seen.extend(conversations)
            return [[gold_reply(instance.patch)] for _ in conversations]

    (result,) = oracle_predictions([instance], GoldPolicy(), {instance.instance_id: files}, SWE_RL_ORACLE)
    assert (
        seen[0][0]["content"] == DEFAULT_TEXTS.system
        and "### semverkit/version.py\n" in seen[0][1]["content"]
    )
    assert result.error is None and result.details == {
        "edits": 1,
        "applied": 1,
        "unknown_files": [],
        "format_error": None,
    }
    assert grade(instance, result.patch, log_dir=tmp_path).resolved
