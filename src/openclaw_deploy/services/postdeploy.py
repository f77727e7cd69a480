"""What `deploy` does once the stack exists: the image, the web files, the owner, the webhook.

Each step is idempotent and reads what it needs from the stack's outputs, so running `deploy`
again after a failure redoes only what is missing: an image whose tag already exists is not
rebuilt, the SPA and `config.json` are re-uploaded, the owner's invitation is re-sent only when
it expired, and the webhook is set to the same URL and secret.
"""

from __future__ import annotations

import contextlib
import json
import mimetypes
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from openclaw_deploy.aws.errors import translate_boto_errors
from openclaw_deploy.errors import AwsError, DeployFailedError, ToolchainError
from openclaw_deploy.infra import spec as names
from openclaw_deploy.infra.staging import DOCKERFILE, stage_sources
from openclaw_deploy.output import Reporter

BUILD_POLL_SECONDS: Final = 5.0
BUILD_LOG_LINES: Final = 30
BUILD_DONE: Final = frozenset({"SUCCEEDED", "FAILED", "FAULT", "STOPPED", "TIMED_OUT"})
CODEBUILD_QUOTA_HINT: Final = (
    "ask AWS for CodeBuild capacity: Service Quotas console > AWS CodeBuild > 'Concurrently "
    "running builds for ARM/Small environment' (new accounts may start at 0; increases are "
    "usually granted within a day), then run openclaw-deploy deploy again; or build on this "
    "machine instead: openclaw-deploy deploy --local-docker"
)
CODEBUILD_QUOTA_MESSAGE: Final = (
    "AWS CodeBuild refused to run the image build: this account may run no builds yet "
    "(AccountLimitExceededException: its concurrent-build quota is 0, as on many new accounts)."
)
INVITE_RESEND_AFTER: Final = timedelta(days=6)
"""Cognito's temporary password lives 7 days (see infra.auth); re-send before it lapses."""
CONFIG_FILE: Final = "config.json"
_IMMUTABLE: Final = "public, max-age=31536000, immutable"
_TYPES: Final = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".webmanifest": "application/manifest+json",
    ".map": "application/json",
}


class MissingOutputError(AwsError):
    """The stack lacks an output a step needs (only seen against partial AWS emulations)."""


def output(outputs: dict[str, str], key: str) -> str:
    value = outputs.get(key)
    if not value:
        raise MissingOutputError(f"The stack has no {key} output.")
    return value


# --- the agent image -----------------------------------------------------------------------


@dataclass(frozen=True)
class ImageOutcome:
    tag: str
    built: bool
    how: str
    """`existing`, `codebuild` or `local-docker`."""


def image_exists(ecr: Any, repository_uri: str, tag: str) -> bool:
    from botocore.exceptions import ClientError

    repository = repository_uri.split("/", 1)[1]
    with translate_boto_errors(f"look for the image {tag}"):
        try:
            found = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ImageNotFoundException":
                return False
            raise
    return bool(found.get("imageDetails"))


def build_in_codebuild(
    codebuild: Any,
    logs: Any,
    project: str,
    *,
    reporter: Reporter,
    sleep: Callable[[float], None],
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Start the image build and wait for it, reporting each phase with its time."""
    from botocore.exceptions import ClientError

    with translate_boto_errors(f"start the CodeBuild project {project}"):
        try:
            build_id = codebuild.start_build(projectName=project)["build"]["id"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "AccountLimitExceededException":
                raise AwsError(CODEBUILD_QUOTA_MESSAGE, hint=CODEBUILD_QUOTA_HINT) from None
            raise
    started = clock()
    phase = ""
    build: dict[str, Any] = {}
    with reporter.task("Building the agent image in AWS CodeBuild (no local Docker needed)"):
        while True:
            with translate_boto_errors("follow the image build"):
                build = codebuild.batch_get_builds(ids=[build_id])["builds"][0]
            current = str(build.get("currentPhase", ""))
            if current and current != phase:
                phase = current
                reporter.step(f"  build phase {phase.lower()} ({clock() - started:.0f}s)")
            if build.get("buildStatus") in BUILD_DONE:
                break
            sleep(BUILD_POLL_SECONDS)
    status = str(build.get("buildStatus"))
    if status != "SUCCEEDED" and _quota_refused(build):
        raise AwsError(CODEBUILD_QUOTA_MESSAGE, hint=CODEBUILD_QUOTA_HINT)
    if status != "SUCCEEDED":
        tail = _build_log_tail(logs, build)
        raise DeployFailedError(
            f"The image build ended {status}."
            + (f" Last lines of its log:\n{tail}" if tail else ""),
            hint="fix the cause, then run openclaw-deploy deploy again (only the image is redone)",
        )


def _quota_refused(build: dict[str, Any]) -> bool:
    """A build that failed in the queue because the account may not run it."""
    for phase in build.get("phases") or []:
        for context in phase.get("contexts") or []:
            text = f"{context.get('statusCode', '')} {context.get('message', '')}"
            if "AccountLimitExceeded" in text or "ACCOUNT_LIMIT_EXCEEDED" in text:
                return True
    return False


def _build_log_tail(logs: Any, build: dict[str, Any]) -> str:
    info = build.get("logs") or {}
    group, stream = info.get("groupName"), info.get("streamName")
    if not group or not stream:
        return ""
    try:
        with translate_boto_errors("read the image build log"):
            events = logs.get_log_events(
                logGroupName=group, logStreamName=stream, limit=BUILD_LOG_LINES, startFromHead=False
            )["events"]
    except AwsError:
        return ""
    return "\n".join(str(e.get("message", "")).rstrip() for e in events)


def build_with_local_docker(
    ecr: Any,
    repository_uri: str,
    tag: str,
    *,
    reporter: Reporter,
    openclaw_version: str | None = None,
    browser: bool = False,
) -> None:
    """Build the same context with the local Docker and push it under the same tag."""
    import base64

    docker = shutil.which("docker")
    if docker is None:
        raise ToolchainError(
            "--local-docker was given but no docker command was found.",
            hint="install Docker, or drop --local-docker to build in AWS CodeBuild",
        )
    image = f"{repository_uri}:{tag}"
    registry = repository_uri.split("/", 1)[0]
    with translate_boto_errors("get an ECR login"):
        auth = ecr.get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(auth["authorizationToken"]).decode().split(":", 1)
    staging = Path(tempfile.mkdtemp(prefix="openclaw-deploy-image-"))
    try:
        context = stage_sources(
            staging, openclaw_version=openclaw_version, browser=browser
        ).image_context
        steps: list[tuple[str, list[str], str | None]] = [
            (
                "Logging in to ECR",
                [docker, "login", "-u", user, "--password-stdin", registry],
                password,
            ),
            (
                "Building the agent image with local Docker (linux/arm64)",
                [
                    docker,
                    "build",
                    "--platform",
                    "linux/arm64",
                    "-f",
                    str(context / DOCKERFILE),
                    "-t",
                    image,
                    str(context),
                ],
                None,
            ),
            ("Pushing the image to ECR", [docker, "push", image], None),
        ]
        for title, command, stdin in steps:
            with reporter.task(title):
                result = subprocess.run(
                    command, input=stdin, capture_output=True, text=True, check=False
                )
            if result.returncode != 0:
                tail = "\n".join(result.stderr.strip().splitlines()[-BUILD_LOG_LINES:])
                raise DeployFailedError(
                    f"{title} failed:\n{tail}",
                    hint="fix Docker, or drop --local-docker to build in AWS CodeBuild",
                )
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def ensure_image(
    *,
    ecr: Any,
    codebuild: Any,
    logs: Any,
    outputs: dict[str, str],
    tag: str,
    local_docker: bool,
    reporter: Reporter,
    sleep: Callable[[float], None],
    openclaw_version: str | None = None,
    browser: bool = False,
) -> ImageOutcome:
    repository_uri = output(outputs, names.OUTPUT_REPOSITORY_URI)
    if image_exists(ecr, repository_uri, tag):
        reporter.done(f"The agent image {tag} is already built")
        return ImageOutcome(tag=tag, built=False, how="existing")
    if local_docker:
        build_with_local_docker(
            ecr,
            repository_uri,
            tag,
            reporter=reporter,
            openclaw_version=openclaw_version,
            browser=browser,
        )
        return ImageOutcome(tag=tag, built=True, how="local-docker")
    build_in_codebuild(
        codebuild, logs, output(outputs, names.OUTPUT_IMAGE_PROJECT), reporter=reporter, sleep=sleep
    )
    return ImageOutcome(tag=tag, built=True, how="codebuild")


# --- the web UI ----------------------------------------------------------------------------


def runtime_config(outputs: dict[str, str], *, region: str, deployment: str) -> dict[str, Any]:
    """The SPA's `config.json` (shape in web/src/config.ts)."""
    return {
        "apiUrl": output(outputs, names.OUTPUT_HTTP_API_URL),
        "wsUrl": output(outputs, names.OUTPUT_WS_URL),
        "region": region,
        "cognito": {
            "endpoint": output(outputs, names.OUTPUT_COGNITO_ENDPOINT),
            "userPoolId": output(outputs, names.OUTPUT_USER_POOL_ID),
            "clientId": output(outputs, names.OUTPUT_USER_POOL_CLIENT_ID),
        },
        "deployment": deployment,
    }


def _content_type(path: Path) -> str:
    return (
        _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )


def _cache_control(relative: str) -> str:
    if relative.startswith("assets/"):
        return _IMMUTABLE  # Vite names these by content hash
    return "no-cache"


def publish_web(
    *,
    s3: Any,
    cloudfront: Any,
    outputs: dict[str, str],
    web_dir: Path,
    config: dict[str, Any],
    reporter: Reporter,
) -> int:
    """Upload the SPA and its config.json, then invalidate CloudFront. Returns files uploaded."""
    bucket = output(outputs, names.OUTPUT_WEB_BUCKET)
    files = sorted(p for p in web_dir.rglob("*") if p.is_file() and p.name != CONFIG_FILE)
    with (
        reporter.task(f"Uploading the web UI ({len(files)} files) and its config.json"),
        translate_boto_errors(f"upload the web UI to {bucket}"),
    ):
        for path in files:
            relative = path.relative_to(web_dir).as_posix()
            s3.put_object(
                Bucket=bucket,
                Key=relative,
                Body=path.read_bytes(),
                ContentType=_content_type(path),
                CacheControl=_cache_control(relative),
            )
        s3.put_object(
            Bucket=bucket,
            Key=CONFIG_FILE,
            Body=json.dumps(config, indent=2).encode(),
            ContentType="application/json",
            CacheControl="no-store",
        )
    distribution = outputs.get(names.OUTPUT_DISTRIBUTION_ID)
    if distribution:
        with translate_boto_errors("refresh the CloudFront cache"):
            cloudfront.create_invalidation(
                DistributionId=distribution,
                InvalidationBatch={
                    "Paths": {"Quantity": 1, "Items": ["/*"]},
                    "CallerReference": f"openclaw-deploy-{time.time_ns()}",
                },
            )
    return len(files) + 1


# --- the owner login -----------------------------------------------------------------------


@dataclass(frozen=True)
class OwnerOutcome:
    login: str
    status: str
    """`invited` (temporary password emailed), `reinvited`, `active` or `unknown`."""


def ensure_owner(
    cognito: Any,
    outputs: dict[str, str],
    email: str,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> OwnerOutcome:
    """The stack created the owner (Cognito emailed the password); re-send a lapsing invite."""
    from botocore.exceptions import ClientError

    pool = output(outputs, names.OUTPUT_USER_POOL_ID)
    with translate_boto_errors("look up the owner's login"):
        try:
            user = cognito.admin_get_user(UserPoolId=pool, Username=email)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "UserNotFoundException":
                return OwnerOutcome(login=email, status="unknown")
            raise
    status = str(user.get("UserStatus", ""))
    if status != "FORCE_CHANGE_PASSWORD":
        return OwnerOutcome(login=email, status="active")
    created = user.get("UserCreateDate")
    if isinstance(created, datetime) and now() - created > INVITE_RESEND_AFTER:
        with translate_boto_errors("re-send the owner's invitation"):
            cognito.admin_create_user(
                UserPoolId=pool,
                Username=email,
                MessageAction="RESEND",
                DesiredDeliveryMediums=["EMAIL"],
            )
        return OwnerOutcome(login=email, status="reinvited")
    return OwnerOutcome(login=email, status="invited")


# --- Telegram ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookOutcome:
    bot: str | None
    url: str


def register_webhook(*, token: str, secret: str, url: str, api_url: str | None) -> WebhookOutcome:
    """Point the bot at our webhook, with the secret Telegram will send back on every call."""
    from openclaw_deploy.runtime.telegram import TelegramBot, TelegramError

    bot = TelegramBot(token, api_url=api_url)
    try:
        bot.set_webhook(url, secret)
        username = bot.get_me().username
    except TelegramError as error:
        # TelegramError never carries the token (it is only in the URL it did not print).
        raise DeployFailedError(
            f"The stack is deployed, but Telegram refused the webhook: {error.description}",
            hint="check the bot token (openclaw-deploy init), then run openclaw-deploy deploy",
        ) from None
    # The command menu (/new, /status, /help): a refusal leaves the bot working without it.
    with contextlib.suppress(TelegramError):
        bot.set_my_commands()
    return WebhookOutcome(bot=username or None, url=url)
