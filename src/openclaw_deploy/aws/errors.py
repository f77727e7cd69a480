"""Turning botocore's exceptions into the CLI's own, with the command that fixes them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from openclaw_deploy.errors import AwsError, CredentialsError

CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "AuthFailure",
        "InvalidAccessKeyId",
    }
)
CREDENTIALS_HINT = (
    "configure credentials: aws configure (or aws sso login), or set AWS_PROFILE / "
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
)


@contextmanager
def translate_boto_errors(action: str) -> Iterator[None]:
    """Re-raise botocore errors met while doing `action` as CredentialsError or AwsError."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
    )

    try:
        yield
    except (NoCredentialsError, PartialCredentialsError):
        raise CredentialsError(
            f"No AWS credentials were found (while trying to {action}).", hint=CREDENTIALS_HINT
        ) from None
    except ProfileNotFound as error:
        raise CredentialsError(
            f"The AWS profile {error.kwargs.get('profile')!r} does not exist.",
            hint="aws configure --profile NAME, or pass another --profile",
        ) from None
    except NoRegionError:
        raise AwsError(
            f"No AWS region is set (while trying to {action}).",
            hint="pass --region REGION or set AWS_REGION",
        ) from None
    except EndpointConnectionError as error:
        raise AwsError(
            f"Could not reach AWS at {error.kwargs.get('endpoint_url')} "
            f"(while trying to {action}).",
            hint="check your network, or AWS_ENDPOINT_URL if you set it",
        ) from None
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        if code in CREDENTIAL_CODES:
            raise CredentialsError(
                f"AWS refused the credentials ({code}) while trying to {action}.",
                hint=CREDENTIALS_HINT,
            ) from None
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            raise AwsError(
                f"AWS denied access while trying to {action}: {message}",
                hint="use credentials allowed to deploy (e.g. an administrator profile)",
            ) from None
        raise AwsError(f"AWS error while trying to {action}: {code}: {message}") from None
    except BotoCoreError as error:
        raise AwsError(f"AWS client error while trying to {action}: {error}") from None
