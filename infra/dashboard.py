"""The web dashboard on a stage: its static files (``punctual/dashboard/static``, the folder ``punctual dev``
serves at /ui/) in a private S3 bucket, served by CloudFront through origin access control, with security
headers; the API answers CORS for that one origin.

The files need no build and no Docker: BucketDeployment uploads the folder as a plain directory asset, plus
a ``config.json`` naming the stage's API URL (the sign-in form's default). Deleting the stack deletes them.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct
from punctual.dashboard import STATIC_DIR
from punctual.handlers.cors import ALLOWED_HEADERS, ALLOWED_METHODS, CORS_ORIGIN_ENV

from infra.api import Api
from infra.config import StageConfig
from infra.nag import acknowledge

PREFLIGHT_MAX_AGE = Duration.minutes(10)
# The id prefix of CDK's singleton BucketDeployment function, a child of the stack.
DEPLOYMENT_HANDLER = "Custom::CDKBucketDeployment"


def content_security_policy(api_origin: str) -> str:
    """The pages' scripts, styles and images come from the distribution only; they call the API only."""
    return (
        "default-src 'self'; "
        f"connect-src 'self' {api_origin}; "
        "img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
    )


class Dashboard(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, api: Api) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        # The API's host only (not its URL, which names the deployment stage: that would be a cycle, since
        # the API's function reads this distribution's origin).
        api_origin = f"https://{api.rest_api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}"

        self.bucket = s3.Bucket(
            self,
            "Assets",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=False,
            removal_policy=config.removal_policy,
        )
        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment=f"punctual {config.name}: dashboard security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(api_origin), override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365), include_subdomains=True, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
            ),
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"punctual {config.name}: dashboard",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers,
                compress=True,
            ),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
        )
        self.origin = f"https://{self.distribution.distribution_domain_name}"

        s3deploy.BucketDeployment(
            self,
            "Deploy",
            sources=[
                s3deploy.Source.asset(str(STATIC_DIR), exclude=["**/.*"]),
                s3deploy.Source.json_data("config.json", {"apiUrl": api.rest_api.url}),
            ],
            destination_bucket=self.bucket,
            distribution=self.distribution,
            distribution_paths=["/*"],
            prune=True,
            retain_on_delete=False,
            memory_limit=256,
        )
        allow_origin(api, self.origin)
        self._acknowledge_findings()

    def _acknowledge_findings(self) -> None:
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "The bucket holds only the dashboard's static files, read by CloudFront alone; every call that "
            "carries data goes to the API, whose access logs record it.",
        )
        distribution = {
            "AwsSolutions-CFR1": "The dashboard is for the stage's operators wherever they are; the API key, "
            "not the viewer's country, decides what anyone can see.",
            "AwsSolutions-CFR2": "The distribution serves static files only (GET/HEAD, cached); a WAF web ACL "
            "can be attached per deployment where one is required.",
            "AwsSolutions-CFR3": "Static files that carry no data; every call that does goes to the API, whose "
            "access logs record it.",
            "AwsSolutions-CFR4": "The default CloudFront certificate (*.cloudfront.net) cannot pin a minimum "
            "TLS version; a custom domain with its own certificate would set TLSv1.2_2021.",
        }
        for rule, reason in distribution.items():
            acknowledge(self.distribution, rule, reason)
        # BucketDeployment's own function (one per stack, made by CDK, named by its memory size): its
        # runtime and its policy are CDK's. It runs only during deployments.
        stack = Stack.of(self)
        handlers = [child for child in stack.node.children if child.node.id.startswith(DEPLOYMENT_HANDLER)]
        assets_id = stack.get_logical_id(self.bucket.node.default_child)  # type: ignore[arg-type]
        on_function = {
            "AwsSolutions-L1": "CDK's BucketDeployment handler chooses its own runtime, and runs only while deploying.",
        }
        on_role = {
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]": "CDK's BucketDeployment handler writes its logs with the AWS "
            "policy made for that purpose.",
        }
        on_policy = {
            "AwsSolutions-IAM5[Resource::*]": "CDK's BucketDeployment handler invalidates the distribution; "
            "CloudFront's CreateInvalidation and GetInvalidation take no resource narrower than this here.",
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-"
            "<AWS::Region>/*]": "CDK's BucketDeployment handler reads the uploaded zip from the CDK "
            "bootstrap assets bucket of this account and region.",
            f"AwsSolutions-IAM5[Resource::<{assets_id}.Arn>/*]": "CDK's BucketDeployment handler writes and "
            "prunes the dashboard's files, every object of its own bucket.",
        }
        for action in ("s3:GetObject*", "s3:GetBucket*", "s3:List*", "s3:DeleteObject*", "s3:Abort*"):
            on_policy[f"AwsSolutions-IAM5[Action::{action}]"] = (
                "CDK's BucketDeployment handler grants the read, list, delete and abort families "
                "it needs to copy and prune the files, on the two buckets only."
            )
        for handler in handlers:
            role = handler.node.find_child("ServiceRole")
            policy = role.node.find_child("DefaultPolicy")
            # Each finding on the one resource it arises on: the function, its role, the role's policy.
            for target, findings in ((handler, on_function), (role, on_role), (policy, on_policy)):
                for rule, reason in findings.items():
                    acknowledge(target, rule, reason)


def allow_origin(api: Api, origin: str) -> None:
    """CORS on the API for ``origin`` only: the api function's answers name it (handlers/cors.py), the
    preflight OPTIONS answer without a key, and API Gateway's own errors (a wrong key, throttling) carry it
    too so the dashboard can read them."""
    api.function.function.add_environment(CORS_ORIGIN_ENV, origin)
    proxy = api.rest_api.root.get_resource("{proxy+}")
    for resource in (api.rest_api.root, proxy):
        if resource is not None:
            resource.add_cors_preflight(
                allow_origins=[origin],
                allow_methods=list(ALLOWED_METHODS),
                allow_headers=list(ALLOWED_HEADERS),
                max_age=PREFLIGHT_MAX_AGE,
            )
    for kind in (apigateway.ResponseType.DEFAULT_4_XX, apigateway.ResponseType.DEFAULT_5_XX):
        api.rest_api.add_gateway_response(
            f"Cors{kind.response_type}",
            type=kind,
            response_headers={
                "Access-Control-Allow-Origin": f"'{origin}'",
                "Vary": "'Origin'",
            },
        )
