"""Reproduction tests as Agentless generates them: the model writes one standalone Python script from the
issue that prints "Issue reproduced" while the bug is there, "Issue resolved" once it is fixed and "Other
issues" otherwise. A script is kept when it prints "Issue reproduced" on the original code; a candidate
patch passes a kept script when the script then prints "Issue resolved"."""

from __future__ import annotations

import ast
import re

from agents.policies import Conversation
from agents.swe_rl import extract_solution
from agents.swe_rl_prompts import DEFAULT_TEXTS, PromptTexts

REPRODUCED, RESOLVED, OTHER = "Issue reproduced", "Issue resolved", "Other issues"

REPRODUCTION_TEMPLATE = f"""\
We are working on the following issue in our repository. The issue:
--- BEGIN ISSUE ---
{{problem_statement}}
--- END ISSUE ---

Write one complete, standalone Python test script that reproduces this issue. It must:
1. import what it needs;
2. run the code that the issue describes;
3. print "{REPRODUCED}" when the outcome shows the issue is still there;
4. print "{RESOLVED}" when the outcome shows the issue has been fixed;
5. print "{OTHER}" when something else goes wrong (e.g. an unexpected exception).

For example:

```python
from mypackage import parse

def test_parse_keeps_trailing_zero():
    try:
        value = parse("1.10")
    except Exception:
        print("{OTHER}")
        return
    if str(value) == "1.10":
        print("{RESOLVED}")
    else:
        print("{REPRODUCED}")

test_parse_keeps_trailing_zero()
```

The script must tell, from the same code, both that the issue is present and that it has been fixed. \
Wrap the whole script in ```python ... ```."""

_PYTHON = re.compile(r"```python(.*?)```", re.DOTALL)


def reproduction_prompt(
    problem_statement: str, thinking: bool = True, texts: PromptTexts = DEFAULT_TEXTS
) -> Conversation:
    """Return the conversation asking for one reproduction script (with the thinking system prompt of
    ``texts`` when ``thinking``)."""
    system = [{"role": "system", "content": texts.system}] if thinking else []
    user = REPRODUCTION_TEMPLATE.format(problem_statement=problem_statement.strip())
    return [*system, {"role": "user", "content": user}]


def extract_test(reply: str) -> str | None:
    """Return the first ```python block of the reply's answer, stripped (None when there is none or it is
    blank)."""
    match = _PYTHON.search(extract_solution(reply))
    code = match.group(1).strip() if match else ""
    return code or None


def normalized_test(code: str) -> str:
    """Return ``code`` with formatting and comments normalized (``ast.unparse``), or as it is when it does
    not parse; equal scripts then compare equal."""
    try:
        return ast.unparse(ast.parse(code))
    except (SyntaxError, ValueError):
        return code.strip()
