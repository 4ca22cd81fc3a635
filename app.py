"""The CDK app: ``cdk synth -c stage=prod`` builds the stack ``punctual-prod`` (default stage: dev), and
``punctual-region``, which every stage in an account and region shares (see infra/region.py) and which
``cdk deploy punctual-prod`` deploys first as its dependency.

Synthesis makes no AWS call; the stack is environment-agnostic. cdk-nag's AWS Solutions checks run on
every synth, so an unsuppressed finding fails it.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.config import load_stage_config
from infra.region import RegionStack
from infra.stack import PunctualStack


def build(app: cdk.App) -> PunctualStack:
    config = load_stage_config(app.node)
    region = RegionStack(app, description="punctual: what every stage in this account and region shares")
    stack = PunctualStack(
        app,
        f"punctual-{config.name}",
        config=config,
        description=f"punctual ({config.name}): serverless task scheduler that fires on the second",
    )
    stack.add_stack_dependency(region, "API Gateway execution logging needs the region's CloudWatch role")
    cdk.Tags.of(region).add("project", "punctual")
    cdk.Tags.of(stack).add("project", "punctual")
    cdk.Tags.of(stack).add("stage", config.name)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stack


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()
