"""What punctual costs on AWS: dollars per million operations by service, and the idle stage per month.

Run: .venv/bin/python bench/bench_cost.py [--repetitions N]

Drives the real handlers on moto (tests/support/cost_model.py) through each user-facing operation, counts its
billable units (AWS calls, DynamoDB write and read units for the table and each GSI, SQS / SNS / EBS / API
Gateway requests, Lambda invocations and handler time, log bytes) and prices them with the table below.
The counts are pinned by tests/integration/firing/test_cost_model.py; the dollars and timings are not.

Two loads: at 1 task per second every SQS batch holds one record and every executor invocation fires one
task; at 100 tasks per second the delay queue delivers batches of 10, so what is paid per batch (the executor
invocation, its wait before publishing, the event source's ReceiveMessage / DeleteMessageBatch) is shared
by 10 tasks. The firing part is measured both ways (one record alone, and a real batch of 10).

The stack's facts (memory, architecture, alarms, keys, secrets, event sources) come from the prod and dev
templates, synthesized in-process by each run; the idle stage's month is printed for both stages.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]
for _name in ("POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_DISABLED", "AWS_LAMBDA_LOG_LEVEL"):
    os.environ.pop(_name, None)
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    LOG_LEVEL="INFO",  # the prod stage's level (infra/config.py StageConfig.log_level); dev runs DEBUG
)

# ============================================================================================================
# PRICES. AWS public price list, us-east-1, as known to the author on 2026-11-30. aws.amazon.com cannot be
# reached from the machine this was written on, so none of these was checked against the live price pages:
# each is one constant, update it here. Free tiers are ignored throughout.
# ============================================================================================================
PRICE_SOURCE = (
    "AWS public price list, us-east-1, as known to the author on 2026-11-30 (not re-checked: offline)"
)
PRICES: dict[str, float] = {
    # DynamoDB on-demand, after the November 2024 cut (was $1.25 / $0.25 per million).
    "dynamodb_write_request_unit": 0.625 / 1e6,
    "dynamodb_read_request_unit": 0.125 / 1e6,
    # Lambda: per request, and per GB-second by architecture.
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second_arm64": 0.0000133334,
    "lambda_gb_second_x86_64": 0.0000166667,
    # SQS standard queue: per request (each started 64 KB of payload is one request).
    "sqs_request": 0.40 / 1e6,
    # SNS standard topic: per publish (each started 64 KB; each PublishBatch entry counts). SNS -> SQS
    # deliveries are free.
    "sns_publish": 0.50 / 1e6,
    # EventBridge Scheduler: per invocation; schedule create/delete API calls are not billed (assumed; the
    # 14 million free invocations a month are ignored like every free tier).
    "ebs_invocation": 1.00 / 1e6,
    "ebs_schedule_api_call": 0.0,
    # API Gateway REST API, first 333 million requests a month.
    "apigateway_rest_request": 3.50 / 1e6,
    # CloudWatch Logs standard ingestion, per GB (1 GB = 2**30 bytes here); storage not counted.
    "logs_ingested_gb": 0.50,
    # Fixed monthly items of the idle stage.
    "cloudwatch_alarm_month": 0.10,  # standard-resolution metric alarm
    "cloudwatch_custom_metric_month": 0.30,  # first 10,000 metrics
    "cloudwatch_dashboard_month": 3.00,  # beyond the account's first 3 (counted as paid here)
    "kms_key_month": 1.00,  # customer-managed key
    "secrets_manager_secret_month": 0.40,
    # X-Ray: per trace recorded (beyond 100,000 free a month, ignored like every free tier).
    "xray_trace_recorded": 5.00 / 1e6,
}

# ------------------------------------------------------------------------------------------------------------
# Modelling constants (every assumption the figures rest on that is not a measurement).
# ------------------------------------------------------------------------------------------------------------
# START + END + REPORT lines of one invocation (REPORT carries the X-Ray ids). Lambda's JSON log format with
# the system log level at WARN (infra/lambdas.py) drops them: they are INFO-level platform events.
_PLATFORM_LINES_BYTES = 300
LAMBDA_PLATFORM_LOG_BYTES = (
    0 if "SystemLogLevel.WARN" in (ROOT / "infra" / "lambdas.py").read_text() else _PLATFORM_LINES_BYTES
)
EXECUTOR_WAIT_SECONDS = (
    0.5  # the executor sleeps out the sub-second remainder before publishing: 0.5 s average
)
BATCH_AT_HIGH_LOAD = 10  # records per delay-queue batch at 100 tasks/s (infra/firing.py EXECUTOR_BATCH_SIZE)
SECONDS_PER_MONTH = 30 * 24 * 3600
MINUTES_PER_MONTH = SECONDS_PER_MONTH // 60
# Every SQS event source mapping of the stage (the executor's delay queue; the runner's delivery queue) long-polls
# its queue even when it is empty: assumed 5 pollers each, each a 20-second ReceiveMessage, i.e. 15 requests a
# minute per queue.
ESM_IDLE_POLLERS = 5
ESM_LONG_POLL_SECONDS = 20
GB = 1024**3
# For the second Lambda figure: each AWS call modelled as this long (instead of moto's in-process time).
AWS_CALL_MODEL_SECONDS = 0.010
SERVICES = ("DynamoDB", "Lambda", "SQS", "SNS", "EBS", "API GW", "Logs")
LOADS = (("1 task/s", 1), ("100 tasks/s", BATCH_AT_HIGH_LOAD))


# --- the deployed stack's facts: memory, architecture, alarms, keys ---------------------------------------
@dataclass
class StackFacts:
    stage: str
    memory_mb: dict[str, int]
    architecture: str
    alarms: int
    kms_keys: int
    secrets: int
    dashboards: int
    event_source_mappings: int  # SQS queues a Lambda event source long-polls, idle or not
    sweeper_traced: bool  # X-Ray active tracing: the default sampling (1 a second + 5%) records every sweep


_FUNCTION_IDS = {
    "api": "ApiHandlerFunction",
    "executor": "FiringExecutorFunction",
    "sweeper": "FiringSweeperFunction",
}


def stack_facts(stage: str) -> StackFacts:
    """From the stage's template, synthesized here from infra/ and cdk.json (in-process, no bundling, as the
    infra tests do: ~10 s), so the figures always describe the code as it is."""
    import tempfile

    from tests.infra.synth import synthesize

    with tempfile.TemporaryDirectory(prefix="bench-cost-synth-") as outdir:
        resources = synthesize(stage, Path(outdir)).resources
    kinds = Counter(resource["Type"] for resource in resources.values())
    memory: dict[str, int] = {}
    traced: set[str] = set()
    architectures: set[str] = set()
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        for function, prefix in _FUNCTION_IDS.items():
            if logical_id.startswith(prefix):
                memory[function] = int(resource["Properties"].get("MemorySize", 128))
                architectures.update(resource["Properties"].get("Architectures", ["x86_64"]))
                if resource["Properties"].get("TracingConfig", {}).get("Mode") == "Active":
                    traced.add(function)
    assert set(memory) == set(_FUNCTION_IDS), memory
    (architecture,) = architectures
    return StackFacts(
        stage=stage,
        memory_mb=memory,
        architecture=architecture,
        alarms=kinds["AWS::CloudWatch::Alarm"],
        kms_keys=kinds["AWS::KMS::Key"],
        secrets=kinds["AWS::SecretsManager::Secret"],
        dashboards=kinds["AWS::CloudWatch::Dashboard"],
        event_source_mappings=kinds["AWS::Lambda::EventSourceMapping"],
        sweeper_traced="sweeper" in traced,
    )


# --- measuring ----------------------------------------------------------------------------------------------
def run_once() -> tuple[dict[str, Any], Any]:
    import boto3
    from moto import mock_aws
    from punctual import bootstrap
    from punctual.adapters import dynamodb_schema

    from tests.integration.api.harness import make_stack
    from tests.support.cost_model import measure_idle_sweep, measure_scenarios, with_production_metrics

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(**dynamodb_schema.table_definition("punctual-bench"))
        stack = with_production_metrics(make_stack(dynamodb, "punctual-bench"))
        try:
            idle = measure_idle_sweep(stack)
            scenarios = measure_scenarios(stack)
        finally:
            bootstrap.use_app(None)
    return scenarios, idle


@dataclass
class Part:
    """One measured part with its timing and log bytes as medians over the repetitions."""

    units: Any  # tests.support.cost_model.Units (counts from the first measured repetition)
    seconds: dict[str, float]  # median handler wall time per function (total of the part)
    log_bytes: dict[str, float]
    aws_seconds: float  # median time inside the (moto) AWS calls
    firing: bool  # an executor delivery from the delay queue (pays the wait before publishing)


def _median_part(samples: list[Any], *, firing: bool) -> Part:
    first = samples[0]
    for other in samples[1:]:
        if other.counts() != first.counts():
            print(f"WARNING: counts differ between repetitions: {first.counts()} vs {other.counts()}")
    functions = set().union(*(sample.invocations for sample in samples))
    return Part(
        units=first,
        seconds={f: statistics.median(sample.seconds[f] for sample in samples) for f in functions},
        log_bytes={f: statistics.median(sample.log_bytes[f] for sample in samples) for f in functions},
        aws_seconds=statistics.median(sample.aws_seconds for sample in samples),
        firing=firing,
    )


# --- pricing ------------------------------------------------------------------------------------------------
def _handler_seconds(part: Part, function: str, call_latency: float | None) -> float:
    """Measured wall time; or, with ``call_latency``, the time outside AWS calls plus that much per call."""
    if call_latency is None:
        return part.seconds[function]
    assert len(part.seconds) == 1, "a part invokes one function"
    own = max(0.0, part.seconds[function] - part.aws_seconds)
    calls: int = sum(part.units.calls.values())
    return own + call_latency * calls


def part_cost(part: Part, facts: StackFacts, call_latency: float | None = None) -> dict[str, float]:
    """Dollars of one part by service."""
    units = part.units
    gb_second = PRICES[f"lambda_gb_second_{facts.architecture.replace('-', '_')}"]
    invocations = sum(units.invocations.values())
    gb_seconds = 0.0
    for function, count in units.invocations.items():
        # Lambda bills duration rounded up to the millisecond, per invocation.
        per_invocation_ms = math.ceil(1000 * _handler_seconds(part, function, call_latency) / count)
        gb_seconds += count * per_invocation_ms / 1000 * facts.memory_mb[function] / 1024
    if part.firing:
        gb_seconds += (
            units.invocations["executor"] * EXECUTOR_WAIT_SECONDS * facts.memory_mb["executor"] / 1024
        )
    log_bytes = (
        sum(part.log_bytes.values()) + LAMBDA_PLATFORM_LOG_BYTES * invocations + units.access_log_bytes
    )
    return {
        "DynamoDB": sum(units.write_units.values()) * PRICES["dynamodb_write_request_unit"]
        + units.read_units * PRICES["dynamodb_read_request_unit"],
        "Lambda": invocations * PRICES["lambda_request"] + gb_seconds * gb_second,
        "SQS": (units.sqs_requests + units.esm_sqs_requests) * PRICES["sqs_request"],
        "SNS": units.sns_requests * PRICES["sns_publish"],
        "EBS": units.ebs_invocations * PRICES["ebs_invocation"]
        + (units.ebs_creates + units.ebs_deletes) * PRICES["ebs_schedule_api_call"],
        "API GW": units.api_requests * PRICES["apigateway_rest_request"],
        "Logs": log_bytes / GB * PRICES["logs_ingested_gb"],
    }


def scenario_parts(scenario: Any, load_divisor: int) -> list[tuple[Part, int]]:
    """The parts one operation pays at a load, each with the number of operations that share it."""
    parts = [(part, scenario["per_request"]) for part in scenario["per_operation"]]
    if load_divisor == 1 and scenario["fire_alone"] is not None:
        parts.append((scenario["fire_alone"], 1))
    if load_divisor > 1 and scenario["fire_batch"] is not None:
        parts.append((scenario["fire_batch"], BATCH_AT_HIGH_LOAD))
    return parts


def per_million(
    scenario: Any, load_divisor: int, facts: StackFacts, call_latency: float | None = None
) -> dict[str, float]:
    total: defaultdict[str, float] = defaultdict(float)
    for part, shared_by in scenario_parts(scenario, load_divisor):
        for service, dollars in part_cost(part, facts, call_latency).items():
            total[service] += dollars / shared_by * 1e6
    return {service: total[service] for service in SERVICES}


# --- printing -----------------------------------------------------------------------------------------------
def _units_line(label: str, part: Part, shared_by: int) -> str:
    u = part.units
    writes = "+".join(f"{u.write_units[k]}" for k in ("table", "GSI1", "GSI2"))
    seconds = ", ".join(f"{f} {1000 * s / u.invocations[f]:.1f} ms" for f, s in sorted(part.seconds.items()))
    seconds += f"; in AWS calls {1000 * part.aws_seconds:.1f} ms"
    logs = (
        sum(part.log_bytes.values())
        + LAMBDA_PLATFORM_LOG_BYTES * sum(u.invocations.values())
        + u.access_log_bytes
    )
    share = f" (/{shared_by})" if shared_by > 1 else ""
    return (
        f"    {label + share:26s} WRU {writes:10s} RRU {u.read_units:5.1f}  SQS {u.sqs_requests}+{u.esm_sqs_requests}"
        f"  SNS {u.sns_requests:2d}  EBS inv {u.ebs_invocations} cr/del {u.ebs_creates}/{u.ebs_deletes}"
        f"  APIGW {u.api_requests}  Lambda {dict(sorted(u.invocations.items()))} [{seconds}]"
        f"  logs {logs:,.0f} B"
    )


def _calls(part: Part) -> str:
    return ", ".join(f"{op} x{n}" if n > 1 else op for op, n in sorted(part.units.calls.items())) or "-"


def print_report(
    scenarios: dict[str, Any], idle: Part, facts: StackFacts, dev_facts: StackFacts, repetitions: int
) -> None:
    print("punctual cost model: real handlers on moto, billable units per operation, priced")
    print(f"Prices: {PRICE_SOURCE}")
    print(f"Stack: the {facts.stage} stage's template, synthesized from infra/ and cdk.json by this run")
    print(
        f"  Lambda {facts.architecture}, memory api {facts.memory_mb['api']} MB, executor "
        f"{facts.memory_mb['executor']} MB, sweeper {facts.memory_mb['sweeper']} MB; {facts.alarms} alarms, "
        f"{facts.kms_keys} KMS key(s), {facts.secrets} secret(s), {facts.dashboards} dashboard(s)"
    )
    print(f"Timings: median of {repetitions} repetitions (after one warm-up), handler wall time on moto")
    print()
    print(
        "Billable units per part  (WRU table+GSI1+GSI2; SQS handler-sent + event-source Receive/DeleteBatch)"
    )
    for name, scenario in scenarios.items():
        print(f"  {name}")
        for index, part in enumerate(scenario["per_operation"]):
            label = "per operation" if index == 0 else "  + EBS wake-up"
            if scenario["per_request"] > 1:
                label = f"per request of {scenario['per_request']}"
            print(_units_line(label, part, scenario["per_request"]))
            print(f"      calls: {_calls(part)}")
        if scenario["fire_alone"] is not None:
            print(_units_line("fire, 1 record", scenario["fire_alone"], 1))
            print(f"      calls: {_calls(scenario['fire_alone'])}")
            print(_units_line("fire, batch of 10", scenario["fire_batch"], BATCH_AT_HIGH_LOAD))
            print(f"      calls: {_calls(scenario['fire_batch'])}")
    print()
    for label, divisor in LOADS:
        print(f"Dollars per million operations at {label}")
        header = f"  {'operation':44s}" + "".join(f"{s:>10s}" for s in SERVICES) + f"{'TOTAL':>10s}"
        print(header)
        for name, scenario in scenarios.items():
            costs = per_million(scenario, divisor, facts)
            cells = "".join(f"{costs[s]:10.3f}" for s in SERVICES)
            print(f"  {name:44s}{cells}{sum(costs.values()):10.3f}")
        print()
    ms = 1000 * AWS_CALL_MODEL_SECONDS
    print(
        f"Lambda dollars per million operations if every AWS call took {ms:.0f} ms (handler time outside the"
    )
    print("calls as measured) instead of moto's in-process time; the tables above use the measured wall time")
    print(f"  {'operation':44s}" + "".join(f"{label:>14s}" for label, _ in LOADS))
    for name, scenario in scenarios.items():
        cells = "".join(
            f"{per_million(scenario, divisor, facts, AWS_CALL_MODEL_SECONDS)['Lambda']:14.3f}"
            for _, divisor in LOADS
        )
        print(f"  {name:44s}{cells}")
    print()
    print_idle(idle, facts, scenarios)
    print()
    print_idle(idle, dev_facts, scenarios)


def print_idle(idle: Part, facts: StackFacts, scenarios: dict[str, Any]) -> None:
    per_sweep = part_cost(idle, facts)
    polls_per_queue = ESM_IDLE_POLLERS * (60 // ESM_LONG_POLL_SECONDS) * MINUTES_PER_MONTH
    esm_polls = facts.event_source_mappings * polls_per_queue
    idle_metrics = sorted(idle.units.metrics)
    all_metrics = set(idle_metrics)
    for scenario in scenarios.values():
        for part in [*scenario["per_operation"], scenario["fire_alone"], scenario["fire_batch"]]:
            if part is not None:
                all_metrics |= part.units.metrics
    lines: list[tuple[str, float]] = [
        (
            f"sweeper Lambda ({MINUTES_PER_MONTH:,} invocations, GB-s)",
            per_sweep["Lambda"] * MINUTES_PER_MONTH,
        ),
        (
            f"sweeper DynamoDB reads ({idle.units.read_units:g} RRU a sweep: {_calls(idle)}; nothing due)",
            per_sweep["DynamoDB"] * MINUTES_PER_MONTH,
        ),
        ("sweeper logs", per_sweep["Logs"] * MINUTES_PER_MONTH),
        ("EBS invocations of the sweep schedule", per_sweep["EBS"] * MINUTES_PER_MONTH),
        (
            f"SQS event sources' idle long polls ({facts.event_source_mappings} queues x {ESM_IDLE_POLLERS} "
            f"pollers x {ESM_LONG_POLL_SECONDS} s: {esm_polls:,} requests)",
            esm_polls * PRICES["sqs_request"],
        ),
        (
            "X-Ray traces of the sweeps (active tracing records each one: "
            f"{'on' if facts.sweeper_traced else 'off'} in this stage)",
            MINUTES_PER_MONTH * PRICES["xray_trace_recorded"] if facts.sweeper_traced else 0.0,
        ),
        (f"CloudWatch alarms ({facts.alarms})", facts.alarms * PRICES["cloudwatch_alarm_month"]),
        (
            f"EMF custom metrics an idle sweep emits ({len(idle_metrics)}{': ' if idle_metrics else ''}"
            f"{', '.join(idle_metrics)})",
            len(idle_metrics) * PRICES["cloudwatch_custom_metric_month"],
        ),
        (f"KMS customer-managed keys ({facts.kms_keys})", facts.kms_keys * PRICES["kms_key_month"]),
        (
            f"Secrets Manager secrets ({facts.secrets})",
            facts.secrets * PRICES["secrets_manager_secret_month"],
        ),
    ]
    print(f"Idle stage ({facts.stage}), dollars per month (30 days, nothing scheduled or due)")
    for label, dollars in lines:
        print(f"  {label:92s} {dollars:8.2f}")
    print(f"  {'TOTAL':92s} {sum(d for _, d in lines):8.2f}")
    print(
        f"  not in the total: {facts.dashboards} dashboard(s) at ${PRICES['cloudwatch_dashboard_month']:.2f} a "
        "month each beyond an account's first 3; the other "
        f"{len(all_metrics) - len(idle_metrics)} EMF metrics the operations emit, "
        f"${PRICES['cloudwatch_custom_metric_month']:.2f} each in a month they are emitted "
        f"(all {len(all_metrics)}: {', '.join(sorted(all_metrics))})"
    )


def aggregate(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per scenario and part: the counts of the first run, medians of the timings and log bytes."""
    scenarios: dict[str, dict[str, Any]] = {}
    for name, first in runs[0].items():
        same = [run[name] for run in runs]
        scenarios[name] = {
            "per_operation": [
                _median_part([scenario.per_operation[index] for scenario in same], firing=False)
                for index in range(len(first.per_operation))
            ],
            "fire_alone": None
            if first.fire_alone is None
            else _median_part([scenario.fire_alone for scenario in same], firing=True),
            "fire_batch": None
            if first.fire_batch is None
            else _median_part([scenario.fire_batch for scenario in same], firing=True),
            "per_request": first.per_request,
        }
    return scenarios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=5, help="measured runs (after one warm-up)")
    repetitions = parser.parse_args().repetitions
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    facts, dev_facts = stack_facts("prod"), stack_facts("dev")
    runs = [run_once() for _ in range(repetitions + 1)][1:]  # the first run warms caches up: dropped
    scenarios = aggregate([scenarios_ for scenarios_, _ in runs])
    idle = _median_part([idle_ for _, idle_ in runs], firing=False)
    print_report(scenarios, idle, facts, dev_facts, repetitions)
    print()
    print_assumptions(facts)


def print_assumptions(facts: StackFacts) -> None:
    print("Assumptions")
    print(f"  - Lambda architecture read from the stack: {facts.architecture}.")
    for line in ASSUMPTIONS:
        print(f"  - {line}")


ASSUMPTIONS = [
    "Prices: the PRICES table at the top of this file; free tiers ignored; us-east-1; no savings plans.",
    "DynamoDB item size = attribute names + values (S: UTF-8 bytes; N: ceil(significant digits / 2) + 1; B: raw "
    "bytes; BOOL/NULL: 1; M/L: 3 + elements + 1 byte per element). WRU = ceil(size / 1 KB) per item, the larger "
    "of the old and new item for a put, the old item for a delete; 2x inside TransactWriteItems. A GSI write "
    "is charged when the item enters (put of the projected item), leaves (delete) or moves (delete + put) in the "
    "index, or when an attribute the index projects changes; GSI writes caused by a transaction are charged "
    "1x (TRANSACTION_GSI_FACTOR in tests/support/cost_model.py). RRU: 1 per started 4 KB strongly consistent, "
    "0.5 eventually (every GSI query); BatchGetItem per item (a missing item at the minimum); Query by the total "
    "size of the items it evaluated before filtering (projected size for a GSI), per started 4 KB.",
    "SQS: the api / executor SendMessage calls are measured; the Lambda event source's ReceiveMessage and "
    "DeleteMessageBatch are modelled as 1 + 1 per delivered batch. Each started 64 KB of payload is a request.",
    "SNS: one billed publish per PublishBatch entry per started 64 KB (message + attributes). Deliveries to the "
    "SQS subscriber are free. KMS requests of the encrypted topic (GenerateDataKey / Decrypt) are not counted: "
    "they depend on SNS's data-key reuse, which this model does not know.",
    "EBS: $1.00 per million invocations (a wake-up fires once; the sweep schedule 43,200 times a month); "
    "CreateSchedule / DeleteSchedule are free API calls; the wake-up deletes itself after it fires "
    "(ActionAfterCompletion=DELETE), so no DeleteSchedule is paid for it.",
    "API Gateway: one REST request per API call; caching off; its access log line (json_with_standard_fields "
    "as infra/api.py configures it) is rebuilt from each response and counted under Logs; execution logging is "
    "ERROR only, so a successful request writes none.",
    f"Logs: bytes the handlers printed during the scenario (Powertools JSON lines at INFO, the prod level, and "
    f"EMF metric lines), + {LAMBDA_PLATFORM_LOG_BYTES} bytes of START/END/REPORT per invocation (0: the "
    "functions' system log level is WARN), + the access log "
    "line; $0.50 per GB (2**30 bytes) ingested; storage and the 26-byte per-event overhead not counted. Log "
    "lines here carry the test harness's short function name and ARN (production names are ~40 bytes longer).",
    "Lambda: the GB-s price of the stack's architecture, memory from the stack, duration = the "
    "measured handler wall time on moto (in-process moto stands in for AWS round-trips: real per-call latency "
    "of ~5-10 ms per DynamoDB / SQS / SNS call may differ either way), rounded up to 1 ms per invocation; warm "
    "invocations only (no INIT / cold start). The executor's wait before publishing is modelled as "
    f"{EXECUTOR_WAIT_SECONDS} s per delivery (the fake clock hides it), shared by the batch at 100 tasks/s.",
    "Loads: at 1 task/s every delivery holds one record; at 100 tasks/s batches of 10 (measured as a real batch "
    "of 10, divided by 10). EBS wake-ups are one asynchronous invocation per task at any load. API operations "
    "cost the same at both loads.",
    "Operations: 'one-time' = schedule + fire; the EBS path adds the wake-up 2 minutes early (EBS invocation, "
    "executor, SendMessage to the delay queue). 'recurring fire' is one occurrence of an every-minute task "
    "(claim, arm the next through SQS, publish, finish); creating the task is not included. 'run now' = the "
    "POST and the manual run's fire. 'created in bulk' = one POST /tasks/bulk of 100 one-time tasks on the SQS "
    "path (its API request, api invocation, writes and SendMessageBatch calls divided by 100) + each one's "
    "fire. 'list' = GET /tasks?limit=50 over 60+ tasks. 'cancel' = DELETE of an EBS-armed task.",
    "Not modelled in the operations (the idle month counts the sweeps' traces): X-Ray (Lambda and API Gateway "
    "active tracing: $5 per million traces recorded beyond 100,000 a month; the default sampling records ~1 request a second plus 5% of the rest, so at 1 task/s it is of the "
    "order of $5 per million operations and at 100 tasks/s ~$0.3); CloudWatch Logs storage; DynamoDB storage "
    "and point-in-time recovery ($/GB-month); data transfer; Secrets Manager API calls (one per cold start).",
]


if __name__ == "__main__":
    main()
