"""What the bridge tests stand on: a deployment's data resources on moto, a stand-in for API
Gateway's `@connections` endpoint, and the bridge run as the container runs it (a process).

Everything here is real over HTTP: the bridge process talks to moto, to the stand-ins and to
OpenClaw exactly as it does in the cloud, with only endpoints changed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3

from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.connections import Connections
from openclaw_deploy.runtime.contract import QueueMessage, ReplyTarget
from openclaw_deploy.runtime.lifecycle import Lifecycle
from openclaw_deploy.runtime.queue import enqueue

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ACCOUNT = "123456789012"


def wait_for(
    check: Callable[[], Any], timeout: float, *, interval: float = 0.1, what: str = "condition"
) -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# -- the deployment's data resources -------------------------------------------------------------


@dataclass
class Deployment:
    """One deployment's tables, queue (with its DLQ) and bucket on a moto server."""

    endpoint: str
    name: str
    queue_url: str
    dlq_url: str
    env: dict[str, str]

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def table(self, table: resources.Table) -> str:
        return table.physical_name(self.name)

    @property
    def bucket(self) -> str:
        return resources.STATE_BUCKET.physical_name(self.name, ACCOUNT, REGION)

    @property
    def lifecycle(self) -> Lifecycle:
        return Lifecycle(self.client("dynamodb"), self.table(resources.TASK_STATE))

    @property
    def connections(self) -> Connections:
        return Connections(self.client("dynamodb"), self.table(resources.CONNECTIONS))

    def begin_start(self, task_arn: str) -> None:
        """What a handler does before RunTask: Idle → Starting, with the task's ARN."""
        lifecycle = self.lifecycle
        assert lifecycle.try_begin_start(), "the agent was not Idle"
        assert lifecycle.set_task(task_arn)

    def send(
        self,
        text: str,
        *,
        session: str = "s1",
        channel: str = "web",
        chat_id: int | None = None,
        message_id: str | None = None,
        reply_to: int | None = None,
    ) -> QueueMessage:
        msg = QueueMessage(
            channel=channel,
            session=session,
            message_id=message_id or f"m-{uuid.uuid4().hex[:12]}",
            text=text,
            received_at=time.time(),
            reply=ReplyTarget(chat_id=chat_id, reply_to_message_id=reply_to),
        )
        return self.put(msg)

    def put(self, msg: QueueMessage) -> QueueMessage:
        enqueue(self.client("sqs"), self.queue_url, msg)
        return msg

    def send_raw(self, body: str, *, group: str = "raw") -> None:
        self.client("sqs").send_message(
            QueueUrl=self.queue_url,
            MessageBody=body,
            MessageGroupId=group,
            MessageDeduplicationId=uuid.uuid4().hex,
        )

    def dead_letters(self) -> list[str]:
        answer = self.client("sqs").receive_message(
            QueueUrl=self.dlq_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            VisibilityTimeout=0,
        )
        return [m["Body"] for m in answer.get("Messages", [])]

    def backup_archive(self) -> bytes | None:
        s3 = self.client("s3")
        try:
            answer = s3.get_object(Bucket=self.bucket, Key="agent/openclaw-state.tar.gz")
        except s3.exceptions.NoSuchKey:
            return None
        return bytes(answer["Body"].read())


def provision(endpoint: str, *, visibility_timeout: int | None = None) -> Deployment:
    """Create a fresh deployment's resources (a new name each time: no reset needed)."""
    name = f"t{uuid.uuid4().hex[:10]}"
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    dynamodb = session.client("dynamodb", endpoint_url=endpoint)
    for table in resources.TABLES:
        keys = [{"AttributeName": resources.PARTITION_KEY, "KeyType": "HASH"}]
        attributes = [{"AttributeName": resources.PARTITION_KEY, "AttributeType": "S"}]
        if table.sort_key:
            keys.append({"AttributeName": resources.SORT_KEY, "KeyType": "RANGE"})
            attributes.append({"AttributeName": resources.SORT_KEY, "AttributeType": "S"})
        dynamodb.create_table(
            TableName=table.physical_name(name),
            KeySchema=keys,
            AttributeDefinitions=attributes,
            BillingMode="PAY_PER_REQUEST",
        )
    sqs = session.client("sqs", endpoint_url=endpoint)
    queue = resources.INBOUND
    dlq_url = sqs.create_queue(
        QueueName=queue.dead_letter_name(name),
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName=queue.physical_name(name),
        Attributes={
            "FifoQueue": "true",
            "VisibilityTimeout": str(visibility_timeout or queue.visibility_timeout_seconds),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": queue.max_receive_count}
            ),
        },
    )["QueueUrl"]
    s3 = session.client("s3", endpoint_url=endpoint)
    bucket = resources.STATE_BUCKET.physical_name(name, ACCOUNT, REGION)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    env = resources.data_environment(
        name, account=ACCOUNT, region=REGION, queue_urls={queue.key: queue_url}
    )
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }
    )
    return Deployment(endpoint=endpoint, name=name, queue_url=queue_url, dlq_url=dlq_url, env=env)


# -- a stand-in for API Gateway's @connections endpoint ------------------------------------------


@dataclass
class ConnectionsEndpoint:
    """Records `POST /@connections/{id}` bodies; answers 410 for ids in `gone`."""

    url: str = ""
    gone: set[str] = field(default_factory=set)
    posts: list[tuple[str, dict[str, Any], float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_post: Callable[[dict[str, Any]], None] | None = None
    """Called with each frame before the post is answered (the bridge waits for it)."""

    def frames(
        self,
        connection_id: str | None = None,
        *,
        kind: str | None = None,
        message_id: str | None = None,
    ) -> list[dict[str, Any]]:
        with self.lock:
            return [
                frame
                for cid, frame, _ in self.posts
                if (connection_id is None or cid == connection_id)
                and (kind is None or frame.get("type") == kind)
                and (message_id is None or frame.get("id") == message_id)
            ]

    def timed(self, message_id: str) -> list[tuple[dict[str, Any], float]]:
        with self.lock:
            return [(frame, at) for _, frame, at in self.posts if frame.get("id") == message_id]


@contextmanager
def connections_endpoint() -> Iterator[ConnectionsEndpoint]:
    state = ConnectionsEndpoint()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            connection_id = self.path.rsplit("/", 1)[-1]
            if not self.path.startswith("/@connections/"):
                self._answer(404, b'{"message":"Not Found"}')
                return
            if connection_id in state.gone:
                self._answer(
                    410, b'{"message":"GoneException"}', {"x-amzn-ErrorType": "GoneException"}
                )
                return
            frame = json.loads(body)
            assert len(body) <= 32 * 1024, "a frame over API Gateway's 32 KB limit"
            if state.on_post is not None:
                state.on_post(frame)
            with state.lock:
                state.posts.append((connection_id, frame, time.monotonic()))
            self._answer(200, b"")

        def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# -- the bridge, run as the container runs it ----------------------------------------------------


class BridgeProcess:
    """`python -m openclaw_bridge` in its own process group, its output kept in a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> BridgeProcess:
        pythonpath = os.pathsep.join([str(REPO / "src"), str(REPO / "container" / "bridge")])
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/root"),
            "PYTHONPATH": pythonpath,
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "openclaw_bridge"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_logged(self, text: str, timeout: float) -> None:
        def seen() -> bool:
            if text in self.output:
                return True
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"the bridge exited ({self.proc.returncode}) before logging {text!r}:\n"
                    + self.output[-4000:]
                )
            return False

        wait_for(seen, timeout, interval=0.1, what=f"the bridge to log {text!r}")

    def wait_running(self, timeout: float = 90) -> None:
        self.wait_logged("agent ready in", timeout)

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def kill_all(self) -> None:
        """SIGKILL the bridge and everything in its process group (a container killed)."""
        assert self.proc is not None
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        """Teardown: whatever state the test left it in, leave no process behind."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=60)
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # OpenClaw and its helpers, if any remain
        if self.proc.poll() is None:
            self.proc.wait(timeout=10)


def bridge_env(
    deployment: Deployment,
    *,
    home: Path,
    openclaw: list[str],
    task_arn: str,
    model_url: str | None = None,
    provider: str = "offline",
    model: str = "demo",
    connections_url: str | None = None,
    telegram_url: str | None = None,
    telegram_token: str | None = None,
    llm_key: str | None = None,
    **tuning: str,
) -> dict[str, str]:
    env = dict(deployment.env)
    env.update(
        {
            "OPENCLAW_BRIDGE_HOME": str(home),
            "OPENCLAW_BRIDGE_OPENCLAW_CMD": json.dumps(openclaw),
            "OPENCLAW_BRIDGE_GATEWAY_PORT": "0",
            "OPENCLAW_BRIDGE_POLL_WAIT_SECONDS": "2",
            "OPENCLAW_BRIDGE_HEARTBEAT_SECONDS": "5",
            "OPENCLAW_TASK_ARN": task_arn,
            "OPENCLAW_LLM_PROVIDER": provider,
            "OPENCLAW_LLM_MODEL": model,
        }
    )
    if model_url:
        env["OPENCLAW_LLM_BASE_URL"] = model_url
    if connections_url:
        env[resources.ENV_WS_MANAGEMENT_URL] = connections_url
    if telegram_url:
        env[resources.ENV_TELEGRAM_API_URL] = telegram_url
    if telegram_token:
        env["OPENCLAW_TELEGRAM_BOT_TOKEN"] = telegram_token
    if llm_key:
        env["OPENCLAW_LLM_API_KEY"] = llm_key
    env.update({f"OPENCLAW_BRIDGE_{key.upper()}": value for key, value in tuning.items()})
    return env


@contextmanager
def running_bridge(
    deployment: Deployment,
    home: Path,
    *,
    openclaw: list[str],
    model_url: str,
    connections_url: str,
    **options: str,
) -> Iterator[tuple[BridgeProcess, str]]:
    """A bridge serving `deployment` as a freshly started task (web connection `conn-live` of
    the owner), until the block ends; yields it and its task ARN. `options` go to `bridge_env`."""
    deployment.connections.add("conn-live", user="owner")
    arn = f"arn:aws:ecs:us-east-1:123456789012:task/agent/{uuid.uuid4().hex}"
    deployment.begin_start(arn)
    env = bridge_env(
        deployment,
        home=home,
        openclaw=openclaw,
        task_arn=arn,
        model_url=model_url,
        connections_url=connections_url,
        **options,
    )
    bridge = BridgeProcess(env, home.parent / f"{home.name}.log").start()
    try:
        bridge.wait_running(timeout=150)
        yield bridge, arn
    finally:
        bridge.stop()
