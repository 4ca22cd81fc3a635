"""cdk-nag (v3) acknowledgments: each accepted finding is acknowledged on the one resource it arises on.

cdk-nag 3 runs as a CDK validation plugin; an unacknowledged finding fails synthesis. An acknowledgment
covers the construct it is attached to and everything under it, so it is only ever attached to a single
CloudFormation resource (an L1, or an L2 whose default child is that L1): a finding on any other resource
added later still fails the synth.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnResource, Validations
from aws_cdk import aws_iam as iam
from constructs import IConstruct

RULE_PACK = "AwsSolutions"


def acknowledge(resource: IConstruct, rule: str, reason: str) -> None:
    """Accept ``rule`` (e.g. ``AwsSolutions-IAM5[Resource::*]``) on exactly the resource ``resource`` is."""
    Validations.of(single_resource(resource)).acknowledge(
        Acknowledgment(id=f"{RULE_PACK}::{rule}", reason=reason)
    )


def single_resource(construct: IConstruct) -> CfnResource:
    """The CloudFormation resource ``construct`` stands for; refuses a construct made of several."""
    if isinstance(construct, CfnResource):
        return construct
    child = construct.node.default_child
    if isinstance(child, CfnResource):
        return child
    raise TypeError(f"{construct.node.path} is not a single resource: acknowledge on the resource itself")


def default_policy(role: iam.Role) -> CfnResource:
    """The role's DefaultPolicy resource, where the grants' statements (and their findings) end up."""
    policy = role.node.try_find_child("DefaultPolicy")
    if policy is None:
        raise ValueError(f"{role.node.path} has no DefaultPolicy yet: grant first, then acknowledge")
    return single_resource(policy)
