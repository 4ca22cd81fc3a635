"""cdk-nag's AWS Solutions checks run on every synth: no unacknowledged finding, each acknowledgment reasoned.

An unacknowledged error would already fail the synth in the fixture; the report also lists warnings.
"""

from __future__ import annotations

from tests.infra.synth import Synthesized


def test_no_unacknowledged_findings(every_stack: Synthesized) -> None:
    [report] = every_stack.report["pluginReports"]
    assert report["pluginName"] == "AwsSolutions"
    assert report["conclusion"] == "success"
    assert report["violations"] == []


def test_every_acknowledgment_has_a_reason(every_stack: Synthesized) -> None:
    [report] = every_stack.report["pluginReports"]
    acknowledged = report["suppressedViolations"]
    assert acknowledged, "the stack is known to need some acknowledgments; none means the checks did not run"
    for finding in acknowledged:
        assert len(finding.get("reason", "").split()) >= 8, finding["ruleName"]


def test_wildcard_acknowledgments_name_the_exact_finding(every_stack: Synthesized) -> None:
    # cdk-nag 3 acknowledges IAM wildcard findings one resource/action at a time; keep it that way.
    [report] = every_stack.report["pluginReports"]
    for finding in report["suppressedViolations"]:
        if finding["ruleName"].startswith(("AwsSolutions-IAM5", "AwsSolutions-IAM4")):
            assert "[" in finding["acknowledgedId"], finding["acknowledgedId"]
