"""The local cloud's background process: `python -m openclaw_deploy.local.daemon --home DIR`.

Starts, in order: a moto server (AWS), the offline model (when the deployment uses it) or the
Bedrock Runtime (`local.bedrock`, for a Bedrock deployment), the API Gateway emulator,
provisioning from `runtime.resources`, the saved user data, the local Fargate and the watchdog
schedule. Then it writes `state.json` (ports, URLs, resource names) for the CLI
and waits. SIGTERM stops every agent task (they back up), saves the user data, and exits.
Each component logs to its own file under `logs/` for `openclaw-deploy logs --target local`.

IAM is enforced as on AWS (`local.iam`): each Lambda function's handlers run under their
function's role, the agent task under the task role, what ECS does for the task (its `secrets`)
under the execution role, each with its own credentials; moto serves a call only when that role's
synthesized policies allow it. `OPENCLAW_LOCAL_IAM=off` turns this off for debugging.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from openclaw_deploy.local.paths import LocalPaths
from openclaw_deploy.runtime import resources

if TYPE_CHECKING:
    from openclaw_deploy.local.fargate import ImageRuntime
    from openclaw_deploy.local.firewall import Guard

log = logging.getLogger("openclaw_deploy.local.daemon")
ACCOUNT: Final = "123456789012"  # moto's account
WATCHDOG_INTERVAL_SECONDS: Final = 60.0
ENV_TASK_EVENTS: Final = "OPENCLAW_LOCAL_TASK_EVENTS"
"""`0` turns off the stopped-task events to the watchdog (the recovery benchmark's "before")."""
HANDLER_MODULES: Final = {
    "api": "openclaw_deploy.handlers.api",
    "ws": "openclaw_deploy.handlers.ws",
    "telegram": "openclaw_deploy.handlers.telegram_webhook",
    "slack": "openclaw_deploy.handlers.slack_events",
    "discord": "openclaw_deploy.handlers.discord_interactions",
    "watchdog": "openclaw_deploy.handlers.watchdog",
    "schedule": "openclaw_deploy.handlers.schedule",
}
COMPONENT_LOGGERS: Final = {
    "daemon": [
        "openclaw_deploy.local.daemon",
        "openclaw_deploy.local.provision",
        "openclaw_deploy.local.iam",
        "openclaw_deploy.local.scheduler",
    ],
    "gateway": ["openclaw_deploy.local.apigw", "openclaw_deploy.handlers"],
    "fargate": ["openclaw_deploy.local.fargate"],
    "watchdog": ["openclaw_deploy.handlers.watchdog"],
}


@dataclass(frozen=True, kw_only=True)
class Spec:
    """What to run; written by the CLI as `spec.json`."""

    name: str
    region: str = "us-east-1"
    provider: str = "offline"
    model: str = "demo"
    llm_base_url: str | None = None
    telegram_api_url: str | None = None
    cpu: int = 512
    memory: int = 2048
    idle_timeout_minutes: int = 15
    agent_runtime: str = "process"
    """How the local Fargate runs the agent: "process" (fast) or "image" (the built image)."""
    agent_image: str | None = None
    """The image mode's image id (`local.image.build_agent_image`, run by the CLI)."""

    @classmethod
    def load(cls, path: Path) -> Spec:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


async def _start_site(web: Any, runner: Any, paths: LocalPaths) -> int:
    """Serve on the port used last time, so bookmarks and saved passwords keep working; a free
    one when it is taken (or on the first start). The port is remembered for the next start."""
    remembered = paths.remembered_port()
    for port in ([remembered] if remembered else []) + [0]:
        site = web.TCPSite(runner, "127.0.0.1", port)
        try:
            await site.start()
        except OSError as error:
            log.warning("port %s is taken (%s): serving on another one", port, error)
            continue
        break
    chosen = int(runner.addresses[-1][1])
    paths.remember_port(chosen)
    return chosen


def _handler(
    kind: str, credentials: Callable[[], Any] | None = None
) -> Callable[[dict[str, Any], Any], Any]:
    """The real Lambda handler, imported when first called (after the environment is set).

    With `credentials` (IAM enforced), each invocation runs with its function role's keys."""
    cache: dict[str, Callable[[dict[str, Any], Any], Any]] = {}

    def invoke(event: dict[str, Any], context: Any) -> Any:
        if "fn" not in cache:
            cache["fn"] = importlib.import_module(HANDLER_MODULES[kind]).handler
        keys = credentials() if credentials is not None else None
        if keys is None:
            return cache["fn"](event, context)
        from openclaw_deploy.runtime import aws

        with aws.acting_as(keys):
            return cache["fn"](event, context)

    return invoke


def _channel_api_env() -> dict[str, str]:
    """Stand-ins for Slack's and Discord's APIs, when this process was pointed at some (the
    handlers run in this process and read the same variables; the task gets them too)."""
    names = (resources.ENV_SLACK_API_URL, resources.ENV_DISCORD_API_URL)
    return {name: os.environ[name] for name in names if os.environ.get(name)}


def _setup_logging(paths: LocalPaths) -> None:
    paths.logs.mkdir(parents=True, exist_ok=True)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    formatter.converter = time.gmtime  # every log of the local cloud is in UTC, like CloudWatch
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for component, names in COMPONENT_LOGGERS.items():
        handler = logging.FileHandler(paths.log(component), encoding="utf-8")
        handler.setFormatter(formatter)
        for name in names:
            logging.getLogger(name).addHandler(handler)
    for noisy in ("werkzeug", "botocore", "urllib3", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class Daemon:
    def __init__(self, paths: LocalPaths, spec: Spec) -> None:
        self.paths = paths
        self.spec = spec
        self.stop = threading.Event()
        self.enforcement: Any = None
        """local.iam.enforce.Enforcement once IAM is enforced (None: not enforced)."""

    def _credentials(self, component: str) -> Callable[[], Any]:
        def keys() -> Any:
            from openclaw_deploy.runtime import aws

            if self.enforcement is None:
                return None
            identity = self.enforcement.identities[component]
            return aws.Credentials(identity.access_key_id, identity.secret_access_key)

        return keys

    def _clients(
        self, moto_url: str, *, keys: tuple[str, str] = ("local", "local")
    ) -> dict[str, Any]:
        """Clients with the local cloud's own (unrestricted) credentials, or a role's `keys`."""
        import boto3

        session = boto3.Session(
            region_name=self.spec.region, aws_access_key_id=keys[0], aws_secret_access_key=keys[1]
        )
        return {
            name: session.client(name, endpoint_url=moto_url)
            for name in ("dynamodb", "sqs", "s3", "ssm", "ecs", "ec2", "cognito-idp")
        }

    async def run(self) -> None:  # noqa: PLR0912, PLR0915 - the start order reads best in one place
        from aiohttp import web

        from openclaw_deploy.local import apigw, data, moto_compat, provision
        from openclaw_deploy.local.cgroup import CgroupHost
        from openclaw_deploy.local.fargate import LocalFargate, bridge_command, bridge_pythonpath
        from openclaw_deploy.local.iam import authz, enforce

        enforcing = authz.enforcing()
        # The template synthesizes (or comes from the cache) while everything else starts.
        template_job = enforce.TemplateJob(self._infra_spec()) if enforcing else None
        moto_compat.apply()
        moto = enforce.MotoServer()
        moto_url = moto.start()
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": moto_url,
                # Code of this process must act as a component (aws.acting_as); a call made
                # with these keys is refused, so none can slip through unchecked.
                "AWS_ACCESS_KEY_ID": authz.UNASSIGNED_KEY if enforcing else "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_DEFAULT_REGION": self.spec.region,
                "AWS_REGION": self.spec.region,
            }
        )
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(key, None)
        clients = self._clients(moto_url)
        log.info("moto at %s", moto_url)

        offline = None
        llm_base_url = self.spec.llm_base_url
        if self.spec.provider == "offline" and not llm_base_url:
            from openclaw_deploy.offline_model import OfflineModel

            offline = OfflineModel.start()
            llm_base_url = offline.base_url
            log.info("offline model at %s", llm_base_url)
        bedrock = None
        if self.spec.provider == "bedrock":
            from openclaw_deploy.local.bedrock import LocalBedrock

            # Bedrock without AWS: the task's signed calls, authorized against its role.
            bedrock = LocalBedrock(
                region=self.spec.region, account=ACCOUNT, authorize=self._authorize_bedrock
            ).start()
            log.info("Bedrock Runtime at %s", bedrock.url)

        # The emulator's port is known before provisioning: the task's environment names it.
        pool_id, client_id = provision.provision_auth(clients["cognito-idp"], self.spec.name)
        state: dict[str, Any] = {}
        authorizer = apigw.JwtAuthorizer(
            apigw.AuthConfig(
                jwks_url=f"{moto_url}/{pool_id}/.well-known/jwks.json",
                issuer=f"https://cognito-idp.{self.spec.region}.amazonaws.com/{pool_id}",
                audience=client_id,
            )
        )
        web_dir = _web_dir()
        emulator = apigw.Emulator(
            apigw.EmulatorConfig(
                handlers=apigw.Handlers(
                    api=_handler("api", self._credentials("api")),
                    ws=_handler("ws", self._credentials("ws")),
                    telegram=_handler("telegram", self._credentials("telegram")),
                    channels={
                        name: _handler(name, self._credentials(name))
                        for name in apigw.CHANNEL_ROUTES
                    },
                ),
                auth=authorizer,
                moto_url=moto_url,
                region=self.spec.region,
                web_dir=web_dir,
                web_config=lambda: state["web_config"],
                authorize=self._authorize_connections if enforcing else None,
            )
        )
        runner = web.AppRunner(emulator.app(), access_log=None)
        await runner.setup()
        api_port = await _start_site(web, runner, self.paths)
        api_url = f"http://127.0.0.1:{api_port}"
        ws_url = f"ws://127.0.0.1:{api_port}{apigw.WS_PATH}"
        log.info("API Gateway emulator at %s", api_url)

        provision.provision_tables(clients["dynamodb"], self.spec.name)
        queue_urls, dead_letter = provision.provision_queues(clients["sqs"], self.spec.name)
        provision.provision_buckets(clients["s3"], self.spec.name, ACCOUNT, self.spec.region)
        subnets, groups = provision.provision_network(clients["ec2"], self.spec.name)
        telegram_api_url = self.spec.telegram_api_url or resources.DEFAULT_TELEGRAM_API_URL
        data_env = resources.data_environment(
            self.spec.name, account=ACCOUNT, region=self.spec.region, queue_urls=queue_urls
        )
        task_env = {
            **data_env,
            resources.ENV_WS_MANAGEMENT_URL: api_url,
            resources.ENV_TELEGRAM_API_URL: telegram_api_url,
            "OPENCLAW_LLM_PROVIDER": self.spec.provider,
            "OPENCLAW_LLM_MODEL": self.spec.model,
        }
        if llm_base_url:
            task_env["OPENCLAW_LLM_BASE_URL"] = llm_base_url
        if bedrock is not None:
            task_env["OPENCLAW_BRIDGE_UPSTREAMS"] = json.dumps({"bedrock": bedrock.url})
        task_env.update(_channel_api_env())
        # The agent's reminders: the group and names its wake-up's CreateSchedule gives.
        from openclaw_deploy.runtime.schedules import Names

        task_env.update(
            Names.of(self.spec.name, account=ACCOUNT, region=self.spec.region).environment()
        )
        secrets = {
            secret.task_env: secret.parameter_name(self.spec.name)
            for secret in resources.SECRETS
            if secret.task_env
        }
        cluster, task_definition = provision.provision_agent(
            clients["ecs"],
            self.spec.name,
            environment=task_env,
            secrets=secrets,
            cpu=self.spec.cpu,
            memory=self.spec.memory,
        )
        # moto advances a task's status on every describe; pin it so RUNNING stays RUNNING.
        _manual_ecs_transitions(moto_url)
        restored = data.import_user_data(
            clients["dynamodb"],
            clients["s3"],
            self.paths.data,
            deployment=self.spec.name,
            account=ACCOUNT,
            region=self.spec.region,
        )
        if restored:
            log.info("restored saved user data: %s", restored)
        local = provision.LocalResources(
            deployment=self.spec.name,
            region=self.spec.region,
            account=ACCOUNT,
            queue_urls=queue_urls,
            dead_letter_urls=dead_letter,
            user_pool_id=pool_id,
            user_pool_client_id=client_id,
            cluster=cluster,
            task_definition=task_definition,
            subnets=subnets,
            security_groups=groups,
        )
        # The handlers run in this process and read their configuration from the environment.
        os.environ.update(local.environment())
        os.environ.update(
            {
                resources.ENV_WS_MANAGEMENT_URL: api_url,
                resources.ENV_TELEGRAM_API_URL: telegram_api_url,
                "OPENCLAW_WS_URL": ws_url,
            }
        )
        state["web_config"] = {
            "apiUrl": api_url,
            "wsUrl": ws_url,
            "region": self.spec.region,
            "cognito": {
                "endpoint": f"{api_url}/cognito/",
                "userPoolId": pool_id,
                "clientId": client_id,
            },
            "deployment": self.spec.name,
        }

        if template_job is not None:
            self.enforcement = self._enforce(
                template_job, moto, clients["ecs"], queue_urls, dead_letter, emulator
            )
            moto.enforce_with(self.enforcement.authorizer)
        task_keys = execution_keys = ("local", "local")
        if self.enforcement is not None:
            task = self.enforcement.identities["task"]
            execution = self.enforcement.identities["execution"]
            task_keys = (task.access_key_id, task.secret_access_key)
            execution_keys = (execution.access_key_id, execution.secret_access_key)

        from openclaw_deploy import assets, toolchain

        container_dir = assets.asset_dir("container")
        # What an image task's agent may not reach: every server of the local cloud.
        local_ports = [_port(moto_url), api_port]
        local_ports += [_port(offline.base_url)] if offline else []
        local_ports += [_port(bedrock.url)] if bedrock is not None else []
        image, network = _image_runtime(self.spec, local_ports)
        fargate = LocalFargate(
            ecs=clients["ecs"],
            # ECS resolves the task's `secrets` with the execution role.
            ssm=_OptionalSecrets(self._clients(moto_url, keys=execution_keys)["ssm"]),
            cluster=cluster,
            base_env={
                **{
                    k: v
                    for k, v in os.environ.items()
                    if k.startswith(("AWS_", "PATH", "HOME", "LANG"))
                },
                # The task's code runs with the task role's credentials.
                "AWS_ACCESS_KEY_ID": task_keys[0],
                "AWS_SECRET_ACCESS_KEY": task_keys[1],
                "PYTHONPATH": bridge_pythonpath(container_dir),
                "TZ": "UTC",  # as on Fargate; `logs` reads every time stamp as UTC
                "OPENCLAW_BRIDGE_OPENCLAW_CMD": json.dumps(toolchain.ensure_openclaw()),
                "OPENCLAW_BRIDGE_TEMPLATE": str(assets.asset_dir("templates") / "openclaw.json5"),
            },
            command=bridge_command(),
            scratch=self.paths.agent_home,
            agent_log=self.paths.log("agent"),
            image=image,
            cgroups=CgroupHost(),
            on_stopped=self._task_stopped(cluster),
        )
        threads = [
            threading.Thread(target=fargate.run, args=(self.stop,), name="fargate", daemon=True),
            threading.Thread(target=self._watchdog, name="watchdog", daemon=True),
        ]
        for thread in threads:
            thread.start()
        self._serve_schedules(moto_url)

        from openclaw_deploy.config import atomic_write

        atomic_write(
            self.paths.state,
            json.dumps(
                {
                    "pid": os.getpid(),
                    "started_at": time.time(),
                    "moto_url": moto_url,
                    "api_url": api_url,
                    "ws_url": ws_url,
                    "web_url": f"{api_url}/" if web_dir else None,
                    "telegram_webhook_url": f"{api_url}/telegram",
                    "offline_model_url": offline.base_url if offline else None,
                    "agent_runtime": fargate.runtime,
                    "agent_image": self.spec.agent_image if fargate.runtime == "image" else None,
                    "agent_network": (
                        {"guarded": network.guarded, "reason": network.reason} if network else None
                    ),
                    "agent_sizing": {
                        "sized": fargate.sizing.sized,
                        "cpu": self.spec.cpu,
                        "memory": self.spec.memory,
                        "reason": fargate.sizing.reason,
                    },
                    "resources": json.loads(local.to_json()),
                    "environment": {
                        **local.environment(),
                        **{
                            resources.ENV_WS_MANAGEMENT_URL: api_url,
                            resources.ENV_TELEGRAM_API_URL: telegram_api_url,
                        },
                    },
                },
                indent=2,
            ),
        )
        log.info("local cloud ready")

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        while not self.stop.is_set():
            await asyncio.sleep(0.2)

        log.info("stopping: agent tasks first (they back up), then saving user data")
        await loop.run_in_executor(None, fargate.shutdown)
        if image is not None and image.guard is not None:
            try:
                image.guard.close()
            except Exception:
                log.exception("removing the agent's firewall rules failed")
        try:
            counts = data.export_user_data(
                clients["dynamodb"],
                clients["s3"],
                self.paths.data,
                deployment=self.spec.name,
                account=ACCOUNT,
                region=self.spec.region,
            )
            log.info("saved user data: %s", counts)
        except Exception:
            log.exception("saving user data failed")
        self.paths.state.unlink(missing_ok=True)
        await runner.cleanup()
        if offline:
            offline.stop()
        if bedrock is not None:
            bedrock.stop()
        if self.enforcement is not None:
            self.enforcement.close()
        moto.stop()
        log.info("stopped")

    def _infra_spec(self) -> Any:
        """What the CDK app would be given for this deployment: every secret configured (the
        local target always names all three parameters), moto's account, two zones."""
        from openclaw_deploy.config import AgentSpec
        from openclaw_deploy.infra.spec import InfraSpec

        spec = self.spec
        return InfraSpec(
            name=spec.name,
            region=spec.region,
            account=ACCOUNT,
            availability_zones=(f"{spec.region}a", f"{spec.region}b"),
            agent=AgentSpec(
                cpu=spec.cpu, memory=spec.memory, idle_timeout_minutes=spec.idle_timeout_minutes
            ),
            provider=spec.provider,
            model=spec.model,
            llm_base_url=spec.llm_base_url,
            telegram_api_url=spec.telegram_api_url,
            secret_parameters={s.key: s.parameter_name(spec.name) for s in resources.SECRETS},
        )

    def _enforce(
        self,
        job: Any,
        moto: Any,
        ecs: Any,
        queue_urls: dict[str, str],
        dead_letter: dict[str, str],
        emulator: Any,
    ) -> Any:
        from openclaw_deploy.infra.spec import function_name, task_family
        from openclaw_deploy.local.iam import enforce, policies

        started = time.monotonic()
        template = job.result()
        urls = {
            url.rsplit("/", 1)[-1]: url for url in [*queue_urls.values(), *dead_letter.values()]
        }

        def latest_revision(family: str) -> str:
            arn = ecs.describe_task_definition(taskDefinition=family)["taskDefinition"][
                "taskDefinitionArn"
            ]
            return str(arn).rsplit("/", 1)[-1]

        enforcement = enforce.enforce(
            template,
            names=policies.LocalNames(
                deployment=self.spec.name,
                region=self.spec.region,
                account=ACCOUNT,
                api_id=emulator.config.api_id,
                queue_urls=urls,
            ),
            sessions={
                **{key: function_name(self.spec.name, key) for key in policies.LAMBDA_COMPONENTS},
                policies.TASK: task_family(self.spec.name),
                policies.EXECUTION: "ecs-tasks",
            },
            audit_path=self.paths.logs / "iam-audit.jsonl",
            latest_revision=latest_revision,
        )
        log.info(
            "IAM enforced for %s (template %s, %.1fs); audit in %s",
            ", ".join(sorted(enforcement.identities)),
            "cached" if job.from_cache else "synthesized",
            time.monotonic() - started,
            self.paths.logs / "iam-audit.jsonl",
        )
        return enforcement

    def _authorize_connections(
        self, headers: Any, action: str, resource: str
    ) -> tuple[int, dict[str, str], bytes] | None:
        if self.enforcement is None:
            return None
        answer: tuple[int, dict[str, str], bytes] | None = (
            self.enforcement.authorizer.authorize_call(
                headers, action, resource, service="execute-api"
            )
        )
        return answer

    def _authorize_bedrock(
        self, headers: Any, action: str, resource: str
    ) -> tuple[int, dict[str, str], bytes] | None:
        if self.enforcement is None:
            return None
        answer: tuple[int, dict[str, str], bytes] | None = (
            self.enforcement.authorizer.authorize_call(headers, action, resource, service="bedrock")
        )
        return answer

    def _task_stopped(self, cluster: str) -> Callable[[str, str, int | None], None] | None:
        """What EventBridge does on AWS when an agent task stops: ECS's task state-change event
        to the watchdog, at once (not while the local cloud itself shuts down)."""
        if os.environ.get(ENV_TASK_EVENTS) == "0":
            return None
        handler = _handler("watchdog", self._credentials("watchdog"))
        from openclaw_deploy.local.apigw import LambdaContext
        from openclaw_deploy.runtime.lifecycle import STARTED_BY

        cluster_arn = f"arn:aws:ecs:{self.spec.region}:{ACCOUNT}:cluster/{cluster}"

        def stopped(arn: str, reason: str, exit_code: int | None) -> None:
            if self.stop.is_set():
                return
            event = {
                "version": "0",
                "source": "aws.ecs",
                "detail-type": "ECS Task State Change",
                "account": ACCOUNT,
                "region": self.spec.region,
                "resources": [arn],
                "detail": {
                    "clusterArn": cluster_arn,
                    "taskArn": arn,
                    "lastStatus": "STOPPED",
                    "desiredStatus": "STOPPED",
                    "startedBy": STARTED_BY,
                    "stoppedReason": reason,
                    "containers": [{"name": "agent", "exitCode": exit_code}],
                },
            }
            try:
                handler(event, LambdaContext(function_name="watchdog"))
            except Exception:
                logging.getLogger("openclaw_deploy.handlers.watchdog").exception(
                    "watchdog failed on the stopped-task event"
                )

        return stopped

    def _serve_schedules(self, moto_url: str) -> None:
        """EventBridge Scheduler: moto keeps the schedules, this fires them (local.scheduler),
        invoking the schedule function only when the scheduler's role may."""
        from openclaw_deploy.local import scheduler
        from openclaw_deploy.local.iam import policies, requests
        from openclaw_deploy.runtime import schedules

        # The handlers of this process find the group as the deployed functions do.
        os.environ[schedules.ENV_GROUP] = schedules.group_name(self.spec.name)
        # The Schedules page: what a CreateSchedule names, and what a task hour costs.
        from openclaw_deploy.runtime.schedule_plan import ENV_TASK_HOUR_USD
        from openclaw_deploy.services.cost import task_hour_usd

        names = schedules.Names.of(self.spec.name, account=ACCOUNT, region=self.spec.region)
        os.environ.update(names.environment())
        os.environ[ENV_TASK_HOUR_USD] = f"{task_hour_usd(self._infra_spec().agent):.4f}"

        def refusal(arn: str) -> str | None:
            if self.enforcement is None:
                return None
            identity = self.enforcement.identities.get(policies.SCHEDULER)
            if identity is None:
                return "the template has no role for EventBridge Scheduler"
            check = requests.Check(action="lambda:InvokeFunction", resource=arn)
            refused = self.enforcement.authorizer.evaluate(identity, [check])
            return None if refused is None else refused.reason

        scheduler.serve(
            self.stop,
            moto_url=moto_url,
            region=self.spec.region,
            account=ACCOUNT,
            deployment=self.spec.name,
            handler=_handler("schedule", self._credentials("schedule")),
            refusal=refusal,
        )

    def _watchdog(self) -> None:
        handler = _handler("watchdog", self._credentials("watchdog"))
        from openclaw_deploy.local.apigw import LambdaContext

        while not self.stop.wait(WATCHDOG_INTERVAL_SECONDS):
            event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
            try:
                handler(event, LambdaContext(function_name="watchdog"))
            except Exception:
                logging.getLogger("openclaw_deploy.handlers.watchdog").exception("watchdog failed")


def _port(url: str) -> int:
    from urllib.parse import urlsplit

    port = urlsplit(url).port
    if port is None:
        raise ValueError(f"{url} names no port")
    return port


def _image_runtime(spec: Spec, local_ports: list[int]) -> tuple[ImageRuntime | None, Guard | None]:
    """The image mode's runtime: the image the CLI built, read from buildah's storage, and the
    firewall that keeps its agent off `local_ports` (and whether there is one)."""
    if spec.agent_runtime != "image":
        return None, None
    from openclaw_deploy.local.fargate import ImageRuntime
    from openclaw_deploy.local.firewall import LoopbackGuard
    from openclaw_deploy.local.image import Buildah, require_root_tools, storage_home

    if not spec.agent_image:
        raise ValueError("the image mode needs spec.agent_image (the CLI builds it)")
    require_root_tools()
    buildah = Buildah(storage_home())
    guard = LoopbackGuard(local_ports)
    network = guard.check()
    if network.guarded:
        log.info("image tasks: the agent's user is refused the local cloud: %s", network.reason)
    else:
        log.error(
            "image tasks: THE AGENT CAN REACH THE LOCAL CLOUD (moto, the emulator) with a "
            "made-up key, which AWS would refuse: %s",
            network.reason,
        )
    return (
        ImageRuntime(
            buildah=buildah,
            image_id=spec.agent_image,
            config=buildah.image_config(spec.agent_image),
            guard=guard if network.guarded else None,
        ),
        network,
    )


class _OptionalSecrets:
    """SSM for the local Fargate: a secret parameter that was never stored is simply absent
    (the offline model needs no key), where ECS would refuse to start the task."""

    def __init__(self, ssm: Any) -> None:
        self._ssm = ssm

    def get_parameter(self, **kwargs: Any) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = self._ssm.get_parameter(**kwargs)
        except self._ssm.exceptions.ParameterNotFound:
            return {"Parameter": {"Value": ""}}
        return answer


def _manual_ecs_transitions(moto_url: str) -> None:
    import urllib.request

    body = json.dumps(
        {"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1_000_000}}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - our own moto server on loopback
        f"{moto_url}/moto-api/state-manager/set-transition", data=body, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310
        pass


def _web_dir() -> Path | None:
    from openclaw_deploy import assets
    from openclaw_deploy.errors import DeployError

    try:
        folder = assets.asset_dir("web")
    except DeployError:
        return None
    return folder if (folder / "index.html").is_file() else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", required=True, type=Path)
    args = parser.parse_args(argv)
    paths = LocalPaths(args.home.resolve())
    _setup_logging(paths)
    try:
        asyncio.run(Daemon(paths, Spec.load(paths.spec)).run())
    except Exception:
        log.exception("the local cloud failed")
        paths.state.unlink(missing_ok=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
