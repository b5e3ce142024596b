"""Interactive stepping: a person types actions into SWEEnv, sees observations, compares with the expert.

Lines starting with ':' are commands (`:help` lists them); any other line is an action. An action whose
quotes or here-doc are still open, or whose line ends with a backslash, continues on the next line. Line
editing and history come from readline (history kept in $XDG_CACHE_HOME/srl_swe/interactive_history).
Ctrl-C stops a running action (the shell stays); Ctrl-D or `:quit` leaves and removes the container.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from envs.replay import StepReplay, replay
from envs.wrappers import ExpertAware

HELP = {
    ":help": "this list",
    ":problem": "show the problem statement again",
    ":expert": "run the expert's step at the cursor, then move the cursor to the expert's next step",
    ":next": "show the expert's step at the cursor (action, recorded observation) without moving it",
    ":sim": "similarity of your last action to the expert's step at the cursor then (the SRL reward)",
    ":diff": "the current patch against the base commit",
    ":reset [fresh]": "restore the repository (fresh: in a new container)",
    ":replay": "reset, replay the expert's actions and report where observations diverge",
    ":submit": "grade the current patch with the tests and end the episode",
    ":quit": "leave (also Ctrl-D)",
}
_FAILURES_SHOWN = 20
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")


def history_path() -> Path:
    """Returns the file that keeps the prompt's history."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "srl_swe" / "interactive_history"


def action_is_complete(text: str) -> bool:
    """Returns whether `text` is a whole action: quotes closed, no trailing backslash, here-docs ended."""
    if text.endswith("\\"):
        return False
    lines = text.split("\n")
    for number, line in enumerate(lines):
        for match in _HEREDOC.finditer(line):
            if match.group(2) not in (rest.strip() for rest in lines[number + 1 :]):
                return False
    try:
        shlex.split(_HEREDOC.sub("", text))
    except ValueError:
        return False
    return True


class InteractiveSession:
    """The prompt's state: the expert-aware env, the last step's info, and where output goes."""

    def __init__(self, env: ExpertAware, console: Console) -> None:
        self.env = env
        self.console = console
        self.last_info: dict | None = None
        self.problem = ""
        self._commands: dict[str, Callable[[str], None]] = {
            ":help": self.show_help,
            ":problem": lambda _: self._print_text(self.problem),
            ":expert": self.run_expert_action,
            ":next": self.show_expert,
            ":sim": self.show_similarity,
            ":diff": self.show_diff,
            ":reset": self.reset,
            ":replay": self.replay_expert,
            ":submit": self.submit,
        }

    def start(self) -> None:
        """Resets the env and shows the problem statement; returns nothing."""
        self.reset("")

    def handle(self, line: str) -> bool:
        """Runs one command or action; returns False when the session should end."""
        text = line.strip()
        if not text:
            return True
        if text.startswith(":"):
            name, _, argument = text.partition(" ")
            if name in (":quit", ":q", ":exit"):
                return False
            command = self._commands.get(name)
            if command is None:
                self.console.print(f"[red]unknown command {escape(name)}[/] (:help lists them)")
            else:
                command(argument.strip())
            return True
        self.act(line)
        return True

    def act(self, action: str) -> None:
        """Runs `action` in the env and prints its observation, exit code and similarity."""
        if self.env.unwrapped.episode_over:
            self.console.print("[yellow]the episode is over: :reset to start again[/]")
            return
        observation, reward, terminated, truncated, info = self.env.step(action)
        self.last_info = info
        self._print_text(observation)
        code = info["exit_code"]
        status = f"[green]exit {code}[/]" if code == 0 else f"[red]exit {code}[/]"
        extras = [status, f"{info['duration_s']:.2f} s"]
        if info["timed_out"]:
            extras.append("[red]timed out[/]")
        if info.get("similarity") is not None:
            extras.append(f"similarity [yellow]{info['similarity']:.3f}[/]")
        self.console.print("[dim]" + " · ".join(extras) + "[/]")
        if terminated or truncated:
            self._print_outcome(reward, info)

    def show_help(self, _: str) -> None:
        """Prints the commands."""
        for name, text in HELP.items():
            self.console.print(f"  [cyan]{escape(f'{name:<16}')}[/] {text}")
        self.console.print("  anything else is an action: a bash command, a tool call, or submit")
        self.console.print(
            "  the expert cursor moves only with :expert; an action you type is compared with the expert's "
            "step at the cursor and leaves it there; :reset and :replay put it back at step 0"
        )

    def show_expert(self, _: str) -> None:
        """Prints the expert's step at the cursor (its action and recorded observation); the cursor stays."""
        step = self.env.next_expert_step()
        if step is None:
            self.console.print("[yellow]the expert has no more steps[/]")
            return
        self.console.print(f"[magenta]expert step {self.env.expert_index}:[/]")
        self._print_text(step.action, style="magenta")
        if step.observation is not None:
            self.console.print("[dim]recorded observation:[/]")
            self._print_text(step.observation, style="dim")

    def run_expert_action(self, _: str) -> None:
        """Runs the expert's step at the cursor as if typed, then moves the cursor to its next step."""
        step = self.env.next_expert_step()
        if step is None:
            self.console.print("[yellow]the expert has no more steps[/]")
            return
        if self.env.unwrapped.episode_over:
            self.console.print("[yellow]the episode is over: :reset to start again[/]")
            return
        self.console.print(f"[magenta]expert step {self.env.expert_index}: $ {escape(step.action)}[/]")
        self.act(step.action)
        self.env.advance()

    def show_similarity(self, _: str) -> None:
        """Prints the SRL similarity of the last action to the expert's action at that step."""
        info = self.last_info
        if info is None or info.get("expert_action") is None:
            self.console.print("[yellow]no action compared yet (or the expert had no step there)[/]")
            return
        self.console.print(
            f"similarity [yellow]{info['similarity']:.4f}[/] to expert step {info['expert_step']}:"
        )
        self._print_text(info["expert_action"], style="magenta")

    def show_diff(self, _: str) -> None:
        """Prints the current patch."""
        patch = self.env.unwrapped.current_patch()
        self._print_text(patch or "(no change)\n", style=None if patch else "dim")

    def reset(self, argument: str) -> None:
        """Resets the env (fresh container with 'fresh') and shows the problem statement."""
        self.console.print("[dim]resetting ...[/]")
        self.problem, info = self.env.reset(options={"fresh": argument == "fresh"})
        self.last_info = None
        kind = "fresh container" if info["fresh"] else "warm"
        self.console.print(
            f"[bold]{escape(info['instance_id'])}[/] [dim]({kind} reset, {info['reset_s']:.2f} s)[/]"
        )
        self._print_text(self.problem)

    def replay_expert(self, _: str) -> None:
        """Replays the expert from a reset and prints each step, the divergences and the outcome."""
        report = replay(self.env, self.env.expert_steps, on_step=self._print_replayed)
        divergence = report.first_divergence
        where = "none" if divergence is None else f"step {divergence}"
        self.console.print(f"first divergence from the recording: {where}")
        self._print_outcome(report.reward, report.final_info)

    def submit(self, _: str) -> None:
        """Grades the current patch and prints the test results."""
        if self.env.unwrapped.episode_over:
            self.console.print("[yellow]the episode is over: :reset to start again[/]")
            return
        self.console.print("[dim]grading ...[/]")
        reward, outcome = self.env.unwrapped.submit_current_patch()
        self._print_outcome(reward, outcome)

    def _print_replayed(self, step: StepReplay) -> None:
        mark = {True: "[green]same[/]", False: "[red]differs[/]", None: "[dim]no recording[/]"}[step.matches]
        first = step.action.splitlines()[0] if step.action else ""
        self.console.print(f"[magenta]{step.index:>3}[/] exit {step.exit_code} {mark} {escape(first[:90])}")

    def _print_outcome(self, reward: float, info: dict) -> None:
        grade = info.get("grade")
        if grade is None:
            self.console.print(f"[bold]episode over[/], reward {reward}")
            return
        colour = "green" if info.get("resolved") else "red"
        self.console.print(f"[bold {colour}]resolved: {info.get('resolved')}[/] reward {reward}")
        for group, outcome in grade.get("report", {}).get("tests_status", {}).items():
            for verdict, tests in outcome.items():
                if tests:
                    self.console.print(f"  {group} {verdict}: {len(tests)}")
                if verdict == "failure":
                    for test in tests[:_FAILURES_SHOWN]:
                        self.console.print(f"    [red]{escape(test)}[/]")
        if grade.get("error"):
            self.console.print(f"[red]{escape(grade['error'])}[/]")
        for message in (grade.get("rejected"), *(f"stripped {c['path']}" for c in grade.get("stripped", []))):
            if message:
                self.console.print(f"[yellow]{escape(message)}[/]")

    def _print_text(self, text: str, style: str | None = None) -> None:
        self.console.print(
            text, style=style, markup=False, highlight=False, end="" if text.endswith("\n") else "\n"
        )


def read_action(prompt: str, continuation: str) -> str:
    """Reads one line, and more while the action is incomplete; returns it. Raises EOFError at the end."""
    text = input(prompt)
    while not text.startswith(":") and not action_is_complete(text):
        text += "\n" + input(continuation)
    return text


def run_session(session: InteractiveSession, colour: bool) -> None:
    """Runs the prompt until :quit or end of input; returns nothing."""
    try:
        import readline
    except ImportError:  # no line editing on this platform; input() still works
        readline = None
    history = history_path()
    if readline is not None:
        history.parent.mkdir(parents=True, exist_ok=True)
        if history.exists():
            readline.read_history_file(history)
    # \001 and \002 tell readline that the escapes take no room, so line editing stays aligned.
    prompt = "\001\033[1;36m\002swe>\001\033[0m\002 " if colour else "swe> "
    continuation = "\001\033[2m\002...>\001\033[0m\002 " if colour else "...> "
    session.start()
    try:
        while True:
            try:
                line = read_action(prompt, continuation)
            except KeyboardInterrupt:
                session.console.print()
                continue
            except EOFError:
                session.console.print()
                break
            try:
                if not session.handle(line):
                    break
            except KeyboardInterrupt:
                session.console.print("[yellow]interrupted[/]")
    finally:
        if readline is not None:
            readline.write_history_file(history)
