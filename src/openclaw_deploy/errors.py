"""One exception family for everything a user can be told about.

Each error carries a message (what went wrong), a hint (the command or step that fixes it) and an
exit code. The CLI prints message and hint and exits with the code; anything else that escapes is
a bug, reported as such. Messages must never contain a secret value.
"""

from __future__ import annotations

from typing import ClassVar


class DeployError(Exception):
    """Base of every error the CLI reports cleanly."""

    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(DeployError):
    """Bad or missing input: a flag, a value, an answer that no prompt could ask for."""

    exit_code = 2


class MissingInputError(UsageError):
    """A required answer is missing and prompting is off (--yes, CI=true or no terminal)."""

    def __init__(self, what: str, *, flag: str, env: str | None = None) -> None:
        source = f"pass {flag}" + (f" or set {env}" if env else "")
        super().__init__(f"{what} is required and there is no terminal to ask on.", hint=source)
        self.flag = flag


class ConfigError(DeployError):
    """The config file is missing, malformed or does not hold what was asked for."""

    exit_code = 3


class CredentialsError(DeployError):
    """No usable AWS credentials, or they were refused."""

    exit_code = 4


class AwsError(DeployError):
    """An AWS call failed for a reason the user can act on."""

    exit_code = 5


class CheckFailedError(DeployError):
    """A validation call (LLM key, Telegram token) said no."""

    exit_code = 6


class ToolchainError(DeployError):
    """Node, npm or a pinned npm tool could not be installed or run."""

    exit_code = 7


class DeployFailedError(DeployError):
    """A deployment or removal did not finish; the message lists each failed resource's reason."""

    exit_code = 8


class NotFoundError(DeployError):
    """Something named by the user does not exist (a deployment, a pairing code, a component)."""

    exit_code = 9


class AbortedError(DeployError):
    """The user said no at a confirmation, or pressed Ctrl-C."""

    exit_code = 130
