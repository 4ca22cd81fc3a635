"""The single DynamoDB table, shaped by ``punctual.adapters.dynamodb_schema`` (the store's own constants)."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct
from punctual.adapters import dynamodb_schema as schema

from infra.config import StageConfig
from infra.lambdas import PunctualFunction
from infra.nag import acknowledge

# Item-level actions only: transactions are authorised per item action, and nothing scans the table.
READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem")
WRITE_ACTIONS = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")


def _string_key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class Storage(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig) -> None:
        super().__init__(scope, id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=_string_key(schema.PARTITION_KEY),
            sort_key=_string_key(schema.SORT_KEY),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=schema.TTL_ATTRIBUTE,
            deletion_protection=config.retain_data,
            removal_policy=config.removal_policy,
        )
        for index_name, partition, sort, projection, included in (
            (
                schema.GSI1_NAME,
                schema.GSI1_PARTITION_KEY,
                schema.GSI1_SORT_KEY,
                schema.GSI1_PROJECTION,
                schema.GSI1_INCLUDED,
            ),
            (schema.GSI2_NAME, schema.GSI2_PARTITION_KEY, schema.GSI2_SORT_KEY, schema.GSI2_PROJECTION, ()),
        ):
            self.table.add_global_secondary_index(
                index_name=index_name,
                partition_key=_string_key(partition),
                sort_key=_string_key(sort),
                projection_type=dynamodb.ProjectionType(projection),
                non_key_attributes=list(included) or None,
            )

    def grant_read_write(self, function: PunctualFunction, *, indexes: bool) -> None:
        """Item reads and writes; ``indexes`` adds Query on the GSIs (listings, run history, the due index)."""
        resources = [self.table.table_arn]
        if indexes:
            resources.append(f"{self.table.table_arn}/index/*")
        iam.Grant.add_to_principal(
            grantee=function.role, actions=[*READ_ACTIONS, *WRITE_ACTIONS], resource_arns=resources
        )
        if indexes:
            table_id = Stack.of(self).get_logical_id(self.table.node.default_child)  # type: ignore[arg-type]
            acknowledge(
                function.policy,
                f"AwsSolutions-IAM5[Resource::<{table_id}.Arn>/index/*]",
                "The table's own two GSIs (GSI1 listings and run history, GSI2 the due index).",
            )
