"""Alarms on every DLQ, function errors and throttles, the API 5XX rate, the sweeper's heartbeat and the
lateness p99 of fired occurrences; the alarm topic CloudWatch may publish to; the dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from punctual.handlers.observability import LATENESS_METRIC, METRICS_NAMESPACE, SERVICE_NAME

from tests.infra.synth import Synthesized, synthesize

DEAD_LETTER_QUEUES = (
    "Firing/DelayDeadLetters",
    "Firing/ScheduleDeadLetters",
    "Events/EventsDeadLetters",
    "Targets/DeliveryDeadLetters",
)
FUNCTIONS = (
    "Api/Handler/Function",
    "Firing/Executor/Function",
    "Firing/Sweeper/Function",
    "Targets/Runner/Function",
)
ALARMS = {
    "DelayQueueDeadLetters",
    "SchedulesDeadLetters",
    "EventsDeadLetters",
    "DeliveriesDeadLetters",
    "ApiErrors",
    "ExecutorErrors",
    "SweeperErrors",
    "RunnerErrors",
    "ApiThrottles",
    "ExecutorThrottles",
    "SweeperThrottles",
    "RunnerThrottles",
    "Api5xxRate",
    "SweeperHeartbeat",
    "LatenessP99",
}


def _alarms(stack: Synthesized) -> list[dict[str, Any]]:
    return [alarm["Properties"] for alarm in stack.of_type("AWS::CloudWatch::Alarm").values()]


def _alarm(stack: Synthesized, name: str) -> dict[str, Any]:
    return stack.props(f"Monitoring/{name}")


def test_the_alarms(every_stack: Synthesized) -> None:
    assert len(_alarms(every_stack)) == len(ALARMS)
    stage = every_stack.stack_name.removeprefix("punctual-")
    for name in ALARMS:
        assert _alarm(every_stack, name)["AlarmDescription"].startswith("punctual: ")
        assert _alarm(every_stack, name)["AlarmName"] == f"punctual-{stage}-{name}"  # as the README's runbook


def test_the_readme_has_a_runbook_line_per_alarm() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `") and "|" in line[2:]]
    for name in ALARMS:
        assert any(f"`{name}`" in row.split("|")[1] for row in rows), name


def test_an_alarm_for_anything_in_each_dead_letter_queue(dev: Synthesized) -> None:
    watched = {}
    for alarm in _alarms(dev):
        if alarm.get("MetricName") == "ApproximateNumberOfMessagesVisible":
            [dimension] = alarm["Dimensions"]
            watched[dimension["Value"]["Fn::GetAtt"][0]] = alarm
    assert set(watched) == {dev.logical_id(path) for path in DEAD_LETTER_QUEUES}
    for alarm in watched.values():
        assert alarm["Namespace"] == "AWS/SQS"
        assert alarm["Threshold"] == 0
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["EvaluationPeriods"] == 1


def _per_function(stack: Synthesized, metric: str) -> dict[str, dict[str, Any]]:
    return {
        alarm["Dimensions"][0]["Value"]["Ref"]: alarm
        for alarm in _alarms(stack)
        if alarm.get("MetricName") == metric and alarm.get("Namespace") == "AWS/Lambda"
    }


def test_error_and_throttle_alarms_on_every_function(dev: Synthesized) -> None:
    for metric in ("Errors", "Throttles"):
        alarms = _per_function(dev, metric)
        assert set(alarms) == {dev.logical_id(path) for path in FUNCTIONS}, metric
        for alarm in alarms.values():
            assert alarm["Statistic"] == "Sum"
            assert alarm["Threshold"] == 0
            assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_api_5xx_rate_alarm_reads_the_share_of_requests(dev: Synthesized) -> None:
    alarm = _alarm(dev, "Api5xxRate")
    assert alarm["Namespace"] == "AWS/ApiGateway" and alarm["MetricName"] == "5XXError"
    # 5XXError is 0 or 1 per request, so its average is the rate (Sum would be a count).
    assert alarm["Statistic"] == "Average"
    assert alarm["Threshold"] == 0.01
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    # The stage's own API (one API per stage): its name alone picks its requests.
    assert alarm["Dimensions"] == [{"Name": "ApiName", "Value": "punctual-dev"}]
    assert alarm["TreatMissingData"] == "notBreaching"  # no traffic is not an error


def test_a_stopped_sweeper_alarms_missing_data_is_breaching(dev: Synthesized) -> None:
    alarm = _alarm(dev, "SweeperHeartbeat")
    assert alarm["Namespace"] == "AWS/Lambda" and alarm["MetricName"] == "Invocations"
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": dev.ref("Firing/Sweeper/Function")}]
    assert alarm["Statistic"] == "Sum"
    assert alarm["ComparisonOperator"] == "LessThanThreshold" and alarm["Threshold"] == 1
    assert alarm["TreatMissingData"] == "breaching"
    # Every minute it runs: 5-minute periods, two in a row without one invocation.
    assert alarm["Period"] == 300 and alarm["EvaluationPeriods"] == 2


def test_lateness_p99_alarm_reads_fired_occurrences_only(dev: Synthesized) -> None:
    [alarm] = [alarm for alarm in _alarms(dev) if alarm.get("MetricName") == LATENESS_METRIC]
    assert alarm["Namespace"] == METRICS_NAMESPACE == "Punctual"
    assert alarm["Dimensions"] == [{"Name": "service", "Value": SERVICE_NAME}]
    assert alarm["ExtendedStatistic"] == "p99"
    assert alarm["Threshold"] == 1000
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    assert "skipped_lateness_ms" not in str(_alarms(dev))  # a skipped misfire's lateness alarms nothing


def test_every_alarm_publishes_to_the_alarm_topic(every_stack: Synthesized) -> None:
    topic = every_stack.ref("Monitoring/AlarmTopic")
    assert all(alarm["AlarmActions"] == [topic] for alarm in _alarms(every_stack))
    assert every_stack.template["Outputs"]["AlarmTopicArn"]["Value"] == topic


def test_cloudwatch_may_publish_to_the_alarm_topic_for_this_accounts_alarms_only(
    every_stack: Synthesized,
) -> None:
    """The alarm action works: the topic policy allows cloudwatch.amazonaws.com, under aws:SourceAccount."""
    topic = every_stack.ref("Monitoring/AlarmTopic")
    [policy] = [
        p["Properties"]
        for p in every_stack.of_type("AWS::SNS::TopicPolicy").values()
        if p["Properties"]["Topics"] == [topic]
    ]
    [allow] = [
        s
        for s in policy["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow" and s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert allow["Action"] == "sns:Publish"
    assert allow["Resource"] == topic
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert allow["Condition"]["ArnLike"]["aws:SourceArn"] == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":cloudwatch:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":alarm:*",
            ],
        ]
    }
    # The topic is encrypted with the topic key: CloudWatch needs its data keys, under the same condition.
    assert every_stack.props("Monitoring/AlarmTopic")["KmsMasterKeyId"] == every_stack.att("Events/TopicKey")
    [key_statement] = [
        s
        for s in every_stack.props("Events/TopicKey")["KeyPolicy"]["Statement"]
        if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert set(key_statement["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert key_statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


def test_without_an_alarm_email_nobody_is_subscribed(dev: Synthesized) -> None:
    assert not [
        s for s in dev.of_type("AWS::SNS::Subscription").values() if s["Properties"]["Protocol"] == "email"
    ]


def test_alarm_email_subscribes_to_the_alarm_topic(variant: Synthesized) -> None:
    [email] = [
        s["Properties"]
        for s in variant.of_type("AWS::SNS::Subscription").values()
        if s["Properties"]["Protocol"] == "email"
    ]
    assert email == {
        "Endpoint": "ops@example.com",
        "Protocol": "email",
        "TopicArn": variant.ref("Monitoring/AlarmTopic"),
    }


def test_an_existing_alarm_topic_replaces_the_stages_own(tmp_path: Any) -> None:
    existing = "arn:aws:sns:eu-west-1:123456789012:ops-alarms"
    stack = synthesize("prod", tmp_path, context={"alarm_topic_arn": existing})
    assert all(alarm["AlarmActions"] == [existing] for alarm in _alarms(stack))
    assert not [t for t in stack.of_type("AWS::SNS::Topic") if "Alarm" in t]
    assert not [s for s in stack.props("Events/TopicKey")["KeyPolicy"]["Statement"] if "cloudwatch" in str(s)]
    assert stack.template["Outputs"]["AlarmTopicArn"]["Value"] == existing


def test_dashboard_names_are_unique_per_stage_and_region(every_stack: Synthesized) -> None:
    props = every_stack.props("Monitoring/Dashboard")
    name = props["DashboardName"]
    stage = every_stack.stack_name.removeprefix("punctual-")
    assert name == {"Fn::Join": ["", [f"punctual-{stage}-", {"Ref": "AWS::Region"}]]}
    body = str(props["DashboardBody"])
    assert LATENESS_METRIC in body and "p99" in body
    assert every_stack.template["Outputs"]["DashboardName"]["Value"] == {
        "Ref": every_stack.logical_id("Monitoring/Dashboard")
    }
