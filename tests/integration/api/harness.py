"""A punctual stack on moto, and the events Lambda would hand the handlers (API Gateway REST proxy, SQS, EBS).

Used by tests/integration/api and tests/integration/handlers: the handlers are called directly, with the
container built by ``build_app`` on moto clients and a fake clock, installed with ``bootstrap.use_app``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3
from punctual import bootstrap
from punctual.adapters.link_codec import link_to_json
from punctual.bootstrap import AwsClients, Punctual, build_app
from punctual.domain.model import Link
from punctual.handlers import api
from punctual.handlers.env import HandlerEnv
from punctual.service.ports import NullMetrics

from tests.fakes import FakeClock

REGION = "us-east-1"
ACCOUNT = "123456789012"
EXECUTOR_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:punctual-test-executor"
TENANT_A = "key-tenant-a"
TENANT_B = "key-tenant-b"


@dataclass
class FakeLambdaContext:
    function_name: str = "punctual-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = EXECUTOR_ARN
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass
class Stack:
    """The moto resources, the clients on them, and the wired container."""

    clock: FakeClock
    env: HandlerEnv
    app: Punctual
    metrics: NullMetrics
    dynamodb: Any
    sqs: Any
    sns: Any
    scheduler: Any
    events_queue_url: str
    sent_messages: list[dict[str, Any]] = field(default_factory=list)

    # --- AWS state, for "nothing was written" and "exactly this was sent" -------------------------
    def table_items(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.env.TABLE_NAME}
        while True:
            page = self.dynamodb.scan(**kwargs)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def schedules(self) -> list[dict[str, Any]]:
        names = [
            entry["Name"]
            for entry in self.scheduler.list_schedules(GroupName=self.env.SCHEDULE_GROUP)["Schedules"]
        ]
        return [self.scheduler.get_schedule(Name=name, GroupName=self.env.SCHEDULE_GROUP) for name in names]

    def receive(self, queue_url: str, *, max_messages: int = 10) -> list[dict[str, Any]]:
        """The visible messages of a queue, with their attributes."""
        return list(
            self.sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=max_messages,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
        )

    def delayed(self) -> list[tuple[dict[str, Any], int]]:
        """What was sent to the delay queue, as (link JSON, DelaySeconds). Read from the requests (a botocore
        hook): a delayed message stays invisible to ReceiveMessage for real seconds, which tests never wait."""
        return [
            (json.loads(params["MessageBody"]), int(params.get("DelaySeconds", 0)))
            for params in self.sent_messages
            if params["QueueUrl"] == self.env.DELAY_QUEUE_URL
        ]

    def events(self) -> list[dict[str, Any]]:
        """Messages the subscriber queue got from the topic (raw delivery: body = the fired event)."""
        return self.receive(self.events_queue_url)


def make_stack(dynamodb_client: Any, table_name: str, *, clock: FakeClock | None = None, **env: Any) -> Stack:
    sqs = boto3.client("sqs", region_name=REGION)
    sns = boto3.client("sns", region_name=REGION)
    scheduler = boto3.client("scheduler", region_name=REGION)
    secretsmanager = boto3.client("secretsmanager", region_name=REGION)

    sent_messages: list[dict[str, Any]] = []

    def record_send(params: dict[str, Any], **_: Any) -> None:
        sent_messages.append(dict(params))

    def record_batch(params: dict[str, Any], **_: Any) -> None:
        # Each entry as if it had been sent alone, so delayed() sees a bulk create's links too.
        for entry in params["Entries"]:
            sent_messages.append(
                {"QueueUrl": params["QueueUrl"], **{k: v for k, v in entry.items() if k != "Id"}}
            )

    sqs.meta.events.register("provide-client-params.sqs.SendMessage", record_send)
    sqs.meta.events.register("provide-client-params.sqs.SendMessageBatch", record_batch)
    delay_queue_url = sqs.create_queue(QueueName="punctual-delay")["QueueUrl"]
    schedule_dlq_url = sqs.create_queue(QueueName="punctual-schedule-dlq")["QueueUrl"]
    schedule_dlq_arn = _queue_arn(sqs, schedule_dlq_url)
    events_queue_url = sqs.create_queue(QueueName="punctual-events")["QueueUrl"]
    delivery_queue_url = sqs.create_queue(QueueName="punctual-deliveries")["QueueUrl"]
    topic_arn = sns.create_topic(Name="punctual-events")["TopicArn"]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=_queue_arn(sqs, events_queue_url),
        Attributes={"RawMessageDelivery": "true"},
    )
    scheduler.create_schedule_group(Name="punctual-test")

    handler_env = HandlerEnv.model_validate(
        {
            "TABLE_NAME": table_name,
            "TOPIC_ARN": topic_arn,
            "DELAY_QUEUE_URL": delay_queue_url,
            "SCHEDULE_GROUP": "punctual-test",
            "SCHEDULER_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/punctual-test-scheduler",
            "SCHEDULE_DLQ_ARN": schedule_dlq_arn,
            "EXECUTOR_ARN": EXECUTOR_ARN,
            "CURSOR_SECRET": "integration-cursor-secret",
            # As a stage has them: the target-call queue and the key tenants' signing secrets derive from.
            "DELIVERY_QUEUE_URL": delivery_queue_url,
            "SIGNING_SECRET": "integration-signing-key",
            "STAGE": "test",
            **env,
        }
    )
    clock = clock or FakeClock()
    metrics = NullMetrics()
    app = build_app(
        handler_env,
        clock=clock,
        clients=AwsClients(
            dynamodb=dynamodb_client, sns=sns, sqs=sqs, scheduler=scheduler, secretsmanager=secretsmanager
        ),
        metrics=metrics,
    )
    return Stack(
        clock=clock,
        env=handler_env,
        app=app,
        metrics=metrics,
        dynamodb=dynamodb_client,
        sqs=sqs,
        sns=sns,
        scheduler=scheduler,
        events_queue_url=events_queue_url,
        sent_messages=sent_messages,
    )


def _queue_arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def install(stack: Stack) -> None:
    bootstrap.use_app(stack.app)


# --- API Gateway REST proxy events ----------------------------------------------------------------------
@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    raw_body: str

    @property
    def json(self) -> Any:
        return json.loads(self.raw_body)

    @property
    def error_code(self) -> str:
        return str(self.json["error"]["code"])

    @property
    def error_fields(self) -> list[str]:
        return [detail["field"] for detail in self.json["error"]["details"]]


def api_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    api_key_id: str | None = TENANT_A,
    user: str | None = None,
) -> dict[str, Any]:
    all_headers = {"Content-Type": "application/json", "Host": "api.example.com", "User-Agent": "pytest"}
    if user is not None:
        all_headers["X-Punctual-User"] = user
    all_headers.update(headers or {})
    if raw_body is None and body is not None:
        raw_body = json.dumps(body)
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {key: [value] for key, value in all_headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {key: [value] for key, value in query.items()} if query else None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "abc123",
            "httpMethod": method,
            "path": f"/test{path}",
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "resourcePath": path,
            "stage": "test",
            "identity": {
                "apiKey": None if api_key_id is None else f"secret-of-{api_key_id}",
                "apiKeyId": api_key_id,
                "sourceIp": "127.0.0.1",
                "userAgent": "pytest",
            },
        },
        "body": raw_body,
        "isBase64Encoded": False,
    }


def call_api(method: str, path: str, **kwargs: Any) -> ApiResponse:
    result = api.handler(
        api_event(method, path, **kwargs), FakeLambdaContext(function_name="punctual-test-api")
    )
    headers = {key.lower(): str(value) for key, value in (result.get("headers") or {}).items()}
    headers.update(
        {key.lower(): ",".join(values) for key, values in (result.get("multiValueHeaders") or {}).items()}
    )
    return ApiResponse(status=result["statusCode"], headers=headers, raw_body=result["body"])


# --- executor events ----------------------------------------------------------------------------------
def ebs_event(link: Link) -> dict[str, Any]:
    """What EventBridge Scheduler passes the executor: the schedule's Input, parsed."""
    return dict(json.loads(link_to_json(link)))


def sqs_record(body: str, *, message_id: str | None = None, receive_count: int = 1) -> dict[str, Any]:
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "handle",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": "1767268800000",
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1767268800000",
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:punctual-delay",
        "awsRegion": REGION,
    }


def sqs_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}
