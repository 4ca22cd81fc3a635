"""checkov findings accepted on purpose: the reason is written into the resource's own metadata.

checkov reads ``Metadata.checkov.skip`` from a CloudFormation resource, so the reason travels with the
template (``cdk.out``) next to the resource it is about, where a reviewer of the template sees it.
"""

from __future__ import annotations

from typing import Any

from constructs import IConstruct

from infra.nag import single_resource


def skip_checkov(resource: IConstruct, check: str, reason: str) -> None:
    cfn = single_resource(resource)
    metadata: dict[str, Any] = cfn.get_metadata("checkov") or {"skip": []}
    metadata["skip"] = [*metadata["skip"], {"id": check, "comment": reason}]
    cfn.add_metadata("checkov", metadata)
