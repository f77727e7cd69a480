"""Web: the SPA in a private S3 bucket behind CloudFront (Origin Access Control, HTTPS only).

Every response carries security headers, including a Content-Security-Policy whose
`connect-src` names exactly this deployment's HTTP API, WebSocket API and the Cognito endpoint.
The files themselves — the built SPA and its runtime `config.json` beside `index.html` — are
uploaded by `deploy` after the stack exists (no bucket-deployment custom resource), and the
bucket is emptied by `destroy` before the stack goes.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from openclaw_deploy.infra.common import acknowledge

CONFIG_PATH = "/config.json"


def content_security_policy(*, http_api: str, ws_api: str, cognito: str, files: str = "") -> str:
    """The CSP: our own files, and connections only to our APIs and Cognito. `files`: the state
    bucket's origins, where the chat uploads attachments (presigned POST) and shows the agent's
    images (presigned GET)."""
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: blob: {files}".rstrip(),
            "font-src 'self' data:",
            f"connect-src 'self' {http_api} {ws_api} {cognito} {files}".rstrip(),
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "upgrade-insecure-requests",
        )
    )


class Web(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        http_api_origin: str,
        ws_api_origin: str,
        cognito_origin: str,
        files_origin: str = "",
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            # The SPA is rebuilt from the wheel at every deploy; `destroy` empties the bucket.
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "The bucket holds the public SPA build, read only by CloudFront; access logs would "
            "record nothing private and cost more than the site.",
        )
        headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            response_headers_policy_name=f"{prefix}-web",
            comment="OpenClaw web UI security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(
                        http_api=http_api_origin,
                        ws_api=ws_api_origin,
                        cognito=cognito_origin,
                        files=files_origin,
                    ),
                    override=True,
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=cdk.Duration.days(730),
                    include_subdomains=True,
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                xss_protection=cloudfront.ResponseHeadersXSSProtection(
                    protection=True, mode_block=True, override=True
                ),
            ),
        )
        origin = origins.S3BucketOrigin.with_origin_access_control(self.bucket)
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"OpenClaw web UI ({prefix})",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                compress=True,
            ),
            additional_behaviors={
                # Written at every deploy: never served stale.
                CONFIG_PATH: cloudfront.BehaviorOptions(
                    origin=origin,
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                    response_headers_policy=headers,
                )
            },
            # Client-side routes: any unknown path is the SPA itself.
            error_responses=[
                cloudfront.ErrorResponse(
                    http_status=status,
                    response_http_status=200,
                    response_page_path="/index.html",
                    ttl=cdk.Duration.seconds(10),
                )
                for status in (403, 404)
            ],
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
        )
        for rule, reason in (
            ("AwsSolutions-CFR1", "A personal agent is used from wherever its owner travels."),
            (
                "AwsSolutions-CFR2",
                "AWS WAF costs at least $5/month, several times the whole deployment; the site "
                "is static and every API call needs a Cognito token.",
            ),
            (
                "AwsSolutions-CFR3",
                "CloudFront standard logs need an ACL-enabled log bucket; requests for a static "
                "SPA reveal nothing worth keeping.",
            ),
            (
                "AwsSolutions-CFR4",
                "No custom domain: the default *.cloudfront.net certificate is used, and "
                "CloudFront fixes its TLS policy.",
            ),
        ):
            acknowledge(self.distribution, rule, reason)

    @property
    def url(self) -> str:
        return f"https://{self.distribution.distribution_domain_name}"
