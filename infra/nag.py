"""cdk-nag (v3) acknowledgments: each accepted finding is acknowledged where it arises, with its reason.

cdk-nag 3 runs as a CDK validation plugin; an unacknowledged finding fails synthesis.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

RULE_PACK = "AwsSolutions"


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Accept ``rule`` (e.g. ``AwsSolutions-IAM5[Resource::*]``) for ``scope`` and the constructs under it."""
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{RULE_PACK}::{rule}", reason=reason))
