"""cdk-nag (v3) acknowledgments: every accepted finding is named here with the reason it is accepted."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Accept ``rule`` (e.g. ``AwsSolutions-IAM5[Resource::*]``) for ``scope`` and everything under it."""
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))
