"""boto3 sessions from the AWS source settings: profile or role, endpoint override, standard/adaptive retries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from collector.aws.errors import WHAT_TO_SET, AwsCaller, one_line, translate
from collector.aws.spend import SpendMeter
from collector.base import MissingCredentialsError
from collector.config import AwsSourceSettings

PRICING_REGION = "us-east-1"  # the Price List API answers in us-east-1 (and two other regions)
COST_EXPLORER_REGION = "us-east-1"  # Cost Explorer is global, served from us-east-1
ROLE_SESSION_NAME = "headroom-collector"
DEFAULT_CHAIN = (
    "environment (AWS_ACCESS_KEY_ID), AWS_SHARED_CREDENTIALS_FILE / ~/.aws/credentials, AWS_CONFIG_FILE / "
    "~/.aws/config (AWS_PROFILE), SSO, container and instance metadata"
)


class AwsSessions:
    """Clients for every (service, region), sharing one credential (the profile's, or the assumed role's)."""

    def __init__(self, cfg: AwsSourceSettings) -> None:
        self.cfg = cfg
        self.config = Config(
            retries={"mode": cfg.retry_mode, "total_max_attempts": cfg.retry.max_attempts},  # first try included
            connect_timeout=10,
            read_timeout=60,
            user_agent_extra="headroom",
        )
        self.chain = f"profile {cfg.profile!r} of AWS_CONFIG_FILE / ~/.aws/config" if cfg.profile else DEFAULT_CHAIN
        if cfg.role_arn:
            self.chain += f", then sts:AssumeRole into {cfg.role_arn}"
        self._session: boto3.Session | None = None
        self._callers: dict[tuple[str, str], AwsCaller] = {}
        self.meter = SpendMeter(cfg.prices)  # paid calls made through these clients, at list price

    @property
    def session(self) -> boto3.Session:
        if self._session is None:
            self._session = self._build()
        return self._session

    def _base(self) -> boto3.Session:
        try:
            base = boto3.Session(profile_name=self.cfg.profile)
        except ProfileNotFound:
            raise MissingCredentialsError(
                f"AWS profile {self.cfg.profile!r} is not in AWS_CONFIG_FILE / ~/.aws/config: {WHAT_TO_SET}"
            ) from None
        if base.get_credentials() is None:
            raise MissingCredentialsError(f"no AWS credentials found (looked in {self.chain}): {WHAT_TO_SET}")
        return base

    def _build(self) -> boto3.Session:
        base = self._base()
        if not self.cfg.role_arn:
            return base
        region = self.cfg.regions[0]
        sts = AwsCaller(self._client(base, "sts", region), region=region, chain=self.chain)
        role_arn = self.cfg.role_arn

        def assume() -> dict[str, Any]:
            creds = sts.call("AssumeRole", RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME)["Credentials"]
            expiry: datetime = creds["Expiration"]
            return {
                "access_key": creds["AccessKeyId"],
                "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"],
                "expiry_time": expiry.isoformat(),
            }

        # refreshable, so a long collection outlives the role session (botocore refreshes before expiry)
        credentials = RefreshableCredentials.create_from_metadata(
            metadata=assume(), refresh_using=assume, method="sts-assume-role"
        )
        core = botocore.session.get_session()
        core._credentials = credentials  # botocore has no public setter for refreshable credentials
        return boto3.Session(botocore_session=core)

    def _client(self, session: boto3.Session, service: str, region: str) -> Any:
        try:
            return session.client(
                service,  # type: ignore[call-overload]
                region_name=region,
                endpoint_url=self.cfg.endpoint_url,
                config=self.config,
            )
        except (BotoCoreError, ClientError) as exc:
            raise translate(
                exc, service=service, operation="client", region=region, chain=self.chain, waited=0.0
            ) from exc

    def caller(self, service: str, region: str) -> AwsCaller:
        """A guarded client of `service` in `region` (cached)."""
        key = (service, region)
        if key not in self._callers:
            client = self._client(self.session, service, region)
            self.meter.attach(client)
            self._callers[key] = AwsCaller(client, region=region, chain=self.chain)
        return self._callers[key]

    def describe(self) -> str:
        """Where credentials come from, for messages (never the credentials themselves)."""
        return one_line(self.chain)
