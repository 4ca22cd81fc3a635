"""``punctual tenants``: onboard tenants on a deployed stage. A tenant is an API key in the stage's usage plan;
the API takes the key's id (API Gateway's ``identity.apiKeyId``) as the tenant, so that id is also the
``tenant`` message attribute of the tenant's fired events.

The stage's usage plan and URL come from the outputs of its stack (``punctual-<stage>``: ``UsagePlanId``,
``ApiUrl``), read with CloudFormation ``DescribeStacks``; ``--usage-plan`` names the plan directly."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from punctual_cli import render

EXIT_ERROR, EXIT_USAGE, EXIT_NOT_FOUND = 1, 2, 3

DEV_MESSAGE = (
    "punctual: tenants needs --stage NAME (the deployed stack punctual-NAME) or --usage-plan ID. "
    "Under `punctual dev` there is nothing to create: API keys are free-form there, and any x-api-key "
    "value is its own tenant (punctual --api-key acme tasks list)."
)

_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def cloudformation_client(region: str | None) -> Any:
    """The CloudFormation client that reads the stack's outputs. Tests replace this with a fake or moto's."""
    import boto3

    return boto3.client("cloudformation", region_name=region)


def apigateway_client(region: str | None) -> Any:
    """The API Gateway client that manages the keys and the usage plan. Tests may replace this."""
    import boto3

    return boto3.client("apigateway", region_name=region)


tenants_app = typer.Typer(
    help="Onboard tenants on a deployed stage: each tenant is an API key in the stage's usage plan.",
    no_args_is_help=True,
    epilog=(
        "Target: --stage NAME reads the outputs UsagePlanId and ApiUrl of the stack punctual-NAME; "
        "--usage-plan ID names the plan directly. --region / AWS_REGION (default: the AWS configuration). "
        "Under punctual dev any x-api-key value is its own tenant: there is nothing to create.\n\n"
        "Exit codes: 0 ok; 1 an AWS error; 2 bad usage; 3 not found."
    ),
)

StageOption = Annotated[
    str | None,
    typer.Option("--stage", metavar="NAME", help="the deployed stage (its stack is punctual-NAME)"),
]
UsagePlanOption = Annotated[
    str | None,
    typer.Option(
        "--usage-plan", metavar="ID", help="the usage plan's id (overrides the stack's UsagePlanId)"
    ),
]
RegionOption = Annotated[
    str | None, typer.Option("--region", envvar="AWS_REGION", metavar="REGION", help="the stack's region")
]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]


@dataclass(frozen=True)
class Target:
    """Where tenants live: a usage plan, and (from the stack) the API's URL."""

    usage_plan_id: str
    stage: str | None
    api_url: str | None
    region: str | None


def _as_json(ctx: typer.Context, local: bool) -> bool:
    return local or bool(getattr(ctx.find_root().obj, "as_json", False))


def _fail(message: str, code: int = EXIT_ERROR) -> typer.Exit:
    typer.echo(f"punctual: {message}", err=True)
    return typer.Exit(code)


@contextlib.contextmanager
def _aws() -> Iterator[None]:
    """An AWS error (no credentials, no region, access denied, ...) ends the command with exit 1."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as failure:
        error = failure.response.get("Error", {})
        raise _fail(f"{error.get('Code', 'error')}: {error.get('Message', failure)}") from None
    except BotoCoreError as failure:
        raise _fail(f"{type(failure).__name__}: {failure}") from None


def _error_code(failure: Exception) -> str:
    response = getattr(failure, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def stack_outputs(stage: str, region: str | None) -> dict[str, str]:
    """The outputs of the stack ``punctual-<stage>`` (exit 3 when there is no such stack)."""
    from botocore.exceptions import ClientError

    stack_name = f"punctual-{stage}"
    try:
        answer = cloudformation_client(region).describe_stacks(StackName=stack_name)
    except ClientError as failure:
        if _error_code(failure) == "ValidationError":  # CloudFormation's "Stack ... does not exist"
            raise _fail(
                f"no stack {stack_name} in {region or 'the default region'} (deploy it with "
                f"cdk deploy -c stage={stage} {stack_name}, or pass --region / --usage-plan)",
                EXIT_NOT_FOUND,
            ) from None
        raise
    [stack] = answer["Stacks"]
    return {str(o["OutputKey"]): str(o["OutputValue"]) for o in stack.get("Outputs", [])}


def stage_target(stage: str, region: str | None) -> tuple[str, str]:
    """The deployed stage's API URL and its stack's own API key value (``--stage`` on any API command)."""
    with _aws():
        outputs = stack_outputs(stage, region)
        missing = [name for name in ("ApiUrl", "ApiKeyId") if name not in outputs]
        if missing:
            raise _fail(
                f"stack punctual-{stage} has no {' or '.join(missing)} output; pass --url / --api-key"
            )
        key = apigateway_client(region).get_api_key(apiKey=outputs["ApiKeyId"], includeValue=True)
    return outputs["ApiUrl"], str(key["value"])


def resolve(stage: str | None, usage_plan: str | None, region: str | None) -> Target:
    if stage is None and usage_plan is None:
        typer.echo(DEV_MESSAGE, err=True)
        raise typer.Exit(EXIT_USAGE)
    outputs = stack_outputs(stage, region) if stage is not None else {}
    plan_id = usage_plan or outputs.get("UsagePlanId")
    if not plan_id:
        raise _fail(
            f"the stack punctual-{stage} has no UsagePlanId output (redeploy it, or pass --usage-plan ID)"
        )
    return Target(usage_plan_id=plan_id, stage=stage, api_url=outputs.get("ApiUrl"), region=region)


def _key_prefix(target: Target, apigateway: Any) -> str:
    """``punctual-<stage>``; with --usage-plan alone, the plan's name (the stack names it punctual-<stage>)."""
    if target.stage is not None:
        return f"punctual-{target.stage}"
    return str(apigateway.get_usage_plan(usagePlanId=target.usage_plan_id).get("name") or "punctual")


def _created(value: Any) -> str:
    return render.instant(value) if isinstance(value, datetime) else str(value or "")


def _key(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": value["id"],
        "name": value.get("name", ""),
        "enabled": bool(value.get("enabled", False)),
        "created": _created(value.get("createdDate")),
    }


def _panel(title: str, rows: list[tuple[str, str]], style: str) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for key, value in rows:
        if value:
            grid.add_row(key, Text(value))
    return Panel(grid, title=title, title_align="left", border_style=style, expand=False)


@tenants_app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="the tenant's name (letters, digits, ._-)")],
    stage: StageOption = None,
    usage_plan: UsagePlanOption = None,
    region: RegionOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a tenant: a new API key, enabled, in the stage's usage plan. Prints the key once."""
    as_json = _as_json(ctx, as_json)
    if not _NAME.match(name):
        raise _fail("NAME must be 1-64 letters, digits and ._-", EXIT_USAGE)
    with _aws():
        target = resolve(stage, usage_plan, region)
        apigateway = apigateway_client(region)
        key_name = f"{_key_prefix(target, apigateway)}-{name}"
        key = apigateway.create_api_key(
            name=key_name,
            description=f"punctual tenant {name} (punctual tenants create)",
            enabled=True,
        )
        try:
            apigateway.create_usage_plan_key(
                usagePlanId=target.usage_plan_id, keyId=key["id"], keyType="API_KEY"
            )
        except Exception:
            apigateway.delete_api_key(apiKey=key["id"])  # no key outside the plan is left behind
            raise
    api_url = target.api_url or "<ApiUrl>"
    example = f"punctual --url {api_url} --api-key {key['value']} tasks list"
    created = {
        **_key(key),
        "value": key["value"],
        "tenant": key["id"],
        "usage_plan_id": target.usage_plan_id,
        "stage": target.stage,
        "api_url": target.api_url,
        "example": example,
    }
    if as_json:
        render.print_json(created)
        return
    out = render.console()
    rows = [
        ("tenant", f"{key['id']} (the API key's id: the tenant attribute of its fired events)"),
        ("name", key_name),
        ("api key", key["value"]),
        ("api url", target.api_url or ""),
        ("usage plan", target.usage_plan_id),
    ]
    out.print(_panel("tenant created", rows, "green"))
    out.print("Give the api key to the tenant (sent as x-api-key); punctual shows it only this once.")
    out.print(example, soft_wrap=True)


@tenants_app.command("list")
def list_(
    ctx: typer.Context,
    stage: StageOption = None,
    usage_plan: UsagePlanOption = None,
    region: RegionOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the API keys of the stage's usage plan (the stage's tenants)."""
    as_json = _as_json(ctx, as_json)
    with _aws():
        target = resolve(stage, usage_plan, region)
        apigateway = apigateway_client(region)
        keys = []
        arguments: dict[str, Any] = {"usagePlanId": target.usage_plan_id, "limit": 500}
        while True:
            page = apigateway.get_usage_plan_keys(**arguments)
            for item in page.get("items", []):
                keys.append(_key(apigateway.get_api_key(apiKey=item["id"])))
            if not page.get("position"):
                break
            arguments["position"] = page["position"]
    keys.sort(key=lambda k: (k["created"], k["id"]))
    if as_json:
        render.print_json(keys)
        return
    table = Table(header_style="bold")
    for column in ("id (tenant)", "name", "enabled", "created"):
        table.add_column(column, overflow="fold", no_wrap=column.startswith("id"))
    for k in keys:
        table.add_row(k["id"], k["name"], "yes" if k["enabled"] else "no", k["created"])
    out = render.console()
    out.print(table)
    out.print(f"{len(keys)} key{'s' if len(keys) != 1 else ''} in usage plan {target.usage_plan_id}")


@tenants_app.command("revoke")
def revoke(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(metavar="KEY_ID", help="the tenant's API key id")],
    stage: StageOption = None,
    usage_plan: UsagePlanOption = None,
    region: RegionOption = None,
    delete: Annotated[bool, typer.Option("--delete", help="delete the key instead of disabling it")] = False,
    as_json: JsonOption = False,
) -> None:
    """Revoke a tenant: remove its key from the usage plan and disable it (or --delete it). Its tasks stay
    stored and keep firing; cancel them first if they should not."""
    as_json = _as_json(ctx, as_json)
    with _aws():
        target = resolve(stage, usage_plan, region)
        apigateway = apigateway_client(region)
        try:
            key = apigateway.get_api_key(apiKey=key_id)
        except Exception as failure:
            if _error_code(failure) == "NotFoundException":
                raise _fail(f"no API key {key_id}", EXIT_NOT_FOUND) from None
            raise
        removed = True
        try:
            apigateway.delete_usage_plan_key(usagePlanId=target.usage_plan_id, keyId=key_id)
        except Exception as failure:
            if _error_code(failure) != "NotFoundException":
                raise
            removed = False  # not (or no longer) in the plan: still disable or delete it
        if delete:
            apigateway.delete_api_key(apiKey=key_id)
        else:
            apigateway.update_api_key(
                apiKey=key_id, patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}]
            )
    revoked = {
        "id": key_id,
        "name": key.get("name", ""),
        "enabled": False,
        "deleted": delete,
        "removed_from_usage_plan": removed,
        "usage_plan_id": target.usage_plan_id,
    }
    if as_json:
        render.print_json(revoked)
        return
    rows = [
        ("id", key_id),
        ("name", revoked["name"]),
        ("key", "deleted" if delete else "disabled"),
        ("usage plan", f"removed from {target.usage_plan_id}" if removed else "was not in the usage plan"),
    ]
    render.console().print(_panel("tenant revoked", rows, "yellow"))
