"""The prompt texts of SWE-RL's protocol (oracle repair and Agentless-mini localization), in our own words.

SWE-RL (Wei et al. 2025, arXiv 2502.18449) fixes a *format*: a system prompt asking for reasoning inside
``<think>…</think>`` and the answer inside ``<solution>…</solution>``; a repair turn with the issue between
``--- BEGIN ISSUE ---`` / ``--- END ISSUE ---`` and the files between ``--- BEGIN FILE ---`` /
``--- END FILE ---`` (one fence, each file as ``### path`` then its text), answered by ``### path`` +
SEARCH/REPLACE edits in ```python blocks; a localization turn with the issue and the repository's tree,
answered by paths in one fence. The texts below keep that format exactly and say it in our words: SWE-RL's
released wording is theirs (and under a non-commercial licence), so it is not shipped here.

For a word-for-word reproduction of the paper's numbers, put SWE-RL's own templates in a YAML file with the
keys ``system``, ``repair`` and ``localization`` (placeholders ``{problem_statement}``, ``{content}``;
``{problem_statement}``, ``{structure}``, ``{n}``) and pass it as ``--prompt-texts FILE``.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, fields
from pathlib import Path

SYSTEM = """\
Solve the task the user gives you in two parts. First reason about it freely, as on scratch paper, for as \
long as you need to be sure of your answer. Then give the final answer.

Reply in exactly this form:
<think>
your reasoning
</think>
<solution>
your final answer
</solution>"""

REPAIR = """\
Here is an issue reported against our repository:
--- BEGIN ISSUE ---
{problem_statement}
--- END ISSUE ---

Here is the full text of the files that matter for it; the bug is in one or more of them.

--- BEGIN FILE ---
```
{content}
```
--- END FILE ---

Find where the bug is, then fix it with *SEARCH/REPLACE* edits. Write each edit as:
1. a line `### ` followed by the file's path
2. the line <<<<<<< SEARCH
3. consecutive lines copied exactly from the file
4. the line =======
5. the lines that take their place
6. the line >>>>>>> REPLACE

For example:

```python
### src/shapes/area.py
<<<<<<< SEARCH
def area(width, height):
    return width + height
=======
def area(width, height):
    return width * height
>>>>>>> REPLACE
```

Indentation matters: copy and write every line with all of its leading spaces. Put each edit in a ```python \
block of its own."""

LOCALIZATION = """\
Read the GitHub issue and the structure of the repository below, and list the files one would need to look \
at or edit to resolve the issue.

### GitHub Problem Description ###
{problem_statement}

###

### Repository Structure ###
{structure}

###

Give at most {n} files, each as its full path on a line of its own, the most important first, all inside one \
``` block, like this:

```
path/to/most_important.py
path/to/next.py
```"""

PLACEHOLDERS = {
    "system": set(),
    "repair": {"problem_statement", "content"},
    "localization": {"problem_statement", "structure", "n"},
}
"""The placeholders each template must use, and may only use."""


class PromptTextsError(ValueError):
    """A prompt-texts file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class PromptTexts:
    """The three texts of SWE-RL's protocol: the thinking system prompt and the two user templates."""

    system: str = SYSTEM
    repair: str = REPAIR
    localization: str = LOCALIZATION


DEFAULT_TEXTS = PromptTexts()


def load_prompt_texts(path: str | Path | None) -> PromptTexts:
    """Return the texts of a YAML/JSON file with keys ``system``, ``repair``, ``localization`` (a missing key
    keeps our text), or ours when ``path`` is None; PromptTextsError naming the file and key otherwise."""
    if path is None:
        return DEFAULT_TEXTS
    import yaml

    try:
        values = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise PromptTextsError(
            f"--prompt-texts {path}: cannot read it ({str(error).splitlines()[0]})"
        ) from None
    known = {f.name for f in fields(PromptTexts)}
    if not isinstance(values, dict) or not set(values) <= known:
        raise PromptTextsError(
            f"--prompt-texts {path}: expected a mapping with keys {', '.join(sorted(known))}"
            + (f", got {', '.join(sorted(set(values) - known))}" if isinstance(values, dict) else "")
        )
    for key, text in values.items():
        if not isinstance(text, str) or not text.strip():
            raise PromptTextsError(f"--prompt-texts {path}: {key} must be non-empty text")
        used = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        if used != PLACEHOLDERS[key]:
            wanted, found = (
                ", ".join("{" + p + "}" for p in sorted(names)) for names in (PLACEHOLDERS[key], used)
            )
            raise PromptTextsError(
                f"--prompt-texts {path}: {key} must use {wanted or 'no placeholders'} (found: "
                f"{found or 'none'}; write literal braces as {{{{ and }}}})"
            )
    return PromptTexts(**values)
