"""Tiny helpers for DynamoDB's low-level attribute format (no boto3 resource layer: it is slow to
import and turns every number into a Decimal)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from collections.abc import Mapping

Item = dict[str, Any]
"""One item as the low-level client returns it: {"name": {"S": "..."}, ...}."""


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: float) -> dict[str, str]:
    # repr keeps every digit of a float; integers stay integers.
    return {"N": str(value) if isinstance(value, int) else repr(float(value))}


def get_s(item: Mapping[str, Any], name: str, default: str | None = None) -> str | None:
    value = item.get(name)
    if isinstance(value, dict) and "S" in value:
        return str(value["S"])
    return default


def get_n(item: Mapping[str, Any], name: str, default: float | None = None) -> float | None:
    value = item.get(name)
    if isinstance(value, dict) and "N" in value:
        try:
            return float(value["N"])
        except ValueError:
            return default
    return default


def get_int(item: Mapping[str, Any], name: str, default: int = 0) -> int:
    """An integer attribute read exactly (Telegram ids exceed what a float keeps safely)."""
    value = item.get(name)
    if isinstance(value, dict) and "N" in value:
        try:
            return int(value["N"])
        except ValueError:
            number = get_n(item, name)
            return int(number) if number is not None else default
    return default


def number_map(values: Mapping[str, float]) -> dict[str, Any]:
    return {"M": {key: n(value) for key, value in values.items()}}


def get_number_map(item: Mapping[str, Any], name: str) -> dict[str, float]:
    value = item.get(name)
    if not isinstance(value, dict) or not isinstance(value.get("M"), dict):
        return {}
    out: dict[str, float] = {}
    for key, entry in value["M"].items():
        number = get_n({key: entry}, key)
        if number is not None:
            out[key] = number
    return out


def is_condition_failure(error: ClientError) -> bool:
    """True when a conditional write lost (someone else changed the item first)."""
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
