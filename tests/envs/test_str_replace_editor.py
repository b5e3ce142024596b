"""str_replace_editor answers as SWE-agent's editor (`tools/edit_anthropic`) does, word for word: each call
is a separate process in a real container (the base image), and every message is pinned whole."""

import ast
import shlex
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from envs.tools import INSTALL_DIR, STATE_DIR_ENV, TOOL_MODE, TOOL_NAMES, TOOLS_DIR, tool_files
from harness.sandbox import CommandResult, DockerSandbox, EngineNotReachableError, SandboxConfig
from harness.sandbox.engine import connect_engine

BASE_IMAGE = "srl-swe/base:bookworm"
TEN_LINES = "".join(f"line {n}\n" for n in range(1, 11))
REVIEW = "Review the changes and make sure they are as expected. Edit the file again if necessary.\n"
REVIEW_INSERT = (
    "Review the changes and make sure they are as expected (correct indentation, no duplicate lines, etc). "
    "Edit the file again if necessary.\n"
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[DockerSandbox]:
    """Returns one container of the base image with the tools installed; skips when no engine answers."""
    try:
        client = connect_engine()
    except EngineNotReachableError as error:
        pytest.skip(str(error))
    if not client.images.list(name=BASE_IMAGE):
        pytest.skip(f"docker image {BASE_IMAGE} is not available")
    opened = DockerSandbox(SandboxConfig(image=BASE_IMAGE, workdir="/"), client=client)
    for path, content in tool_files().items():
        opened.write_file(path, content, mode=TOOL_MODE)
    yield opened
    opened.close()


@dataclass
class Workspace:
    """A fresh folder and undo history in the container; runs actions there as the environment does."""

    sandbox: DockerSandbox
    root: str

    def path(self, name: str) -> str:
        """Returns the absolute path of `name` in the folder."""
        return f"{self.root}/{name}"

    def write(self, name: str, text: str) -> str:
        """Writes `text` to `name` in the folder; returns its absolute path."""
        self.sandbox.write_file(self.path(name), text)
        return self.path(name)

    def read(self, name: str) -> str:
        """Returns the text of `name` in the folder."""
        return self.sandbox.read_file(self.path(name)).decode()

    def shell(self, action: str) -> CommandResult:
        """Runs `action` as one bash command line in the folder, the tools on PATH (stderr into stdout)."""
        setup = f"export PATH={INSTALL_DIR}:$PATH {STATE_DIR_ENV}={self.root}.state && cd {self.root} && "
        return self.sandbox.run(setup + f"bash -c {shlex.quote(action)} 2>&1", timeout_s=60)

    def editor(self, *arguments: str) -> CommandResult:
        """Runs str_replace_editor with `arguments`, rendered with shlex.quote as actions are."""
        return self.shell(shlex.join(["str_replace_editor", *arguments]))


@pytest.fixture
def box(sandbox: DockerSandbox) -> Workspace:
    """Returns a fresh workspace in the shared container."""
    root = f"/work/{uuid.uuid4().hex[:12]}"
    assert sandbox.run(f"mkdir -p {root}").exit_code == 0
    return Workspace(sandbox, root)


@pytest.fixture
def sample(box: Workspace) -> str:
    """Returns the path of a ten-line file `line 1` .. `line 10` ending with a newline."""
    return box.write("sample.py", TEN_LINES)


def cat_n(described_as: str, lines: list[str], first: int = 1) -> str:
    """Returns SWE-agent's `cat -n` block for `lines` numbered from `first`."""
    body = "".join(f"{first + offset:6}\t{line}\n" for offset, line in enumerate(lines))
    return f"Here's the result of running `cat -n` on {described_as}:\n{body}"


def answers(result: CommandResult, exit_code: int, output: str) -> None:
    """Asserts that a call exited with `exit_code` and printed exactly `output`."""
    assert (result.exit_code, result.output) == (exit_code, output)


# ---------------------------------------------------------------- view


def test_view_prints_cat_n_of_the_whole_file(box: Workspace, sample: str) -> None:
    lines = [f"line {n}" for n in range(1, 11)] + [""]
    answers(box.editor("view", sample), 0, cat_n(sample, lines) + "\n")


def test_view_expands_tabs(box: Workspace) -> None:
    path = box.write("tabs.py", "if x:\n\treturn 1")
    answers(box.editor("view", path), 0, cat_n(path, ["if x:", "        return 1"]) + "\n")


def test_view_range_shows_inclusive_lines_and_minus_one_means_to_the_end(box: Workspace, sample: str) -> None:
    answers(
        box.editor("view", sample, "--view_range", "3", "5"),
        0,
        cat_n(sample, ["line 3", "line 4", "line 5"], 3) + "\n",
    )
    answers(
        box.editor("view", sample, "--view_range", "9", "-1"),
        0,
        cat_n(sample, ["line 9", "line 10", ""], 9) + "\n",
    )


@pytest.mark.parametrize(
    ("view_range", "exit_code", "message"),
    [
        ((0, 3), 12, "Its first element `0` should be within the range of lines of the file: [1, 11]"),
        ((12, 12), 12, "Its first element `12` should be within the range of lines of the file: [1, 11]"),
        ((2, 12), 13, "Its second element `12` should be smaller than the number of lines in the file: `11`"),
        ((5, 4), 14, "Its second element `4` should be larger or equal than its first `5`"),
        ((3, -2), 14, "Its second element `-2` should be larger or equal than its first `3`"),
    ],
)
def test_view_range_out_of_bounds_is_an_error(
    box: Workspace, sample: str, view_range: tuple[int, int], exit_code: int, message: str
) -> None:
    first, last = view_range
    result = box.editor("view", sample, "--view_range", str(first), str(last))
    answers(result, exit_code, f"Invalid `view_range`: [{first}, {last}]. {message}\n")


def test_view_range_needs_two_integers_as_argparse_says(box: Workspace, sample: str) -> None:
    one = box.editor("view", sample, "--view_range", "3")
    assert one.exit_code == 2
    assert one.output.startswith("usage: str_replace_editor [-h] [--file_text FILE_TEXT]")
    assert one.output.endswith("str_replace_editor: error: argument --view_range: expected 2 arguments\n")
    word = box.editor("view", sample, "--view_range", "3", "x")
    assert word.exit_code == 2
    assert word.output.endswith("error: argument --view_range: invalid int value: 'x'\n")


def test_view_directory_lists_two_levels_without_hidden_items(box: Workspace) -> None:
    for name in (
        "repo/pkg/sub/deep.py",
        "repo/pkg/mod.py",
        "repo/.git/HEAD",
        "repo/pkg/.cache",
        "repo/setup.py",
    ):
        box.write(name, "")
    root = box.path("repo")
    result = box.editor("view", f"{root}/")
    heading = f"Here's the files and directories up to 2 levels deep in {root}, excluding hidden items:\n"
    assert result.exit_code == 0
    assert result.output.startswith(heading) and result.output.endswith("\n\n\n")
    listed = result.output[len(heading) :].splitlines()[:-2]
    assert sorted(listed) == [
        root,
        f"{root}/pkg",
        f"{root}/pkg/mod.py",
        f"{root}/pkg/sub",
        f"{root}/setup.py",
    ]
    assert result.output == heading + box.shell(f"find {root} -maxdepth 2 -not -path '*/.*'").output + "\n\n"


def test_view_range_on_a_directory_is_an_error(box: Workspace) -> None:
    result = box.editor("view", box.root, "--view_range", "1", "2")
    answers(result, 10, "The `view_range` parameter is not allowed when `path` points to a directory.\n")


def test_view_of_a_long_python_file_shows_its_file_map(box: Workspace) -> None:
    body = "".join(f"    value_{n} = {n} * 1000  # a body line\n" for n in range(8))
    functions = "".join(f"def f{k}():\n{body}\n\n" for k in range(100))
    path = box.write("big.py", f'"""Many functions."""\n\n\n{functions}def short():\n    return 1\n')
    result = box.editor("view", path)
    assert result.exit_code == 0
    lines = result.output.split("\n")
    assert lines[0] == (
        "<NOTE>This file is too large to display entirely. Showing abbreviated version. Please use "
        "`str_replace_editor view` with the `view_range` parameter to show selected lines next.</NOTE>"
    )
    assert lines[1:9] == [
        '     1 """Many functions."""',
        "     2 ",
        "     3 ",
        "     4 def f0():",
        "     5 ... eliding lines 5-12 ...",
        "    13 ",
        "    14 ",
        "    15 def f1():",
    ]
    assert lines[-4:] == [
        "  1104 def short():",
        "  1105     return 1",
        "<IMPORTANT><NOTE>The above file has been abbreviated. Please use `str_replace editor view` with "
        "`view_range` to look at relevant files in detail.</NOTE></IMPORTANT>",
        "",
    ]


def test_long_output_is_clipped_with_swe_agents_note(box: Workspace) -> None:
    path = box.write("big.txt", "x" * 100 + "\n" * 1000 + "y" * 30000)
    result = box.editor("view", path)
    assert result.output.endswith(
        "y"
        * (16000 - 1100)
        + "<response clipped><NOTE>To save on context only part of this file has been shown to you. You "
        "should retry this tool after you have searched inside the file with `grep -n` in order to find the "
        "line numbers of what you are looking for.</NOTE>\n\n"
    )


# ---------------------------------------------------------------- paths


def test_relative_path_is_refused_with_the_absolute_suggestion(box: Workspace, sample: str) -> None:
    result = box.editor("view", "sample.py")
    answers(
        result,
        6,
        f"The path sample.py is not an absolute path, it should start with `/`. Maybe you meant {sample}?\n",
    )


@pytest.mark.parametrize("command", ["view", "str_replace", "insert", "undo_edit"])
def test_missing_path_is_an_error(box: Workspace, command: str) -> None:
    missing = box.path("missing.py")
    result = box.editor(command, missing, "--old_str", "a", "--new_str", "b", "--insert_line", "0")
    answers(result, 7, f"The path {missing} does not exist. Please provide a valid path.\n")


@pytest.mark.parametrize("command", ["str_replace", "insert", "undo_edit", "delete"])
def test_anything_but_view_on_a_directory_is_an_error(box: Workspace, command: str) -> None:
    result = box.editor(command, f"{box.root}/", "--old_str", "a", "--new_str", "b", "--insert_line", "0")
    message = "is a directory and only the `view` command can be used on directories"
    answers(result, 9, f"The path {box.root} {message}\n")


# ---------------------------------------------------------------- create


def test_create_writes_the_file_text(box: Workspace) -> None:
    path = box.path("new.py")
    answers(
        box.editor("create", path, "--file_text", "print('hi')\n"),
        0,
        f"File created successfully at: {path}\n",
    )
    assert box.read("new.py") == "print('hi')\n"


def test_create_over_an_existing_file_is_refused(box: Workspace, sample: str) -> None:
    result = box.editor("create", sample, "--file_text", "x")
    answers(result, 8, f"File already exists at: {sample}. Cannot overwrite files using command `create`.\n")
    assert box.read("sample.py") == TEN_LINES


def test_create_needs_file_text_and_an_existing_directory(box: Workspace) -> None:
    result = box.editor("create", box.path("a.py"))
    answers(result, 1, "Parameter `file_text` is required for command: create\n")
    nested = box.path("no/such/a.py")
    result = box.editor("create", nested, "--file_text", "x")
    answers(
        result, 21, f"The parent directory {box.path('no/such')} does not exist. Please create it first.\n"
    )


# ---------------------------------------------------------------- str_replace


def test_str_replace_edits_the_unique_occurrence_and_shows_a_snippet(box: Workspace, sample: str) -> None:
    result = box.editor("str_replace", sample, "--old_str", "line 8\n", "--new_str", "eight\nocho\n")
    lines = ["line 3", "line 4", "line 5", "line 6", "line 7", "eight", "ocho", "line 9", "line 10"]
    snippet = cat_n(f"a snippet of {sample}", lines, 3)
    answers(result, 0, f"The file {sample} has been edited. {snippet}{REVIEW}")
    assert box.read("sample.py").splitlines()[6:10] == ["line 7", "eight", "ocho", "line 9"]


def test_str_replace_snippet_shows_five_lines_above_and_three_below(box: Workspace) -> None:
    path = box.write("long.py", "".join(f"line {n}\n" for n in range(1, 21)))
    result = box.editor("str_replace", path, "--old_str", "line 10", "--new_str", "ten\nTEN")
    lines = [f"line {n}" for n in range(5, 10)] + ["ten", "TEN"] + [f"line {n}" for n in range(11, 14)]
    answers(result, 0, f"The file {path} has been edited. {cat_n(f'a snippet of {path}', lines, 5)}{REVIEW}")


def test_str_replace_without_new_str_deletes(box: Workspace, sample: str) -> None:
    assert box.editor("str_replace", sample, "--old_str", "line 10\n").exit_code == 0
    assert box.read("sample.py") == TEN_LINES.replace("line 10\n", "")


def test_str_replace_refuses_a_non_unique_old_str_and_names_the_lines(box: Workspace, sample: str) -> None:
    result = box.editor("str_replace", sample, "--old_str", "line 1", "--new_str", "x")
    message = "Multiple occurrences of old_str `line 1` in lines [1, 10]. Please ensure it is unique"
    answers(result, 16, f"No replacement was performed. {message}\n")
    # SWE-agent names only the lines that hold the whole of old_str: none when it spans lines.
    path = box.write("twice.py", "a\nb\na\nb\n")
    result = box.editor("str_replace", path, "--old_str", "a\nb", "--new_str", "x")
    answers(result, 16, "No replacement was performed. Multiple occurrences of old_str `a\nb` in lines []. "
                        "Please ensure it is unique\n")  # fmt: skip
    assert box.read("sample.py") == TEN_LINES


def test_str_replace_refuses_a_missing_old_str(box: Workspace, sample: str) -> None:
    result = box.editor("str_replace", sample, "--old_str", "line 11", "--new_str", "x")
    answers(
        result, 15, f"No replacement was performed, old_str `line 11` did not appear verbatim in {sample}.\n"
    )
    result = box.editor("str_replace", sample, "--new_str", "x")
    answers(result, 2, "Parameter `old_str` is required for command: str_replace\n")
    assert box.read("sample.py") == TEN_LINES


def test_str_replace_refuses_identical_strings(box: Workspace, sample: str) -> None:
    result = box.editor("str_replace", sample, "--old_str", "line 3", "--new_str", "line 3")
    answers(result, 161, "No replacement was performed, old_str `line 3` is the same as new_str `line 3`.\n")


def test_str_replace_matches_tabs_as_the_view_shows_them(box: Workspace) -> None:
    path = box.write("tabs.py", "if x:\n\treturn 1\n")
    result = box.editor("str_replace", path, "--old_str", "        return 1", "--new_str", "\treturn 2")
    assert result.exit_code == 0
    assert box.read("tabs.py") == "if x:\n        return 2\n"


# ---------------------------------------------------------------- insert


def test_insert_puts_new_str_after_the_given_line(box: Workspace, sample: str) -> None:
    result = box.editor("insert", sample, "--insert_line", "6", "--new_str", "new A\nnew B")
    lines = [
        "line 3",
        "line 4",
        "line 5",
        "line 6",
        "new A",
        "new B",
        "line 7",
        "line 8",
        "line 9",
        "line 10",
    ]
    snippet = cat_n("a snippet of the edited file", lines, 3)
    answers(result, 0, f"The file {sample} has been edited. {snippet}{REVIEW_INSERT}")
    assert box.read("sample.py").splitlines()[5:9] == ["line 6", "new A", "new B", "line 7"]


def test_insert_at_zero_puts_new_str_first(box: Workspace, sample: str) -> None:
    result = box.editor("insert", sample, "--insert_line", "0", "--new_str", "import os")
    snippet = cat_n("a snippet of the edited file", ["import os", "line 1", "line 2", "line 3", "line 4"])
    answers(result, 0, f"The file {sample} has been edited. {snippet}{REVIEW_INSERT}")
    assert box.read("sample.py") == "import os\n" + TEN_LINES


@pytest.mark.parametrize("line", ["-1", "12"])
def test_insert_line_out_of_range_is_an_error(box: Workspace, sample: str, line: str) -> None:
    result = box.editor("insert", sample, "--insert_line", line, "--new_str", "x")
    message = f"Invalid `insert_line` parameter: {line}. It should be within the range of lines of the file"
    answers(result, 17, f"{message}: [0, 11]\n")
    assert box.read("sample.py") == TEN_LINES


def test_insert_needs_insert_line_and_new_str(box: Workspace, sample: str) -> None:
    answers(
        box.editor("insert", sample, "--new_str", "x"),
        3,
        "Parameter `insert_line` is required for command: insert\n",
    )
    answers(
        box.editor("insert", sample, "--insert_line", "1"),
        4,
        "Parameter `new_str` is required for command: insert\n",
    )


# ---------------------------------------------------------------- undo_edit


def test_undo_edit_reverts_edits_one_by_one_across_invocations(box: Workspace, sample: str) -> None:
    box.editor("str_replace", sample, "--old_str", "line 2\n", "--new_str", "two\n")
    after_first = box.read("sample.py")
    box.editor("insert", sample, "--insert_line", "0", "--new_str", "zero")
    result = box.editor("undo_edit", sample)
    shown = cat_n(sample, after_first.split("\n"))
    answers(result, 0, f"Last edit to {sample} undone successfully. {shown}\n")
    assert box.read("sample.py") == after_first
    assert box.editor("undo_edit", sample).exit_code == 0
    assert box.read("sample.py") == TEN_LINES
    answers(box.editor("undo_edit", sample), 18, f"No edit history found for {sample}.\n")


def test_undo_edit_restores_the_text_as_swe_agent_kept_it_tabs_expanded(box: Workspace) -> None:
    path = box.write("Makefile", "all:\n\techo hi\n")
    box.editor("str_replace", path, "--old_str", "hi", "--new_str", "ho")
    assert box.editor("undo_edit", path).exit_code == 0
    assert box.read("Makefile") == "all:\n        echo hi\n"


def test_undo_edit_after_create_keeps_the_created_text(box: Workspace) -> None:
    path = box.path("new.py")
    box.editor("create", path, "--file_text", "x = 1\n")
    answers(
        box.editor("undo_edit", path),
        0,
        f"Last edit to {path} undone successfully. {cat_n(path, ['x = 1', ''])}\n",
    )


def test_history_is_kept_per_file(box: Workspace, sample: str) -> None:
    other = box.write("other.py", "x = 1\n")
    box.editor("str_replace", other, "--old_str", "x = 1", "--new_str", "x = 2")
    assert box.editor("undo_edit", sample).exit_code == 18
    assert box.editor("undo_edit", other).exit_code == 0
    assert box.read("other.py") == "x = 1\n"


# ---------------------------------------------------------------- command line


def test_unknown_command_and_malformed_command_lines_are_errors(box: Workspace, sample: str) -> None:
    allowed = '"view", "create", "str_replace", "insert", "undo_edit"'
    answers(
        box.editor("delete", sample),
        5,
        f"Unrecognized command delete. The allowed commands for the str_replace_editor tool are: {allowed}\n",
    )
    unknown = box.editor("view", sample, "--old-str", "x")
    assert unknown.exit_code == 2
    assert unknown.output.endswith("str_replace_editor: error: unrecognized arguments: --old-str x\n")
    no_path = box.editor("view")
    assert no_path.exit_code == 2
    assert no_path.output.endswith("str_replace_editor: error: the following arguments are required: path\n")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("line 4\n", "s = 'it''s'; t = \"q\" + `x` + $HOME + \\n\n"),
        ("line 5", "--new_str looks like an option"),
        ("line 6\nline 7", "émoji ✓ 漢字\n\ttabbed\n\n"),
    ],
)
def test_arguments_survive_the_shlex_round_trip(box: Workspace, sample: str, old: str, new: str) -> None:
    action = shlex.join(["str_replace_editor", "str_replace", sample, "--old_str", old, "--new_str", new])
    assert shlex.split(action)[-1] == new
    result = box.shell(action)
    assert result.exit_code == 0, result.output
    assert box.read("sample.py") == TEN_LINES.replace(old, new.expandtabs())


def test_option_with_equals_sign_is_accepted(box: Workspace, sample: str) -> None:
    assert box.editor("str_replace", sample, "--old_str=line 3", "--new_str=three").exit_code == 0
    assert "three\n" in box.read("sample.py")


def test_tools_parse_as_python_3_5() -> None:
    for name in TOOL_NAMES:
        source = (TOOLS_DIR / name).read_text()
        assert source.startswith("#!/usr/bin/env python3\n")
        ast.parse(source, filename=name, feature_version=(3, 5))


def docker_image_present(image: str) -> bool:
    """Returns whether a docker CLI is installed and can inspect `image`."""
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0


def install_tools(tmp_path: Path) -> Path:
    """Writes tool_files() under tmp_path as a sandbox holds them; returns the host copy of INSTALL_DIR."""
    for install_path, content in tool_files().items():
        target = tmp_path / "root" / install_path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        target.chmod(TOOL_MODE)
    return tmp_path / "root" / INSTALL_DIR.lstrip("/")
