"""ECS ListTasks filter rules, as AWS documents and enforces them (moto accepts anything).

From the ECS API reference (ListTasks, `startedBy`): "When you specify startedBy as the
filter, it must be the only filter that you use" — the service answers
`InvalidParameterException: cannot specify startedBy with other arguments`. It likewise refuses
`serviceName` with other selectors ("cannot specify serviceName with other arguments"), and
`family` cannot be combined with `serviceName`. We accept at most one of the selectors below,
and nothing else beside `startedBy`: stricter than AWS where it is vague, never looser.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

SCOPE: Final = frozenset({"cluster", "maxResults", "nextToken", "PaginationConfig"})
"""Not filters: where to look and how to page."""
SELECTORS: Final = ("startedBy", "serviceName", "family", "containerInstance")
"""Mutually exclusive selectors."""
ALONE: Final = frozenset({"startedBy"})
"""Selectors that take no other filter at all (not even desiredStatus or launchType)."""


def list_tasks_problem(params: Iterable[str] | Mapping[str, Any]) -> str | None:
    """Why ECS would refuse a ListTasks call with these parameters (None: it accepts them)."""
    names = {name for name in params if name not in SCOPE}
    selectors = [name for name in SELECTORS if name in names]
    if len(selectors) > 1:
        return f"ListTasks cannot combine {' and '.join(selectors)}"
    for name in selectors:
        if name in ALONE and len(names) > 1:
            others = ", ".join(sorted(names - {name}))
            return f"ListTasks: {name} must be the only filter (also given: {others})"
    return None


class InvalidListTasksError(AssertionError):
    """A ListTasks call AWS would refuse."""


def validate_list_tasks(params: Mapping[str, Any], **_: Any) -> None:
    """A botocore `before-parameter-build.ecs.ListTasks` hook: fail the call as AWS would."""
    problem = list_tasks_problem(params)
    if problem is not None:
        raise InvalidListTasksError(problem)
