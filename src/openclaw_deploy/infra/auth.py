"""Auth: a Cognito user pool for the owner (no self-signup), its SPA client and the owner login.

The owner's user is part of the stack: Cognito emails the temporary password itself during the
deploy, so no password ever passes through this tool. The web UI signs in with
USER_PASSWORD_AUTH against Cognito's JSON API and answers NEW_PASSWORD_REQUIRED on first login.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from openclaw_deploy.infra.common import acknowledge
from openclaw_deploy.infra.spec import InfraSpec

INVITATION_SUBJECT = "Your OpenClaw agent is ready"
INVITATION_BODY = (
    "Your personal OpenClaw agent has been deployed.<br><br>"
    "Open {web_url} and sign in with<br>"
    "user: {{username}}<br>temporary password: {{####}}<br><br>"
    "You will choose your own password at the first sign-in. The temporary one expires in "
    "7 days; run <code>openclaw-deploy deploy</code> again to get a new one."
)


class Auth(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, spec: InfraSpec, web_url: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=spec.prefix,
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=cdk.Duration.days(7),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            user_invitation=cognito.UserInvitationConfig(
                email_subject=INVITATION_SUBJECT,
                email_body=INVITATION_BODY.format(web_url=web_url),
            ),
            deletion_protection=False,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG2",
            "MFA is optional, not required: the pool has a single owner account, self-signup is "
            "off, and the owner can turn TOTP on; requiring it would block the first sign-in.",
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG3",
            "Threat protection needs Cognito's Plus plan (billed per user); one owner with "
            "self-signup off gains little from it.",
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG8",
            "The Plus feature plan is billed per user; Essentials (free up to 10,000 users) "
            "covers a single owner.",
        )
        self.client = self.user_pool.add_client(
            "WebClient",
            user_pool_client_name=f"{spec.prefix}-web",
            generate_secret=False,  # a browser cannot keep a secret
            # Exactly what web/src/auth/cognito.ts calls: InitiateAuth USER_PASSWORD_AUTH (and
            # REFRESH_TOKEN_AUTH, always allowed). No hosted UI, so no OAuth flows, scopes or
            # callback URLs (CDK would otherwise add the code and implicit grants).
            auth_flows=cognito.AuthFlow(user_password=True),
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=cdk.Duration.hours(1),
            id_token_validity=cdk.Duration.hours(1),
            refresh_token_validity=cdk.Duration.days(30),
        )
        # Creating this user is what emails the invitation: `deploy` adds it only once the
        # agent's image exists, so the owner's first message is answered.
        if spec.owner_email and spec.invite_owner:
            cognito.CfnUserPoolUser(
                self,
                "Owner",
                user_pool_id=self.user_pool.user_pool_id,
                username=spec.owner_email,
                desired_delivery_mediums=["EMAIL"],
                user_attributes=[
                    cognito.CfnUserPoolUser.AttributeTypeProperty(
                        name="email", value=spec.owner_email
                    ),
                    cognito.CfnUserPoolUser.AttributeTypeProperty(
                        name="email_verified", value="true"
                    ),
                ],
            )

    @property
    def endpoint(self) -> str:
        return f"https://cognito-idp.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}/"
