"""The dashboard on a stage: a private, encrypted, TLS-only bucket; CloudFront reading it through origin
access control, with security headers; the files deployed by the stack; CORS on the API for that origin only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.synth import Synthesized

BUCKET = "Dashboard/Assets"
DISTRIBUTION = "Dashboard/Distribution"


def distribution_origin(stack: Synthesized) -> dict[str, Any]:
    """``https://<the distribution's domain>`` as the template spells it."""
    return {"Fn::Join": ["", ["https://", stack.att(DISTRIBUTION, "DomainName")]]}


def quoted_origin(stack: Synthesized) -> dict[str, Any]:
    return {"Fn::Join": ["", ["'https://", stack.att(DISTRIBUTION, "DomainName"), "'"]]}


def test_the_bucket_blocks_public_access_and_is_encrypted(every_stack: Synthesized) -> None:
    bucket = every_stack.props(BUCKET)

    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert "WebsiteConfiguration" not in bucket  # no S3 website endpoint: CloudFront is the only way in


def test_the_bucket_policy_enforces_tls_and_admits_only_this_distribution(every_stack: Synthesized) -> None:
    [policy] = [
        res["Properties"]
        for res in every_stack.of_type("AWS::S3::BucketPolicy").values()
        if res["Properties"]["Bucket"] == every_stack.ref(BUCKET)
    ]
    statements = policy["PolicyDocument"]["Statement"]
    deny = [s for s in statements if s["Effect"] == "Deny"]
    allow = [s for s in statements if s["Effect"] == "Allow"]

    assert [(s["Action"], s["Condition"]) for s in deny] == [
        ("s3:*", {"Bool": {"aws:SecureTransport": "false"}})
    ]
    assert len(allow) == 1
    [grant] = allow
    assert grant["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert grant["Action"] == "s3:GetObject"
    source = json.dumps(grant["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert every_stack.logical_id(DISTRIBUTION) in source  # this distribution, not any CloudFront


def test_cloudfront_reads_the_bucket_through_origin_access_control(every_stack: Synthesized) -> None:
    config = every_stack.props(DISTRIBUTION)["DistributionConfig"]
    [origin] = config["Origins"]
    [(oac_id, oac)] = every_stack.of_type("AWS::CloudFront::OriginAccessControl").items()

    assert origin["DomainName"] == every_stack.att(BUCKET, "RegionalDomainName")
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    assert origin["S3OriginConfig"]["OriginAccessIdentity"] == ""  # no legacy OAI
    assert oac["Properties"]["OriginAccessControlConfig"] | {"Name": None} == {
        "Name": None,
        "OriginAccessControlOriginType": "s3",
        "SigningBehavior": "always",
        "SigningProtocol": "sigv4",
    }
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert config["DefaultRootObject"] == "index.html"


def test_every_response_carries_the_security_headers(every_stack: Synthesized) -> None:
    behavior = every_stack.props(DISTRIBUTION)["DistributionConfig"]["DefaultCacheBehavior"]
    [(policy_id, policy)] = every_stack.of_type("AWS::CloudFront::ResponseHeadersPolicy").items()
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]

    assert behavior["ResponseHeadersPolicyId"] == {"Ref": policy_id}
    csp = json.dumps(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ):
        assert directive in csp
    assert every_stack.logical_id("Api/RestApi") in csp  # connect-src names this stage's API
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31_536_000
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"


def test_the_stack_deploys_the_files_and_a_config_naming_its_api(every_stack: Synthesized) -> None:
    [deployment] = every_stack.of_type("Custom::CDKBucketDeployment").values()
    props = deployment["Properties"]

    assert props["DestinationBucketName"] == every_stack.ref(BUCKET)
    assert props["DistributionId"] == every_stack.ref(DISTRIBUTION)
    assert props["Prune"] is True
    assert props.get("RetainOnDelete") is False  # deleting the stack deletes the files, so the bucket can go
    assert len(props["SourceObjectKeys"]) == 2  # the static folder, and config.json
    # config.json's apiUrl is filled in at deploy time with this stage's API URL.
    [config_markers] = [markers for markers in props["SourceMarkers"] if markers]
    [api_url] = config_markers.values()
    assert every_stack.logical_id("Api/RestApi") in json.dumps(api_url)


def test_cors_is_for_the_dashboards_origin_only(every_stack: Synthesized) -> None:
    environment = every_stack.environment("Api/Handler/Function")
    preflights = {
        key: res["Properties"]
        for key, res in every_stack.of_type("AWS::ApiGateway::Method").items()
        if res["Properties"]["HttpMethod"] == "OPTIONS"
    }
    gateway_responses = every_stack.of_type("AWS::ApiGateway::GatewayResponse")

    assert environment["CORS_ALLOW_ORIGIN"] == distribution_origin(every_stack)
    assert len(preflights) == 2  # / and /{proxy+}
    for method in preflights.values():
        assert method["ApiKeyRequired"] is False  # a browser's preflight carries no key
        [answer] = method["Integration"]["IntegrationResponses"]
        allowed = answer["ResponseParameters"]
        assert allowed["method.response.header.Access-Control-Allow-Origin"] == quoted_origin(every_stack)
    assert {res["Properties"]["ResponseType"] for res in gateway_responses.values()} == {
        "DEFAULT_4XX",
        "DEFAULT_5XX",
    }
    for response in gateway_responses.values():
        origin = response["Properties"]["ResponseParameters"][
            "gatewayresponse.header.Access-Control-Allow-Origin"
        ]
        assert origin == quoted_origin(every_stack)
    assert "'*'" not in json.dumps(every_stack.template)  # no wildcard origin anywhere


@pytest.mark.parametrize("method", ["ANY"])
def test_every_other_method_still_requires_an_api_key(dev: Synthesized, method: str) -> None:
    methods = [
        res["Properties"]
        for res in dev.of_type("AWS::ApiGateway::Method").values()
        if res["Properties"]["HttpMethod"] == method
    ]
    assert methods and all(props["ApiKeyRequired"] is True for props in methods)


def test_the_stack_outputs_the_dashboards_url(dev: Synthesized) -> None:
    output = dev.template["Outputs"]["DashboardUrl"]["Value"]
    assert output == {"Fn::Join": ["", ["https://", dev.att(DISTRIBUTION, "DomainName"), "/"]]}
