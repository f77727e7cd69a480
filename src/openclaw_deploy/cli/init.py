"""`openclaw-deploy init`: set up a deployment — validate, ask, execute, recommend."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console

from openclaw_deploy.cli.common import (
    PASSWORD_KEPT,
    JsonOption,
    NewPasswordOption,
    OwnerPasswordOption,
    YesOption,
    app_context,
    complete_provider,
    complete_target,
)
from openclaw_deploy.config import (
    EMAIL_PATTERN,
    NAME_RE,
    REGION_PATTERN,
    TARGETS,
    AgentSpec,
    Deployment,
)
from openclaw_deploy.errors import AbortedError, CheckFailedError, UsageError
from openclaw_deploy.output import emit, recommend
from openclaw_deploy.prompts import Prompter
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.providers import PROVIDER_IDS, PROVIDERS, get_provider

if TYPE_CHECKING:
    from openclaw_deploy.context import AppContext
    from openclaw_deploy.runtime.providers import Provider
    from openclaw_deploy.services.init import InitResult

HELP: Final = """Set up a deployment: AWS account and region, LLM provider and key, Telegram bot.

Checks the key and the bot token for real, stores every secret as an SSM SecureString under
/openclaw-deploy/NAME/, and writes openclaw-deploy.yaml (parameter names only). Run it again to
change answers: previous answers are the defaults and stored secrets are kept unless replaced.

Secrets come from a hidden prompt, from OPENCLAW_LLM_API_KEY / OPENCLAW_TELEGRAM_BOT_TOKEN, or
from stdin with "-" (when both are "-", the first line is the key and the second the token).

Examples:

\b
  openclaw-deploy init
  OPENCLAW_LLM_API_KEY=... OPENCLAW_TELEGRAM_BOT_TOKEN=... openclaw-deploy init --name mybot \\
      --region eu-west-1 --provider anthropic --owner-email me@example.com --yes
"""
FROM_STDIN: Final = "-"
DEFAULT_NAME: Final = "agent"
DEFAULT_REGION: Final = "us-east-1"
LOCAL_OWNER: Final = "owner@example.com"
NAME_RULE: Final = "3-24 lowercase letters, digits and dashes, starting with a letter"
ImageOption = Annotated[
    bool | None,
    typer.Option(
        "--image/--no-image",
        envvar="OPENCLAW_DEPLOY_LOCAL_IMAGE",
        help="Local target only: run the agent from the image built from container/Dockerfile "
        "(buildah, as root; the first build takes minutes, later ones reuse its layers) instead "
        "of as a process. Default: as the local cloud ran last time, else as a process.",
    ),
]
# Why each question is asked and where its answer comes from, said above the question.
WHY_NAME: Final = "A name for this deployment; the AWS resources are named after it."
WHY_REGION: Final = "The AWS region the agent runs in; one near you answers fastest."
WHY_PROVIDER: Final = "The LLM service your agent thinks with (you pay it for what you use)."
WHY_MODEL: Final = "The model to use; Enter takes the provider's recommended one."
WHY_KEY: Final = "Your {label} API key: the agent calls the model with it. Create one at {page}"
WHY_KEY_CHANGED: Final = " (the stored key belongs to {previous}, so it is not offered)"
WHY_BOT: Final = (
    "Your agent's Telegram bot. In Telegram, message @BotFather (https://t.me/BotFather), "
    "send /newbot, and paste the token it answers with."
)
WHY_EMAIL: Final = "Your email: the web chat's login. AWS Cognito mails the first password to it."
WHY_EMAIL_LOCAL: Final = "Your login for the local web chat (no mail is sent)."
WHY_BUDGET: Final = (
    "A monthly AWS Budget for this deployment: you are emailed (and told on Telegram) at 80 % of "
    "its forecast and at 100 % of actual AWS spend. This agent is modelled at about "
    "${modelled:.2f} a month on AWS (the LLM bills you separately); the default is that rounded "
    "up plus ${margin}. Whole US dollars; 0: no budget."
)
OWNED_ELSEWHERE: Final = (
    "A deployment named {name!r} already exists in aws://{account}/{region} ({what}), but "
    "{config} does not know it: it was set up from another folder."
)
OWNED_ELSEWHERE_HINT: Final = (
    "pick another --name, run openclaw-deploy in the folder that set it up, or pass --adopt to "
    "manage it (and its stored secrets) from here"
)


def _check_name(value: str) -> str | None:
    return None if NAME_RE.match(value) else f"a deployment name is {NAME_RULE}"


def _known_regions() -> set[str]:
    """Every region botocore knows, in every partition (no network call)."""
    import boto3

    session = boto3.session.Session()
    return {
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("ecs", partition_name=partition)
    }


def _check_region(value: str) -> str | None:
    if not REGION_PATTERN.match(value):
        return "an AWS region looks like us-east-1"
    known = _known_regions()
    if not known or value in known:
        return None
    import difflib

    near = difflib.get_close_matches(value, sorted(known), n=2)
    return "there is no such AWS region" + (f" (did you mean {' or '.join(near)}?)" if near else "")


def _check_email(value: str) -> str | None:
    return None if EMAIL_PATTERN.match(value) else "an email address looks like me@example.com"


def _check_token(value: str) -> str | None:
    from openclaw_deploy.runtime.telegram import TOKEN_PATTERN

    return (
        None
        if TOKEN_PATTERN.match(value)
        else "a bot token looks like 123456789:AA… (from @BotFather)"
    )


def _answer(
    prompter: Prompter,
    given: str | None,
    *,
    question: str,
    flag: str,
    env: str | None = None,
    default: str | None = None,
    check: object = None,
    why: str | None = None,
) -> str:
    """A flag's value if given (validated), else a prompt, else the default, else an error."""
    validate = check if callable(check) else None
    if given is not None:
        problem = validate(given) if validate else (None if given.strip() else "it is empty")
        if problem:
            raise UsageError(
                f"{flag} {given!r} is not valid: {problem}.", hint=f"pass a valid {flag}"
            )
        return given.strip()
    if prompter.interactive:
        return prompter.text(
            question, flag=flag, env=env, default=default, validate=validate, why=why
        )
    if default:
        return default
    return prompter.text(question, flag=flag, env=env)  # raises MissingInputError


def _secret(
    prompter: Prompter,
    given: str | None,
    *,
    question: str,
    why: str,
    flag: str,
    env: str,
    keep_existing: bool,
    check: Callable[[str], str | None] | None,
) -> tuple[str | None, str | None]:
    """(secret, what its check found): a given value or a hidden answer, checked for real right
    away, so a refused one is asked again at once instead of failing after every question.
    None keeps the stored secret."""
    explain = True
    while True:
        value = given
        if value is None:
            value = prompter.secret(
                question, flag=flag, env=env, keep_existing=keep_existing, why=why, explain=explain
            )
        if value is None or check is None:
            return value, None
        try:
            return value, check(value)
        except CheckFailedError as error:
            if given is not None or not prompter.interactive:
                raise
            prompter.problem(f"{error.message} {error.hint or ''}".strip())
            explain = False


class _Stdin:
    """Reads secrets given as "-" from stdin, one line each, in the order they are asked for."""

    def __init__(self) -> None:
        self._lines: list[str] | None = None

    def take(self, what: str, flag: str) -> str:
        if self._lines is None:
            self._lines = [line.strip() for line in sys.stdin.read().splitlines() if line.strip()]
        if not self._lines:
            raise UsageError(
                f"{flag} - was given but stdin holds no {what}.",
                hint=f"echo VALUE | openclaw-deploy init {flag} -",
            )
        return self._lines.pop(0)


def _checked(app: AppContext, what: str, provider: Provider, key: str, base_url: str | None) -> str:
    from openclaw_deploy.services.checks import check_llm_key

    with app.reporter().task(what):
        return check_llm_key(provider, key, base_url=base_url).detail


def _checked_bot(app: AppContext, token: str, *, skip: bool, api_url: str | None) -> str | None:
    """The bot's username (None when checks are skipped); the token's format is always checked."""
    if problem := _check_token(token):
        raise CheckFailedError(
            f"The Telegram bot token is not valid: {problem}.",
            hint="copy it again from @BotFather (/token)",
        )
    if skip:
        return None
    from openclaw_deploy.services.checks import check_telegram_token

    with app.reporter().task("Checking the Telegram bot token (getMe)"):
        return check_telegram_token(token, api_url=api_url).username


def _budget(
    prompter: Prompter, given: str | None, *, previous: int | None, agent: AgentSpec, ask: bool
) -> int | None:
    """The monthly budget in whole USD; None: the default, which follows the modelled cost."""
    from openclaw_deploy.services.budget import (
        BUDGET_MARGIN_USD,
        budget_problem,
        modelled_budget_usd,
        parse_budget,
    )

    if given is not None:
        return parse_budget(given)
    if not ask or not prompter.interactive:
        return previous
    from openclaw_deploy.services.cost import estimate

    default = modelled_budget_usd(agent)
    answer = prompter.text(
        "Monthly budget in USD",
        flag="--monthly-budget",
        env="OPENCLAW_MONTHLY_BUDGET",
        default=str(default if previous is None else previous),
        validate=budget_problem,
        why=WHY_BUDGET.format(modelled=estimate(agent).total_usd, margin=BUDGET_MARGIN_USD),
    )
    usd = parse_budget(answer)
    return None if previous is None and usd == default else usd


def _stop_on_failure(ctx: typer.Context, app: AppContext, name: str) -> None:
    """Stop the local cloud this run starts unless the run finishes (the config names it)."""
    from openclaw_deploy.services.local import stop_local_cloud

    finished = ctx.meta.setdefault("init_finished", [False])

    def cleanup() -> None:
        if not finished[0]:
            app.err_console.print(
                "\nStopping the local cloud this init started (nothing was kept)."
            )
            stop_local_cloud(app, name)

    ctx.call_on_close(cleanup)


def _refuse_one_owned_elsewhere(app: AppContext, name: str, region: str, account: str) -> None:
    """A deployment of this name in the account but not in this config belongs to another folder:
    taking it over silently would redeploy it with this folder's answers and its stored key."""
    from openclaw_deploy.aws.cloudformation import CloudFormation
    from openclaw_deploy.aws.ssm import SecretStore

    what: list[str] = []
    stack = resources.resource_prefix(name)
    info = CloudFormation(app.client("cloudformation", region)).describe(stack)
    if info is not None and info.status != "DELETE_COMPLETE":
        what.append(f"stack {stack}")
    stored = SecretStore(app.client("ssm", region), name).names_under(f"/openclaw-deploy/{name}/")
    if stored:
        what.append(f"{len(stored)} stored secret(s) under /openclaw-deploy/{name}/")
    if not what:
        return
    message = OWNED_ELSEWHERE.format(
        name=name, account=account, region=region, what=", ".join(what), config=app.config.path
    )
    if not app.prompter.interactive:
        raise UsageError(message, hint=OWNED_ELSEWHERE_HINT)
    app.err_console.print(f"[yellow]![/] {message}", highlight=False)
    if not app.prompter.confirm("Manage it from here?", default=False, flag="--adopt"):
        raise AbortedError("Nothing was changed.", hint=OWNED_ELSEWHERE_HINT)


def _budget_text(result: InitResult) -> str:
    if not result.monthly_budget_usd:
        return "none (AWS Budgets will not alert you)"
    text = f"${result.monthly_budget_usd} a month"
    if result.budget_is_default:
        text += " (the default: modelled cost + margin)"
    return text + ("; applies on AWS only" if result.target == "local" else "")


def _render(console: Console, result: InitResult) -> None:
    console.print(f"\n[bold green]Deployment {result.name!r} is configured.[/]", highlight=False)
    rows = [
        ("target", result.target),
        ("account", result.account or "-"),
        ("region", result.region),
        ("model", f"{result.provider}/{result.model}"),
        ("owner", result.owner_email or "-"),
        ("telegram bot", f"@{result.telegram_bot}" if result.telegram_bot else "-"),
        ("budget", _budget_text(result)),
        ("config file", result.config_path),
    ]
    for key, value in rows:
        console.print(f"  {key:<13} {value}", highlight=False)
    for name in result.stored:
        console.print(f"  secret        {name} = *** (stored)", highlight=False)
    for name in result.kept:
        console.print(f"  secret        {name} = *** (kept)", highlight=False)
    if result.local:
        access = result.local
        console.print("\n[bold]Your local agent is up[/] (it starts on your first message):")
        console.print(
            f"  web chat      {access.web_url or '(web app not built: scripts/build-web)'}"
        )
        console.print(f"  login         {access.owner_email}")
        if access.owner_password:
            console.print(f"  password      {access.owner_password}   (shown once; keep it)")
        elif access.password_kept:
            console.print(f"  password      {PASSWORD_KEPT}")
        console.print(f"  HTTP API      {access.api_url}/api/")
        console.print(f"  WebSocket     {access.ws_url}")
        console.print(f"  Telegram hook {access.telegram_webhook_url}")
        console.print(f"  logs          {access.logs}")


def init(  # noqa: PLR0912, PLR0915 - one flow of questions; each step is a few lines
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Option(
            "--name", "-n", envvar="OPENCLAW_DEPLOY_NAME", help=f"Deployment name ({NAME_RULE})."
        ),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            envvar="OPENCLAW_DEPLOY_TARGET",
            metavar="[aws|local]",
            autocompletion=complete_target,
            help="Where it runs: aws or local.",
        ),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            "--region",
            envvar="OPENCLAW_DEPLOY_REGION",
            help="AWS region (default: your AWS config's, else us-east-1).",
        ),
    ] = None,
    provider: Annotated[
        str | None,
        typer.Option(
            "--provider",
            envvar="OPENCLAW_LLM_PROVIDER",
            metavar=f"[{'|'.join(PROVIDER_IDS)}]",
            autocompletion=complete_provider,
            help=f"LLM provider: {', '.join(PROVIDER_IDS)}.",
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            envvar="OPENCLAW_LLM_MODEL",
            help="Model id (default: the provider's recommended one).",
        ),
    ] = None,
    owner_email: Annotated[
        str | None,
        typer.Option(
            "--owner-email",
            envvar="OPENCLAW_OWNER_EMAIL",
            help="The owner's email: the web login, where Cognito sends the first password.",
        ),
    ] = None,
    llm_api_key: Annotated[
        str | None,
        typer.Option(
            "--llm-api-key",
            envvar="OPENCLAW_LLM_API_KEY",
            show_envvar=True,
            help='The provider API key, or "-" to read it from stdin. '
            "Prefer the env var: flags show in ps.",
        ),
    ] = None,
    telegram_bot_token: Annotated[
        str | None,
        typer.Option(
            "--telegram-bot-token",
            envvar="OPENCLAW_TELEGRAM_BOT_TOKEN",
            show_envvar=True,
            help='The bot token from @BotFather, or "-" for stdin.',
        ),
    ] = None,
    llm_base_url: Annotated[
        str | None,
        typer.Option(
            "--llm-base-url",
            envvar="OPENCLAW_LLM_BASE_URL",
            help="Override the provider's API base URL (proxies, offline checks).",
        ),
    ] = None,
    telegram_api_url: Annotated[
        str | None,
        typer.Option(
            "--telegram-api-url",
            envvar="OPENCLAW_TELEGRAM_API_URL",
            help="Override the Telegram Bot API base URL.",
        ),
    ] = None,
    skip_checks: Annotated[
        bool,
        typer.Option(
            "--skip-checks", help="Do not call the provider or Telegram to check the key and token."
        ),
    ] = False,
    no_deploy: Annotated[
        bool, typer.Option("--no-deploy", help="Stop after storing configuration and secrets.")
    ] = False,
    adopt: Annotated[
        bool,
        typer.Option(
            "--adopt",
            help="Manage from here a deployment of this name that another folder set up.",
        ),
    ] = False,
    monthly_budget: Annotated[
        str | None,
        typer.Option(
            "--monthly-budget",
            envvar="OPENCLAW_MONTHLY_BUDGET",
            metavar="USD",
            help="The monthly AWS Budget in US dollars (alerts at 80 % of forecast and 100 % of "
            "actual; 0: none). Default: the modelled monthly cost rounded up plus 5.",
        ),
    ] = None,
    image: ImageOption = None,
    yes: YesOption = False,
    owner_password: OwnerPasswordOption = None,
    new_password: NewPasswordOption = False,
    as_json: JsonOption = False,
) -> None:
    app = app_context(ctx, assume_yes=yes)
    prompter = app.prompter
    config = app.config
    stdin = _Stdin()

    # Validate what was given before asking anything.
    if target is not None and target not in TARGETS:
        raise UsageError(
            f"--target {target!r} is not valid: choose aws or local.",
            hint="pass --target aws or --target local",
        )
    if provider is not None and provider not in PROVIDERS:
        raise UsageError(
            f"--provider {provider!r} is not supported.",
            hint=f"pass --provider with one of: {', '.join(PROVIDER_IDS)}",
        )
    if llm_api_key == FROM_STDIN:
        llm_api_key = stdin.take("LLM API key", "--llm-api-key")
    if telegram_bot_token == FROM_STDIN:
        telegram_bot_token = stdin.take("Telegram bot token", "--telegram-bot-token")
    if llm_api_key is not None and not llm_api_key.strip():
        raise UsageError(
            "The LLM API key is empty.",
            hint="pass the key in OPENCLAW_LLM_API_KEY, or --llm-api-key -",
        )
    if telegram_bot_token is not None and (problem := _check_token(telegram_bot_token.strip())):
        raise UsageError(
            f"The Telegram bot token is not valid: {problem}.",
            hint="copy it again from @BotFather (/token)",
        )
    from openclaw_deploy.services.budget import budget_problem

    if monthly_budget is not None and (problem := budget_problem(monthly_budget)):
        raise UsageError(
            f"--monthly-budget {monthly_budget!r} is not valid: {problem}.",
            hint="pass --monthly-budget 15 (US dollars a month), or 0 for no budget",
        )

    # Ask for what is missing; earlier answers are the defaults.
    name = _answer(
        prompter,
        name,
        question="Deployment name",
        flag="--name",
        env="OPENCLAW_DEPLOY_NAME",
        default=config.default or DEFAULT_NAME,
        check=_check_name,
        why=WHY_NAME,
    )
    previous: Deployment | None = config.deployments.get(name)
    target = target or (previous.target if previous else "aws")
    local = target == "local"
    if image is not None and not local:
        raise UsageError(
            "--image is for the local target: on AWS the agent always runs from its image.",
            hint="pass --target local, or leave out --image",
        )
    session_region = None if region or previous or local else app.session().region_name
    region = region or (DEFAULT_REGION if local and not previous else None)
    region = _answer(
        prompter,
        region,
        question="AWS region",
        flag="--region",
        env="OPENCLAW_DEPLOY_REGION",
        default=(previous.region if previous else session_region) or DEFAULT_REGION,
        check=_check_region,
        why=WHY_REGION,
    )

    from openclaw_deploy.aws.identity import caller_identity

    if not local:
        with app.reporter().task(f"Checking AWS credentials in {region}"):
            identity = caller_identity(app.client("sts", region), region)
        app.err_console.print(
            f"  Using AWS account [bold]{identity.account}[/] as {identity.arn} "
            f"in [bold]{region}[/]",
            highlight=False,
        )
        if previous is None and not adopt:
            _refuse_one_owned_elsewhere(app, name, region, identity.account)

    # Locally, no key means the offline demo model: anyone can try it with nothing but this tool.
    default_provider = "offline" if local and not llm_api_key else "anthropic"
    provider = provider or (
        prompter.select(
            "LLM provider",
            [(p.id, p.label) for p in PROVIDERS.values()],
            flag="--provider",
            env="OPENCLAW_LLM_PROVIDER",
            default=previous.provider if previous else default_provider,
            why=WHY_PROVIDER,
        )
        if prompter.interactive
        else (previous.provider if previous else default_provider)
    )
    spec = get_provider(provider)
    default_model = (
        previous.model if previous and previous.provider == provider else spec.default_model
    )
    model = _answer(
        prompter,
        model,
        question="Model",
        flag="--model",
        env="OPENCLAW_LLM_MODEL",
        default=default_model,
        why=WHY_MODEL,
    )

    local_state = None
    if local:
        from openclaw_deploy.services.local import local_cloud_running, start_local_cloud

        if not local_cloud_running(app, name):
            # Interrupted or failed before the config is written: stop what this run started,
            # so "nothing was changed" holds and no cloud runs that no config names.
            _stop_on_failure(ctx, app, name)
        local_state = start_local_cloud(
            app,
            name=name,
            region=region,
            provider=provider,
            model=model,
            llm_base_url=llm_base_url or (previous.llm_base_url if previous else None),
            telegram_api_url=telegram_api_url or (previous.telegram_api_url if previous else None),
            agent=previous.agent if previous else AgentSpec(),
            image=image,
        )
        identity = caller_identity(app.client("sts", region), region)

    from openclaw_deploy.aws.ssm import SecretStore

    store = SecretStore(app.client("ssm", region), name)
    base_url = llm_base_url or (previous.llm_base_url if previous else None)
    bot_api_url = telegram_api_url or (previous.telegram_api_url if previous else None)
    key_check: str | None = None
    key_stored = False
    if spec.needs_base_url and not base_url:
        raise UsageError(
            f"{spec.label} needs its endpoint's base URL.",
            hint="pass --llm-base-url http://HOST:PORT/v1",
        )
    if spec.takes_key:
        # Keys are kept per provider: a stored one is offered for its own provider only.
        from openclaw_deploy.runtime.keys import KeyStore, keys_path

        same_provider = previous is not None and previous.provider == provider
        key_stored = KeyStore(store.client, keys_path(name)).has(provider)
        has_key = key_stored or (
            same_provider and store.exists(resources.LLM_API_KEY.parameter_name(name))
        )
        if (
            previous
            and not has_key
            and not spec.key_optional
            and llm_api_key is None
            and not prompter.interactive
        ):
            raise UsageError(
                f"The provider changes from {previous.provider} to {provider}, which needs its "
                f"own API key (the stored one is {previous.provider}'s).",
                hint="pass the key in OPENCLAW_LLM_API_KEY, or --llm-api-key -",
            )
        why = WHY_KEY.format(label=spec.label, page=spec.key_page or "its console")
        if previous and not same_provider and not has_key:
            why += WHY_KEY_CHANGED.format(previous=previous.provider)
        llm_api_key, key_check = _secret(
            prompter,
            llm_api_key,
            question=f"{spec.label} API key",
            why=why,
            flag="--llm-api-key",
            env="OPENCLAW_LLM_API_KEY",
            keep_existing=has_key or spec.key_optional,
            check=None
            if skip_checks
            else lambda key: _checked(
                app, f"Checking the {spec.label} API key", spec, key, base_url
            ),
        )
    bot_username: str | None = None
    if telegram_bot_token is not None or not local:  # locally, Telegram is optional
        has_token = store.exists(resources.TELEGRAM_BOT_TOKEN.parameter_name(name))
        telegram_bot_token, bot_username = _secret(
            prompter,
            telegram_bot_token,
            question="Telegram bot token",
            why=WHY_BOT,
            flag="--telegram-bot-token",
            env="OPENCLAW_TELEGRAM_BOT_TOKEN",
            keep_existing=has_token,
            check=lambda token: _checked_bot(app, token, skip=skip_checks, api_url=bot_api_url),
        )
    owner_email = _answer(
        prompter,
        owner_email,
        question="Owner email (web login)",
        flag="--owner-email",
        env="OPENCLAW_OWNER_EMAIL",
        default=previous.owner_email if previous else (LOCAL_OWNER if local else None),
        check=_check_email,
        why=WHY_EMAIL_LOCAL if local else WHY_EMAIL,
    )
    agent = previous.agent if previous else AgentSpec()
    budget_usd = _budget(
        prompter,
        monthly_budget,
        previous=previous.monthly_budget_usd if previous else None,
        agent=agent,
        ask=not local,  # the local target costs nothing: a budget only matters on AWS
    )

    # Execute.
    from openclaw_deploy.services.init import InitRequest, run_init

    result = run_init(
        InitRequest(
            name=name,
            target=target,
            region=region,
            provider=provider,
            model=model,
            owner_email=owner_email,
            llm_api_key=llm_api_key,
            telegram_bot_token=telegram_bot_token,
            skip_checks=skip_checks,
            llm_base_url=base_url,
            telegram_api_url=bot_api_url,
            agent=agent,
            monthly_budget_usd=budget_usd,
            key_check=key_check,
            bot_username=bot_username,
            key_stored=key_stored,
        ),
        identity=identity,
        store=store,
        config=config,
        reporter=app.reporter(),
    )
    ctx.meta.setdefault("init_finished", [False])[0] = True  # the config names it now
    if previous and (previous.provider, previous.model) != (provider, model):
        # Init's new answer is the model now: an earlier choice made in the web or with
        # `model` would otherwise keep winning over it.
        from openclaw_deploy.services.keys import forget_choice

        forget_choice(app, config.deployments[name])

    if local_state is not None:
        from dataclasses import replace

        from openclaw_deploy.services.local import set_owner_login

        access = set_owner_login(
            app,
            local_state,
            name=name,
            email=owner_email,
            password=owner_password,
            new_password=new_password,
        )
        result = replace(result, local=access, deployed=True)

    # Deploy to AWS unless asked not to: init ends with a running system.
    if local_state is None and not no_deploy:
        import dataclasses

        from openclaw_deploy.cli import deploy as deploy_command

        if not as_json:
            _render(app.console, result)
        deployed = deploy_command.deploy_flow(
            app, config.deployments[name], yes=yes, as_json=as_json
        )
        result = dataclasses.replace(result, deployed=True)
        if as_json:
            emit(app.console, {"init": result, "deploy": deployed}, as_json=True, render=print)
            deploy_command.refuse_unusable(deployed)
        else:
            deploy_command.render_result(app.console, deployed)
            deploy_command.recommend_after_deploy(app, deployed)
        return

    # Recommend.
    emit(app.console, result, as_json=as_json, render=_render)
    if as_json:
        return
    if local_state is not None:
        recommend(
            app.console,
            ("openclaw-deploy status --target local", "the agent's state and the URLs"),
            ("openclaw-deploy logs --target local --follow", "every component's logs"),
            ("openclaw-deploy destroy --target local", "stop it all (your data is kept)"),
        )
    else:
        recommend(
            app.console,
            ("openclaw-deploy doctor", "check that this machine has everything a deploy needs"),
            (
                f"openclaw-deploy deploy --name {name}",
                "create it in AWS (plan and cost first; 15-25 minutes the first time)",
            ),
        )


def register(app: typer.Typer) -> None:
    app.command("init", help=HELP)(init)
