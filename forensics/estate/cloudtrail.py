"""AWS CloudTrail records as the service writes them.

userIdentity shapes for each kind of caller, the STS credential-issuing calls (the key a later
event signs with is the issuing call's responseElements.credentials.accessKeyId), S3 and
DynamoDB data events, and the management reads that fill a real trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from forensics.estate.emission import seconds_z, sts_expiration
from forensics.estate.ids import Ids
from forensics.estate.org import HOME_REGION, Bucket, IamUser, Role, Table

CLI_UA = (
    "aws-cli/2.17.42 md/awscrt#0.21.2 ua/2.0 os/macos#23.6.0 md/arch#arm64 lang/python#3.12.6 "
    "md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off"
)
BOTO_UA = (
    "Boto3/1.35.24 md/Botocore#1.35.24 ua/2.0 os/linux#6.1.109-118.189.amzn2023.x86_64 "
    "md/arch#x86_64 lang/python#3.11.10 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.24"
)
CONSOLE_UA = "AWS Internal"
S3_CONSOLE_UA = (
    "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750 Linux/5.10.225 "
    "OpenJDK_64-Bit_Server_VM/25.412-b09 java/1.8.0_412 vendor/Oracle_Corporation "
    "cfg/retry-mode/standard]"
)
GHA_UA = (
    "aws-sdk-nodejs/2.1692.0 linux/v20.17.0 configure-aws-credentials-for-github-actions promise"
)
ATTACKER_UA = (
    "aws-cli/2.13.0 Python/3.11.4 Linux/6.2.0-kali3-amd64 exe/x86_64.kali.2023 prompt/off "
    "command/sts.assume-role"
)
TLS13 = "TLS_AES_128_GCM_SHA256"


@dataclass(slots=True)
class RoleSession:
    """Temporary credentials for one role session, as the issuing call returned them."""

    role: Role
    name: str
    key: str
    token: str
    created: datetime  # whole seconds: CloudTrail's eventTime of the issuing call
    expires: datetime
    source_identity: str = ""
    web_provider: str = ""
    ec2: bool = False
    issued_to: str = ""  # the instance ARN when EC2 delivered the credentials

    @property
    def arn(self) -> str:
        return f"arn:aws:sts::{self.role.account}:assumed-role/{self.role.name}/{self.name}"

    @property
    def assumed_role_id(self) -> str:
        return f"{self.role.role_id}:{self.name}"

    def usable(self, t: datetime) -> bool:
        """True while the credentials can sign a request at ``t`` (with a minute to spare)."""
        return self.created < t < self.expires - timedelta(seconds=60)


# --- userIdentity ------------------------------------------------------------------------


def role_session_identity(s: RoleSession) -> dict[str, Any]:
    context: dict[str, Any] = {
        "sessionIssuer": {
            "type": "Role",
            "principalId": s.role.role_id,
            "arn": s.role.arn,
            "accountId": s.role.account,
            "userName": s.role.name,
        },
        "webIdFederationData": (
            {"federatedProvider": s.web_provider, "attributes": {}} if s.web_provider else {}
        ),
        "attributes": {"creationDate": seconds_z(s.created), "mfaAuthenticated": "false"},
    }
    if s.source_identity:
        context["sourceIdentity"] = s.source_identity
    if s.ec2:
        context["ec2RoleDelivery"] = "2.0"
    identity: dict[str, Any] = {
        "type": "AssumedRole",
        "principalId": s.assumed_role_id,
        "arn": s.arn,
        "accountId": s.role.account,
        "accessKeyId": s.key,
        "sessionContext": context,
    }
    if s.issued_to:
        identity["inScopeOf"] = {
            "issuerType": "AWS::EC2::Instance",
            "credentialsIssuedTo": s.issued_to,
        }
    return identity


def iam_user_identity(user: IamUser) -> dict[str, Any]:
    return {
        "type": "IAMUser",
        "principalId": user.user_id,
        "arn": user.arn,
        "accountId": user.account,
        "accessKeyId": user.access_key,
        "userName": user.name,
    }


def other_account_identity(principal_id: str, account: str) -> dict[str, Any]:
    """How the role owner's copy of a cross-account call names the caller."""
    return {"type": "AWSAccount", "principalId": principal_id, "accountId": account}


def service_identity(service: str) -> dict[str, Any]:
    return {"type": "AWSService", "invokedBy": service}


def saml_identity(name_qualifier: str, subject: str) -> dict[str, Any]:
    return {
        "type": "SAMLUser",
        "principalId": f"{name_qualifier}:{subject}",
        "userName": subject,
        "identityProvider": name_qualifier,
    }


def web_identity(provider_arn: str, audience: str, subject: str) -> dict[str, Any]:
    return {
        "type": "WebIdentityUser",
        "principalId": f"{provider_arn}:{audience}:{subject}",
        "userName": subject,
        "identityProvider": provider_arn,
    }


def identity_center_identity(
    account: str, user_id: str, store_arn: str, cred: str
) -> dict[str, Any]:
    return {
        "type": "IdentityCenterUser",
        "accountId": account,
        "onBehalfOf": {"userId": user_id, "identityStoreArn": store_arn},
        "credentialId": cred,
    }


ANONYMOUS_IDENTITY: dict[str, Any] = {
    "type": "AWSAccount",
    "principalId": "",
    "accountId": "ANONYMOUS_PRINCIPAL",
}


def caller_account(identity: dict[str, Any]) -> str:
    return str(identity.get("accountId", ""))


def _account_resource(account: str, type_name: str, arn: str) -> dict[str, Any]:
    """One entry of a record's ``resources`` list for a resource an account owns."""
    return {"accountId": account, "type": type_name, "ARN": arn}


def _role_resource(role: Role) -> dict[str, Any]:
    return _account_resource(role.account, "AWS::IAM::Role", role.arn)


def _bucket_resource(bucket: Bucket) -> dict[str, Any]:
    return _account_resource(bucket.account, "AWS::S3::Bucket", f"arn:aws:s3:::{bucket.name}")


# --- records -----------------------------------------------------------------------------


class CloudTrail:
    """Builds CloudTrail records; every id comes from the given factory."""

    def __init__(self, ids: Ids) -> None:
        self.ids = ids

    def record(
        self,
        *,
        t: datetime,
        identity: dict[str, Any],
        source: str,
        name: str,
        region: str,
        ip: str,
        ua: str,
        request: dict[str, Any] | None,
        response: dict[str, Any] | None,
        recipient: str,
        read_only: bool,
        data: bool = False,
        resources: list[dict[str, Any]] | None = None,
        additional: dict[str, Any] | None = None,
        host: str | None = None,
        request_id: str | None = None,
        shared_event_id: str | None = None,
        event_type: str = "AwsApiCall",
        error: tuple[str, str] | None = None,
        service_details: dict[str, Any] | None = None,
        version: str | None = None,
    ) -> dict[str, Any]:
        rec: dict[str, Any] = {
            "eventVersion": version or ("1.09" if data or event_type != "AwsApiCall" else "1.08"),
            "userIdentity": identity,
            "eventTime": seconds_z(t),
            "eventSource": source,
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": ip,
            "userAgent": ua,
        }
        if error:
            code, message = error
            if code:
                rec["errorCode"] = code
            rec["errorMessage"] = message
        rec["requestParameters"] = request
        rec["responseElements"] = response
        if additional is not None:
            rec["additionalEventData"] = additional
        rec["requestID"] = request_id or self.ids.uuid()
        rec["eventID"] = self.ids.uuid()
        rec["readOnly"] = read_only
        if resources is not None:
            rec["resources"] = resources
        rec["eventType"] = event_type
        rec["managementEvent"] = not data
        rec["recipientAccountId"] = recipient
        if shared_event_id:
            rec["sharedEventID"] = shared_event_id
        if service_details is not None:
            rec["serviceEventDetails"] = service_details
        rec["eventCategory"] = "Data" if data else "Management"
        if host:
            rec["tlsDetails"] = {
                "tlsVersion": "TLSv1.3",
                "cipherSuite": TLS13,
                "clientProvidedHostHeader": host,
            }
        return rec

    # --- STS ---------------------------------------------------------------------------

    def new_session(
        self,
        role: Role,
        name: str,
        t: datetime,
        duration: int = 3600,
        *,
        source_identity: str = "",
        web_provider: str = "",
        ec2: bool = False,
        issued_to: str = "",
    ) -> RoleSession:
        created = t.replace(microsecond=0)
        return RoleSession(
            role=role,
            name=name,
            key=self.ids.aws_key("ASIA"),
            token=self.ids.session_token(),
            created=created,
            expires=created + timedelta(seconds=duration),
            source_identity=source_identity,
            web_provider=web_provider,
            ec2=ec2,
            issued_to=issued_to,
        )

    @staticmethod
    def _issued(s: RoleSession) -> dict[str, Any]:
        return {
            "credentials": {
                "accessKeyId": s.key,
                "sessionToken": s.token,
                "expiration": sts_expiration(s.expires),
            },
            "assumedRoleUser": {"assumedRoleId": s.assumed_role_id, "arn": s.arn},
        }

    @staticmethod
    def _sts_where(region: str) -> tuple[str, str, dict[str, Any]]:
        """Region, host and RequestDetails for a call to the global or a regional endpoint."""
        if region == "global":
            return (
                HOME_REGION,
                "sts.amazonaws.com",
                {"endpointType": "global", "awsServingRegion": HOME_REGION},
            )
        return (
            region,
            f"sts.{region}.amazonaws.com",
            {"endpointType": "regional", "awsServingRegion": region},
        )

    def assume_role(
        self,
        *,
        t: datetime,
        caller: dict[str, Any],
        session: RoleSession,
        ip: str,
        ua: str,
        sts_region: str = "global",
        duration: int | None = 3600,
    ) -> list[dict[str, Any]]:
        """AssumeRole; a cross-account call yields the caller's copy and the role owner's copy."""
        region, host, details = self._sts_where(sts_region)
        request: dict[str, Any] = {"roleArn": session.role.arn, "roleSessionName": session.name}
        if duration is not None:
            request["durationSeconds"] = duration
        response = self._issued(session)
        if session.source_identity:
            request["sourceIdentity"] = session.source_identity
            response["sourceIdentity"] = session.source_identity
        resources = [_role_resource(session.role)]
        home = caller_account(caller)
        cross = home != session.role.account
        request_id = self.ids.uuid()
        shared = self.ids.uuid() if cross else None
        common: dict[str, Any] = {
            "t": t,
            "source": "sts.amazonaws.com",
            "name": "AssumeRole",
            "region": region,
            "ip": ip,
            "ua": ua,
            "request": request,
            "response": response,
            "read_only": True,
            "resources": resources,
            "additional": {"RequestDetails": details},
            "host": host,
            "request_id": request_id,
            "shared_event_id": shared,
        }
        records = [self.record(identity=caller, recipient=home, **common)]
        if cross:
            owner_view = other_account_identity(str(caller.get("principalId", "")), home)
            records.append(
                self.record(identity=owner_view, recipient=session.role.account, **common)
            )
        return records

    def assume_role_by_service(
        self, *, t: datetime, service: str, session: RoleSession
    ) -> dict[str, Any]:
        """An AWS service (EC2, Lambda) fetching role credentials for a compute resource."""
        return self.record(
            t=t,
            identity=service_identity(service),
            source="sts.amazonaws.com",
            name="AssumeRole",
            region=HOME_REGION,
            ip=service,
            ua=service,
            request={"roleArn": session.role.arn, "roleSessionName": session.name},
            response=self._issued(session),
            recipient=session.role.account,
            read_only=True,
            resources=[_role_resource(session.role)],
            shared_event_id=self.ids.uuid(),
        )

    def assume_role_with_saml(
        self,
        *,
        t: datetime,
        session: RoleSession,
        provider_arn: str,
        issuer: str,
        subject: str,
        ip: str,
        ua: str,
        duration: int = 3600,
        sts_region: str = "global",
    ) -> dict[str, Any]:
        # nameQualifier is a hash of issuer, account and provider name; any stable text will do.
        qualifier = self.ids.alnum(27) + "="
        request: dict[str, Any] = {
            "sAMLAssertionID": self.ids.saml_assertion_id(),
            "roleSessionName": session.name,
        }
        if session.source_identity:
            request["sourceIdentity"] = session.source_identity
        request.update(
            {"durationSeconds": duration, "roleArn": session.role.arn, "principalArn": provider_arn}
        )
        response = self._issued(session)
        response.update(
            {
                "subject": subject,
                "subjectType": "persistent",
                "issuer": issuer,
                "audience": "https://signin.aws.amazon.com/saml",
                "nameQualifier": qualifier,
            }
        )
        if session.source_identity:
            response["sourceIdentity"] = session.source_identity
        return self._federated_assume(
            t=t,
            identity=saml_identity(qualifier, subject),
            name="AssumeRoleWithSAML",
            session=session,
            provider=("AWS::IAM::SAMLProvider", provider_arn),
            request=request,
            response=response,
            ip=ip,
            ua=ua,
            sts_region=sts_region,
        )

    def assume_role_with_web_identity(
        self,
        *,
        t: datetime,
        session: RoleSession,
        provider_arn: str,
        issuer: str,
        audience: str,
        subject: str,
        ip: str,
        ua: str,
        duration: int = 3600,
    ) -> dict[str, Any]:
        response = self._issued(session)
        response.update(
            {"subjectFromWebIdentityToken": subject, "provider": provider_arn, "audience": audience}
        )
        return self._federated_assume(
            t=t,
            identity=web_identity(provider_arn, audience, subject),
            name="AssumeRoleWithWebIdentity",
            session=session,
            provider=("AWS::IAM::OidcProvider", provider_arn),
            request={
                "roleArn": session.role.arn,
                "roleSessionName": session.name,
                "durationSeconds": duration,
            },
            response=response,
            ip=ip,
            ua=ua,
            sts_region="global",
        )

    def _federated_assume(
        self,
        *,
        t: datetime,
        identity: dict[str, Any],
        name: str,
        session: RoleSession,
        provider: tuple[str, str],
        request: dict[str, Any],
        response: dict[str, Any],
        ip: str,
        ua: str,
        sts_region: str,
    ) -> dict[str, Any]:
        """An AssumeRoleWith* record; ``provider`` is the identity provider's type and ARN."""
        region, host, details = self._sts_where(sts_region)
        provider_type, provider_arn = provider
        return self.record(
            t=t,
            identity=identity,
            source="sts.amazonaws.com",
            name=name,
            region=region,
            ip=ip,
            ua=ua,
            request=request,
            response=response,
            recipient=session.role.account,
            read_only=True,
            resources=[
                _role_resource(session.role),
                _account_resource(session.role.account, provider_type, provider_arn),
            ],
            additional={"RequestDetails": details},
            host=host,
        )

    def get_role_credentials(
        self,
        *,
        t: datetime,
        account: str,
        user_id: str,
        store_arn: str,
        credential_id: str,
        role_name: str,
        target_account: str,
        ip: str,
        ua: str,
    ) -> dict[str, Any]:
        """IAM Identity Center handing role credentials to a user (no key in the record)."""
        return self.record(
            t=t,
            identity=identity_center_identity(account, user_id, store_arn, credential_id),
            source="sso.amazonaws.com",
            name="GetRoleCredentials",
            region=HOME_REGION,
            ip=ip,
            ua=ua,
            request=None,
            response=None,
            recipient=account,
            read_only=True,
            event_type="AwsServiceEvent",
            service_details={"role_name": role_name, "account_id": target_account},
        )

    def get_caller_identity(
        self, *, t: datetime, identity: dict[str, Any], ip: str, ua: str
    ) -> dict[str, Any]:
        region, host, details = self._sts_where("global")
        return self.record(
            t=t,
            identity=identity,
            source="sts.amazonaws.com",
            name="GetCallerIdentity",
            region=region,
            ip=ip,
            ua=ua,
            request=None,
            response=None,
            recipient=caller_account(identity),
            read_only=True,
            additional={"RequestDetails": details},
            host=host,
        )

    # --- data events ---------------------------------------------------------------------

    def s3_object(
        self,
        *,
        t: datetime,
        identity: dict[str, Any],
        bucket: Bucket,
        key: str,
        ip: str,
        ua: str,
        op: str = "GetObject",
        size: int = 0,
    ) -> dict[str, Any]:
        host = f"{bucket.name}.s3.{bucket.region}.amazonaws.com"
        anonymous = identity.get("accountId") == "ANONYMOUS_PRINCIPAL"
        additional: dict[str, Any] = {}
        if not anonymous:
            additional["SignatureVersion"] = "SigV4"
        additional["CipherSuite"] = TLS13
        additional["bytesTransferredIn"] = size if op == "PutObject" else 0
        if not anonymous:
            additional["AuthenticationMethod"] = "AuthHeader"
        additional["x-amz-id-2"] = self.ids.amz_id_2()
        additional["bytesTransferredOut"] = size if op != "PutObject" else 0
        return self.record(
            t=t,
            identity=identity,
            source="s3.amazonaws.com",
            name=op,
            region=bucket.region,
            ip=ip,
            ua=ua,
            request={"bucketName": bucket.name, "Host": host, "key": key},
            response=None,
            recipient=bucket.account,
            read_only=op != "PutObject",
            data=True,
            resources=[
                {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket.name}/{key}"},
                _bucket_resource(bucket),
            ],
            additional=additional,
            host=host,
            request_id=self.ids.s3_request_id(),
        )

    def s3_list(
        self,
        *,
        t: datetime,
        identity: dict[str, Any],
        bucket: Bucket,
        prefix: str,
        ip: str,
        ua: str,
    ) -> dict[str, Any]:
        host = f"{bucket.name}.s3.{bucket.region}.amazonaws.com"
        return self.record(
            t=t,
            identity=identity,
            source="s3.amazonaws.com",
            name="ListObjects",
            region=bucket.region,
            ip=ip,
            ua=ua,
            request={
                "list-type": "2",
                "bucketName": bucket.name,
                "encoding-type": "url",
                "prefix": prefix,
                "Host": host,
            },
            response=None,
            recipient=bucket.account,
            read_only=True,
            data=True,
            resources=[_bucket_resource(bucket)],
            additional={
                "SignatureVersion": "SigV4",
                "CipherSuite": TLS13,
                "bytesTransferredIn": 0,
                "AuthenticationMethod": "AuthHeader",
                "x-amz-id-2": self.ids.amz_id_2(),
                "bytesTransferredOut": 2048 + len(prefix) * 31,
            },
            host=host,
            request_id=self.ids.s3_request_id(),
        )

    def dynamodb_get_item(
        self, *, t: datetime, identity: dict[str, Any], table: Table, ip: str, ua: str
    ) -> dict[str, Any]:
        arn = f"arn:aws:dynamodb:{table.region}:{table.account}:table/{table.name}"
        return self.record(
            t=t,
            identity=identity,
            source="dynamodb.amazonaws.com",
            name="GetItem",
            region=table.region,
            ip=ip,
            ua=ua,
            # DynamoDB never writes key values into the trail.
            request={
                "tableName": table.name,
                "key": {table.key_name: "HIDDEN_DUE_TO_SECURITY_REASONS"},
                "consistentRead": False,
            },
            response=None,
            recipient=table.account,
            read_only=True,
            data=True,
            resources=[_account_resource(table.account, "AWS::DynamoDB::Table", arn)],
            host=f"dynamodb.{table.region}.amazonaws.com",
            request_id=self.ids.upper(52),
        )

    # --- management reads ----------------------------------------------------------------

    def describe_instances(
        self, *, t: datetime, identity: dict[str, Any], region: str, ip: str, ua: str, account: str
    ) -> dict[str, Any]:
        return self.record(
            t=t,
            identity=identity,
            source="ec2.amazonaws.com",
            name="DescribeInstances",
            region=region,
            ip=ip,
            ua=ua,
            request={"instancesSet": {}, "filterSet": {}},
            response=None,
            recipient=account,
            read_only=True,
            host=f"ec2.{region}.amazonaws.com",
        )

    def get_secret_value(
        self, *, t: datetime, identity: dict[str, Any], secret_arn: str, ip: str, ua: str
    ) -> dict[str, Any]:
        region, account = secret_arn.split(":")[3:5]
        return self.record(
            t=t,
            identity=identity,
            source="secretsmanager.amazonaws.com",
            name="GetSecretValue",
            region=region,
            ip=ip,
            ua=ua,
            request={"secretId": secret_arn},
            response=None,
            recipient=account,
            read_only=True,
            resources=[],
            host=f"secretsmanager.{region}.amazonaws.com",
        )

    def console_login_failure(
        self, *, t: datetime, account: str, ip: str, ua: str
    ) -> dict[str, Any]:
        """A sign-in with a mistyped user name: CloudTrail hides what was typed."""
        return self.record(
            t=t,
            identity={
                "type": "IAMUser",
                "accountId": account,
                "accessKeyId": "",
                "userName": "HIDDEN_DUE_TO_SECURITY_REASONS",
            },
            source="signin.amazonaws.com",
            name="ConsoleLogin",
            region=HOME_REGION,
            ip=ip,
            ua=ua,
            request=None,
            response={"ConsoleLogin": "Failure"},
            recipient=account,
            read_only=False,
            additional={
                "LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
                "MobileVersion": "No",
                "MFAUsed": "No",
            },
            event_type="AwsConsoleSignIn",
            error=("", "No username found in supplied account"),
            version="1.09",
        )
