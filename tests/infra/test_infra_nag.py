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


def test_every_acknowledgment_sits_on_the_one_resource_it_covers(every_stack: Synthesized) -> None:
    """Never on a whole construct: a finding on a resource added later under it must still fail the synth."""
    [report] = every_stack.report["pluginReports"]
    for finding in report["suppressedViolations"]:
        [violating] = finding["violatingConstructs"]
        assert finding["acknowledgedAt"] == violating["constructPath"], finding["ruleName"]
        assert violating["constructFqn"].split(".")[-1].startswith("Cfn"), violating["constructFqn"]


def test_the_region_stack_is_checked_too(every_stack: Synthesized) -> None:
    [report] = every_stack.report["pluginReports"]
    paths = [finding["acknowledgedAt"] for finding in report["suppressedViolations"]]
    assert any(path.startswith("punctual-region/") for path in paths)
