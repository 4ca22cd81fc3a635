"""infra.nag refuses to acknowledge a finding on a construct made of several resources."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.nag import acknowledge, default_policy, single_resource


def test_an_l2_stands_for_its_default_resource() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    queue = sqs.Queue(stack, "Q")
    assert single_resource(queue).node.path == "S/Q/Resource"  # jsii proxies differ; the path is the identity


def test_a_construct_of_several_resources_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    group = Construct(stack, "Group")
    sqs.Queue(group, "A")
    sqs.Queue(group, "B")
    with pytest.raises(TypeError, match="not a single resource"):
        acknowledge(group, "AwsSolutions-SQS3", "a reason long enough to be one, for the test only")


def test_a_roles_grants_are_acknowledged_on_its_default_policy() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    role = iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    with pytest.raises(ValueError, match="no DefaultPolicy"):
        default_policy(role)
    role.add_to_policy(iam.PolicyStatement(actions=["sqs:SendMessage"], resources=["*"]))
    assert default_policy(role).node.path == "S/R/DefaultPolicy/Resource"
