"""Synthesize the punctual app once per stage (no bundling, no AWS) and read the template by construct path."""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk

import app
from infra.config import CDK_JSON
from infra.region import REGION_STACK_NAME


@dataclass(frozen=True)
class Synthesized:
    stack_name: str
    template: dict[str, Any]
    report: dict[str, Any]  # cdk-nag's validation report
    region_template: dict[str, Any]  # punctual-region, which the stage depends on

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.template["Resources"]
        return resources

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {key: res for key, res in self.resources.items() if res["Type"] == resource_type}

    def logical_id(self, path: str) -> str:
        """The logical id of the L1 resource at construct path ``path`` (relative to the stack)."""
        full = f"{self.stack_name}/{path}"
        matches = [
            key
            for key, res in self.resources.items()
            if res.get("Metadata", {}).get("aws:cdk:path") in (full, f"{full}/Resource")
        ]
        assert len(matches) == 1, f"{full}: {matches}"
        return matches[0]

    def resource(self, path: str) -> dict[str, Any]:
        return self.resources[self.logical_id(path)]

    def props(self, path: str) -> dict[str, Any]:
        return dict(self.resource(path).get("Properties", {}))

    def ref(self, path: str) -> dict[str, str]:
        return {"Ref": self.logical_id(path)}

    def att(self, path: str, attribute: str = "Arn") -> dict[str, list[str]]:
        return {"Fn::GetAtt": [self.logical_id(path), attribute]}

    def statements(self, role_path: str) -> list[dict[str, Any]]:
        """Every IAM statement granted to the role at ``role_path``, with Action/Resource as lists."""
        role_ref = self.ref(role_path)
        found: list[dict[str, Any]] = []
        for policy in self.of_type("AWS::IAM::Policy").values():
            if role_ref in policy["Properties"].get("Roles", []):
                found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
        for inline in self.resources[role_ref["Ref"]]["Properties"].get("Policies", []):
            found.extend(inline["PolicyDocument"]["Statement"])
        return [
            {
                **statement,
                "Action": _as_list(statement["Action"]),
                "Resource": _as_list(statement["Resource"]),
            }
            for statement in found
        ]

    def actions(self, role_path: str) -> set[str]:
        return {action for statement in self.statements(role_path) for action in statement["Action"]}

    def resources_for(self, role_path: str, action: str) -> list[Any]:
        return [
            resource
            for statement in self.statements(role_path)
            if action in statement["Action"]
            for resource in statement["Resource"]
        ]

    def environment(self, function_path: str) -> dict[str, Any]:
        return dict(self.props(function_path)["Environment"]["Variables"])


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return context


def cdk_json_stages() -> dict[str, dict[str, Any]]:
    stages: dict[str, dict[str, Any]] = cdk_json_context()["stages"]
    return stages


def synthesize(
    stage: str, outdir: Path, *, context: dict[str, Any] | None = None, **overrides: Any
) -> Synthesized:
    """The real app, cdk-nag included, for ``stage`` of cdk.json with ``overrides`` applied to its settings
    and ``context`` added as ``-c`` would (cdk.json's feature flags included, as the CLI passes them)."""
    stages = copy.deepcopy(cdk_json_stages())
    stages[stage].update(overrides)
    cdk_app = cdk.App(
        outdir=str(outdir),
        stack_traces=False,
        context={
            **cdk_json_context(),
            **(context or {}),
            "stage": stage,
            "stages": stages,
            "aws:cdk:enable-path-metadata": True,
            # No asset bundling: tests need no network and stay fast (make synth bundles for real).
            "aws:cdk:bundling-stacks": [],
        },
    )
    stack = app.build(cdk_app)
    try:
        cdk_app.synth()
    except RuntimeError as error:
        # cdk-nag found something: the template is written all the same, so every other test still runs
        # and test_infra_nag reports the findings.
        if "ValidationFailed" not in str(error):
            raise
    return Synthesized(
        stack_name=stack.stack_name,
        template=json.loads((outdir / f"{stack.artifact_id}.template.json").read_text()),
        report=json.loads((outdir / "validation-report.json").read_text()),
        region_template=json.loads((outdir / f"{REGION_STACK_NAME}.template.json").read_text()),
    )
