"""Alarms on every DLQ, on function errors and on lateness p99; the optional alarm e-mail; the dashboard."""

from __future__ import annotations

from typing import Any

from punctual.handlers.observability import LATENESS_METRIC, METRICS_NAMESPACE, SERVICE_NAME

from tests.infra.synth import Synthesized

DEAD_LETTER_QUEUES = (
    "Firing/DelayDeadLetters",
    "Firing/ScheduleDeadLetters",
    "Events/EventsDeadLetters",
    "Targets/DeliveryDeadLetters",
)


def _alarms(stack: Synthesized) -> list[dict[str, Any]]:
    return [alarm["Properties"] for alarm in stack.of_type("AWS::CloudWatch::Alarm").values()]


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


def test_executor_sweeper_and_runner_error_alarms(dev: Synthesized) -> None:
    errors = {
        alarm["Dimensions"][0]["Value"]["Ref"]: alarm
        for alarm in _alarms(dev)
        if alarm.get("MetricName") == "Errors"
    }
    assert set(errors) == {
        dev.logical_id("Firing/Executor/Function"),
        dev.logical_id("Firing/Sweeper/Function"),
        dev.logical_id("Targets/Runner/Function"),
    }
    for alarm in errors.values():
        assert alarm["Namespace"] == "AWS/Lambda"
        assert alarm["Statistic"] == "Sum"
        assert alarm["Threshold"] == 0


def test_lateness_p99_alarm_reads_the_executors_emf_metric(dev: Synthesized) -> None:
    [alarm] = [alarm for alarm in _alarms(dev) if alarm.get("MetricName") == LATENESS_METRIC]
    assert alarm["Namespace"] == METRICS_NAMESPACE == "Punctual"
    assert alarm["Dimensions"] == [{"Name": "service", "Value": SERVICE_NAME}]
    assert alarm["ExtendedStatistic"] == "p99"
    assert alarm["Threshold"] == 1000
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"


def test_alarms_notify_nobody_without_an_alarm_email(dev: Synthesized) -> None:
    assert all("AlarmActions" not in alarm for alarm in _alarms(dev))
    assert not [t for t in dev.of_type("AWS::SNS::Topic") if "Alarm" in t]


def test_alarm_email_subscribes_to_an_encrypted_alarm_topic(variant: Synthesized) -> None:
    topic = variant.ref("Monitoring/AlarmTopic")
    assert all(alarm["AlarmActions"] == [topic] for alarm in _alarms(variant))
    [email] = [
        s["Properties"]
        for s in variant.of_type("AWS::SNS::Subscription").values()
        if s["Properties"]["Protocol"] == "email"
    ]
    assert email == {"Endpoint": "ops@example.com", "Protocol": "email", "TopicArn": topic}
    assert variant.props("Monitoring/AlarmTopic")["KmsMasterKeyId"] == variant.att("Events/TopicKey")
    key_policy = variant.props("Events/TopicKey")["KeyPolicy"]["Statement"]
    assert any(
        s["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and "kms:GenerateDataKey*" in s["Action"]
        for s in key_policy
    )


def test_dashboard_shows_lateness(dev: Synthesized) -> None:
    body = str(dev.props("Monitoring/Dashboard")["DashboardBody"])
    assert LATENESS_METRIC in body and "p99" in body
