"""`openclaw-deploy status`: the deployment, its URLs, the agent, its memory, Telegram and this
month's task time with its cost."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

import typer
from rich.console import Console
from rich.markup import escape

from openclaw_deploy.cli.common import (
    JsonOption,
    NameOption,
    TargetOption,
    app_context,
    resolve_deployment,
)
from openclaw_deploy.output import emit, recommend

if TYPE_CHECKING:
    from openclaw_deploy.services.alarms import MonitoringInfo
    from openclaw_deploy.services.status import StatusReport, TelegramInfo

HELP: Final = """Show the deployment, the agent, its memory, Telegram and this month's cost.

Where it runs and the stack's state (with the reasons of a failed deploy), when it was last
deployed, its URLs, the agent's state and since when, the phase timings of its last start and
why it last stopped, its memory (last backup), Telegram's own view of the webhook (pending
updates, last error), and this month's task hours with their cost. Fast: it only reads state.

Examples:

\b
  openclaw-deploy status
  openclaw-deploy status --target local --json
"""
EMAIL_PENDING: Final = (
    "[yellow]not confirmed yet[/]: click the link in the email from AWS Notifications; until "
    "then no alarm or budget email arrives"
)
URL_LABELS: Final = {
    "web": "web chat",
    "http_api": "http api",
    "websocket": "websocket",
    "telegram_webhook": "telegram hook",
}


def _ago(epoch: float | None) -> str:
    if not epoch:
        return "-"
    seconds = max(0, time.time() - epoch)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit} ago"
    return f"{seconds:.0f}s ago"


def hours_text(hours: float) -> str:
    """Task time as a person reads it: minutes under an hour."""
    return f"{hours * 60:.0f} min" if hours < 1 else f"{hours:.1f} h"


def _when(epoch: float | None) -> str:
    if not epoch:
        return "-"
    stamp = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{stamp} ({_ago(epoch)})"


def _clock_time(epoch: float | None) -> str:
    if not epoch:
        return "-"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _size(size: int | None) -> str:
    if not size:
        return "-"
    return f"{size / 1024:.0f} KiB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MiB"


def _telegram(telegram: TelegramInfo) -> str:
    if not telegram.configured:
        return "off (no bot token configured)"
    bot = f"@{telegram.bot}" if telegram.bot else "bot configured"
    if telegram.check_error:
        return f"{bot}; the webhook could not be checked: {telegram.check_error}"
    if telegram.webhook_registered is None:
        return f"{bot}" + (f", webhook {telegram.webhook_url}" if telegram.webhook_url else "")
    if not telegram.webhook_registered:
        return f"{bot}, [red]no webhook registered[/]"
    text = f"{bot}, webhook registered, {telegram.pending_updates or 0} update(s) pending"
    if telegram.last_error:
        text += (
            f"\n                last error {_ago(telegram.last_error_at)}: "
            f"[red]{escape(telegram.last_error)}[/]"
        )
    return text


def _monitoring(monitoring: MonitoringInfo | None) -> list[tuple[str, str]]:
    """The rows for the alarms, the dashboard and the alert email."""
    if monitoring is None:
        return []
    if not monitoring.emulated:
        return [("alarms", escape(monitoring.note or "-"))]
    rows: list[tuple[str, str]] = []
    firing = [alarm for alarm in monitoring.alarms if alarm.state == "ALARM"]
    counts = {
        state: sum(1 for alarm in monitoring.alarms if alarm.state == state)
        for state in ("ALARM", "OK", "INSUFFICIENT_DATA")
    }
    if monitoring.alarms:
        summary = ", ".join(
            f"{count} {label}"
            for label, count in (
                ("[red]in alarm[/]", counts["ALARM"]),
                ("OK", counts["OK"]),
                ("waiting for data", counts["INSUFFICIENT_DATA"]),
            )
            if count
        )
        rows.append(("alarms", summary))
    elif not monitoring.problems:
        rows.append(("alarms", "none yet (the next deploy creates them)"))
    rows.extend(
        ("[red]alarm[/]", f"{alarm.name} since {_ago(alarm.since)}: {escape(alarm.reason or '')}")
        for alarm in firing
    )
    if monitoring.dashboard_url:
        rows.append(("dashboard", monitoring.dashboard_url))
    if monitoring.email:
        state = {True: EMAIL_PENDING, False: "confirmed", None: "not subscribed yet"}
        rows.append(("alert email", f"{monitoring.email}, {state[monitoring.email_pending]}"))
    return rows


def _render(console: Console, report: StatusReport) -> None:  # noqa: PLR0912 - a row per part
    def row(key: str, value: str) -> None:
        console.print(f"  {key:<13} {value}", highlight=False)

    state = "[green]running[/]" if report.running else "[yellow]not running[/]"
    console.print(
        f"[bold]{report.deployment}[/] on {report.target} ({report.region}): {state}",
        highlight=False,
    )
    if report.stack_status:
        reason = f" — {escape(report.stack_reason)}" if report.stack_reason else ""
        row("stack", f"{report.stack_status}{reason}")
    if report.last_deploy_at:
        row("deployed" if report.target == "aws" else "started", _when(report.last_deploy_at))
    for failure in report.failures:
        row(
            "[red]failed[/]",
            f"{failure.resource} ({failure.resource_type}): {escape(failure.reason)}",
        )
    for key, url in report.urls.items():
        row(URL_LABELS.get(key, key), url or "-")
    if report.agent:
        agent = report.agent
        phase = f" ({agent.phase})" if agent.phase else ""
        row("agent", f"{agent.state}{phase} since {_ago(agent.since)}")
        if agent.timings:
            timings = ", ".join(f"{k} {v:.1f}s" for k, v in agent.timings.items())
            row("last start", timings)
        if agent.usual_wake is not None:
            count = len(agent.recent_wakes)
            row(
                "wake-up",
                f"usually {agent.usual_wake:.0f}s from a message to ready "
                f"(last {count} start{'s' if count != 1 else ''}: "
                + ", ".join(f"{v:.0f}s" for v in agent.recent_wakes)
                + ")",
            )
        if agent.last_stop_reason:
            row("last stop", escape(agent.last_stop_reason))
        if agent.start_blocked:
            row(
                "[red]cannot start[/]",
                f"{agent.failed_starts} failed starts in a row: "
                f"{escape(agent.start_failure or 'no reason recorded')}. Messages no longer wake "
                f"it (they are kept); it tries once more by itself after "
                f"{_clock_time(agent.blocked_until)}",
            )
        elif agent.failed_starts and agent.start_failure:
            row("failed start", f"{agent.failed_starts}× {escape(agent.start_failure)}")
    row("openclaw", report.openclaw_version)
    if report.local_task:
        row("agent task", escape(report.local_task))
    if report.warm:
        warm = report.warm
        row(
            "warm window",
            f"{warm.window} {warm.timezone} every day (now: {'inside' if warm.now else 'outside'}"
            f"; up to ${warm.monthly_usd:.2f} a month)",
        )
    if report.memory:
        memory = report.memory
        row(
            "memory",
            f"last backup {_ago(memory.last_backup_at)}, {_size(memory.size_bytes)}, "
            f"{memory.versions} version(s) kept",
        )
    if report.usage:
        usage = report.usage
        running = (
            f" ({hours_text(usage.running_hours)} of it running now)" if usage.running_hours else ""
        )
        row(
            "this month",
            f"{hours_text(usage.task_hours)} of agent time in {usage.tasks} task(s){running}: "
            f"about ${usage.estimated_usd:.2f} (compute and IPv4; at this pace "
            f"{usage.projected_hours:.0f} h, ${usage.projected_usd:.2f})",
        )
    for key, value in [("telegram", _telegram(report.telegram)), *_monitoring(report.monitoring)]:
        row(key, value)
    for channel in report.channels:
        if channel.connected:
            health = "[green]healthy[/]" if channel.healthy else "[red]failing[/]"
            row(channel.channel, f"{health}: {escape(channel.detail)}")
    for note in report.notes + (report.monitoring.problems if report.monitoring else []):
        console.print(f"  [yellow]![/] {escape(note)}", highlight=False)


def status(
    ctx: typer.Context,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services.status import deployment_status

    app = app_context(ctx)
    deployment = resolve_deployment(app, name, target)
    report = deployment_status(app, deployment)
    emit(app.console, report, as_json=as_json, render=_render)
    if as_json:
        return
    flag = f" --name {report.deployment}" if name else ""
    if report.agent and report.agent.start_blocked:
        recommend(
            app.console,
            (f"openclaw-deploy logs --component agent{flag}", "see why it cannot start"),
            (f"openclaw-deploy start{flag}", "try again once the cause is fixed"),
        )
    elif report.target == "local" and not report.running:
        recommend(app.console, ("openclaw-deploy init --target local", "start it again"))
    elif report.target == "aws" and report.stack_status is None:
        recommend(app.console, (f"openclaw-deploy deploy{flag}", "deploy it"))
    elif report.failures or not report.running:
        recommend(
            app.console,
            (f"openclaw-deploy deploy{flag}", "deploy again once the cause is fixed"),
        )
    elif report.telegram.configured and report.telegram.webhook_registered is False:
        recommend(app.console, (f"openclaw-deploy deploy{flag}", "registers the webhook again"))


def register(app: typer.Typer) -> None:
    app.command("status", help=HELP)(status)
