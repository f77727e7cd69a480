"""Asking the user for what is missing — and refusing to ask when nobody can answer.

Every question names the flag (and environment variable) that answers it without a prompt. With
`--yes`, `CI=true` or no terminal, a missing answer is a MissingInputError naming that flag.
At a terminal the questions use questionary; `OPENCLAW_DEPLOY_PROMPTS=plain` asks line by line on
stdin instead (for pipes and for tests that type the answers). Ctrl-C propagates as
KeyboardInterrupt, which the CLI turns into exit 130 before anything is written.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Final, TextIO

from openclaw_deploy.errors import MissingInputError, UsageError

ENV_PROMPTS: Final = "OPENCLAW_DEPLOY_PROMPTS"
Validator = Callable[[str], str | None]
"""Returns an error message for a bad answer, None for a good one."""


def prompting_mode(*, assume_yes: bool, stdin: TextIO | None = None) -> str:
    """'tty', 'plain' or 'off'."""
    stream = stdin or sys.stdin
    forced = os.environ.get(ENV_PROMPTS, "").lower()
    if assume_yes or forced == "off":
        return "off"
    if forced == "plain":
        return "plain"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        return "off"
    try:
        return "tty" if stream.isatty() else "off"
    except (AttributeError, ValueError):
        return "off"


class Prompter:
    def __init__(self, mode: str, *, stdin: TextIO | None = None, stderr: TextIO | None = None):
        self.mode = mode
        self._stdin = stdin or sys.stdin
        self._stderr = stderr or sys.stderr

    @property
    def interactive(self) -> bool:
        return self.mode != "off"

    def _explain(self, why: str | None) -> None:
        """Why a question is asked and where its answer comes from, just above the question."""
        if why:
            self._stderr.write(f"\n{why}\n")
            self._stderr.flush()

    def problem(self, message: str) -> None:
        """A refused answer, said right below the question it answers (not at the screen's
        bottom row, where questionary's own validation would put it)."""
        self._stderr.write(f"  ✗ {message}\n")
        self._stderr.flush()

    def _plain(self, question: str, default: str | None) -> str:
        suffix = f" [{default}]" if default else ""
        self._stderr.write(f"{question}{suffix}: ")
        self._stderr.flush()
        line = self._stdin.readline()
        if line == "":
            raise KeyboardInterrupt  # end of input mid-question: treat as an interruption
        answer = line.rstrip("\r\n").strip()
        return answer or (default or "")

    def text(
        self,
        question: str,
        *,
        flag: str,
        env: str | None = None,
        default: str | None = None,
        validate: Validator | None = None,
        why: str | None = None,
    ) -> str:
        if not self.interactive:
            raise MissingInputError(question, flag=flag, env=env)
        self._explain(why)
        while True:
            if self.mode == "tty":
                import questionary

                answer = questionary.text(question, default=default or "").unsafe_ask()
            else:
                answer = self._plain(question, default)
            answer = (answer or "").strip()
            problem = validate(answer) if validate else (None if answer else "an answer is needed")
            if problem is None:
                return answer
            self.problem(problem)

    def secret(
        self,
        question: str,
        *,
        flag: str,
        env: str | None,
        keep_existing: bool,
        why: str | None = None,
        explain: bool = True,
    ) -> str | None:
        """A hidden answer. With `keep_existing`, an empty answer keeps the stored secret (None).
        `explain=False` when asking again after a refused answer (the reason was said once)."""
        if not self.interactive:
            if keep_existing:
                return None
            raise MissingInputError(question, flag=flag, env=env)
        if explain:
            self._explain(why)
        hint = " (Enter keeps the stored one: ***)" if keep_existing else ""
        while True:
            if self.mode == "tty":
                import questionary

                answer = questionary.password(question + hint).unsafe_ask() or ""
            else:
                answer = self._plain(question + hint, None)
            answer = answer.strip()
            if answer:
                return answer
            if keep_existing:
                return None
            self.problem("an answer is needed")

    def select(
        self,
        question: str,
        choices: Sequence[tuple[str, str]],
        *,
        flag: str,
        env: str | None = None,
        default: str | None = None,
        why: str | None = None,
    ) -> str:
        """Pick one of (value, label) pairs."""
        values = [value for value, _ in choices]
        if not self.interactive:
            raise MissingInputError(question, flag=flag, env=env)
        self._explain(why)
        if self.mode == "tty":
            import questionary

            picked = questionary.select(
                question,
                choices=[questionary.Choice(title=label, value=value) for value, label in choices],
                default=default if default in values else None,
            ).unsafe_ask()
            return str(picked)
        options = ", ".join(values)
        while True:
            answer = self._plain(f"{question} ({options})", default)
            if answer in values:
                return answer
            self.problem(f"choose one of: {options}")

    def confirm(self, question: str, *, default: bool = False, flag: str = "--yes") -> bool:
        if not self.interactive:
            raise UsageError(
                f"{question} — confirmation is needed and there is no terminal to ask on.",
                hint=f"pass {flag} to confirm",
            )
        if self.mode == "tty":
            import questionary

            return bool(questionary.confirm(question, default=default).unsafe_ask())
        answer = self._plain(f"{question} [{'Y/n' if default else 'y/N'}]", None).lower()
        return default if not answer else answer in ("y", "yes")
