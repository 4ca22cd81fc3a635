"""LambdaInvoker against botocore's Stubber: the Invoke request it makes (the stage's ARN for a bare name, a
synchronous call, the event as payload) and how each answer becomes an attempt's outcome. moto cannot run
Invoke without Docker; the Stubber checks the request against Lambda's own API model instead."""

from __future__ import annotations

import io
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from punctual.adapters.lambda_invoker import LambdaInvoker
from punctual.domain.targets import Target, TargetType
from punctual.service.settings import ServiceSettings
from punctual.service.target_policy import TargetPolicy

from tests.target_fakes import FakeResolver

PREFIX = "arn:aws:lambda:eu-west-1:111122223333:function:"
BODY = b'{"type": "task.fired", "tracking_id": "t-1"}'


def invoker_with(stubber_answers: list[tuple[str, dict[str, Any]]]) -> tuple[LambdaInvoker, Stubber]:
    client = boto3.client("lambda", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    for kind, answer in stubber_answers:
        if kind == "ok":
            stubber.add_response("invoke", answer["response"], answer["expected"])
        else:
            stubber.add_client_error(
                "invoke", service_error_code=answer["code"], http_status_code=answer["status"]
            )
    stubber.activate()
    policy = TargetPolicy(ServiceSettings(lambda_arn_prefix=PREFIX), FakeResolver())
    return LambdaInvoker(policy, client=client), stubber


def payload(text: str) -> StreamingBody:
    data = text.encode()
    return StreamingBody(io.BytesIO(data), len(data))


def lambda_target(function: str) -> Target:
    return Target(type=TargetType.LAMBDA, function=function)


def test_a_bare_name_is_invoked_synchronously_under_the_stage_s_arn_and_its_return_completes() -> None:
    expected = {"FunctionName": PREFIX + "helloworld", "InvocationType": "RequestResponse", "Payload": BODY}
    invoker, stubber = invoker_with(
        [
            (
                "ok",
                {
                    "response": {"StatusCode": 200, "Payload": payload('{"hello": "world"}')},
                    "expected": expected,
                },
            )
        ]
    )

    outcome = invoker.call(lambda_target("helloworld"), BODY, {})

    stubber.assert_no_pending_responses()
    assert outcome.ok and outcome.status == 200 and outcome.result == '{"hello": "world"}'


def test_a_function_error_fails_the_attempt_with_the_error_payload() -> None:
    arn = PREFIX + "boom:live"
    error = '{"errorMessage": "division by zero", "errorType": "ZeroDivisionError"}'
    answer = {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": payload(error)}
    expected = {"FunctionName": arn, "InvocationType": "RequestResponse", "Payload": BODY}
    invoker, _ = invoker_with([("ok", {"response": answer, "expected": expected})])

    outcome = invoker.call(lambda_target(arn), BODY, {})

    assert not outcome.ok and outcome.error is not None and "division by zero" in outcome.error


@pytest.mark.parametrize(
    ("code", "status"), [("ResourceNotFoundException", 404), ("TooManyRequestsException", 429)]
)
def test_an_invoke_that_fails_is_an_unsuccessful_attempt_never_an_exception(code: str, status: int) -> None:
    invoker, _ = invoker_with([("error", {"code": code, "status": status})])

    outcome = invoker.call(lambda_target("helloworld"), BODY, {})

    assert not outcome.ok and outcome.error is not None and code in outcome.error
