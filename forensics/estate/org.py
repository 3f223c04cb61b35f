"""The synthetic organisation: people, workloads, accounts, roles and personal-data stores.

Example Corp runs three AWS accounts (identity 111122223333, data 444455556666, workloads
777788889999), two Google Cloud projects, an EKS cluster and an on-premises Kubernetes
cluster, Okta as its workforce IdP (SAML into AWS), IAM Identity Center for a data-science
group, Microsoft Entra ID for Azure, and a SaaS HR application that logs in OCSF. Names are
fixed; every identifier and address is drawn from the seed (see ``roster.build_org``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

ACCOUNT_IDENTITY = "111122223333"
ACCOUNT_DATA = "444455556666"
ACCOUNT_WORKLOADS = "777788889999"
HOME_REGION = "us-east-1"
LATE_REGION = "eu-west-1"  # its trail delivers late: the generator writes it under late/
START = datetime(2026, 10, 5, 8, 0, 0, tzinfo=UTC)

EMAIL_DOMAIN = "example.com"
GITHUB_ISSUER = "token.actions.githubusercontent.com"
GITHUB_ORG = "example-corp"
EKS_OIDC_ID = "EXAMPLED539D4633E53DE1B71EXAMPLE"
EKS_ISSUER = f"oidc.eks.{HOME_REGION}.amazonaws.com/id/{EKS_OIDC_ID}"
EKS_CLUSTER = "prod-eks"
ONPREM_CLUSTER = "onprem-k8s"
GCP_DATA_PROJECT = "data-platform-prod"
GCP_HR_PROJECT = "hr-analytics-prod"
ATTACKER_IP = "203.0.113.77"
ANONYMOUS_IP = "203.0.113.150"


@dataclass(frozen=True, slots=True)
class Role:
    account: str
    name: str
    role_id: str  # AROA...
    path: str = "/"

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role{self.path}{self.name}"


@dataclass(frozen=True, slots=True)
class IamUser:
    account: str
    name: str
    user_id: str  # AIDA...
    access_key: str  # AKIA..., long-lived

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:user/{self.name}"


@dataclass(frozen=True, slots=True)
class Bucket:
    name: str
    account: str
    region: str
    keys: tuple[str, ...]
    personal: bool


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    account: str
    region: str
    key_name: str


@dataclass(frozen=True, slots=True)
class Person:
    key: str
    name: str
    email: str
    okta_id: str
    entra_oid: str
    ip: str
    user_agent: str
    aws: str = ""  # "saml" | "idc" | ""
    data_role: str = ""  # role (SAML) or permission set (Identity Center) used for data
    eu: bool = False  # uses the eu-west-1 STS endpoint for role hops
    source_identity: bool = False  # the Okta AWS app passes SourceIdentity for this person
    gcp: str = ""  # "" | "direct" | "chain"
    k8s: str = ""  # "" | "eks" | "onprem"
    idc_user_id: str = ""
    iam_user: IamUser | None = None
    hr_app: bool = False
    deploy_bot: bool = False  # borrows the shared deploy-bot key
    admin: bool = False

    @property
    def k8s_username(self) -> str:
        return f"oidc:{self.email}"


@dataclass(frozen=True, slots=True)
class CiJob:
    name: str
    repo: str
    role: Role
    owner: str
    buckets: tuple[str, ...]
    secret: str

    @property
    def subject(self) -> str:
        return f"repo:{GITHUB_ORG}/{self.repo}:ref:refs/heads/main"

    @property
    def alias(self) -> str:
        return f"{GITHUB_ISSUER}|{self.subject}"

    @property
    def provider_arn(self) -> str:
        return f"arn:aws:iam::{self.role.account}:oidc-provider/{GITHUB_ISSUER}"


@dataclass(frozen=True, slots=True)
class Pod:
    name: str  # workload name in the directory
    cluster: str
    namespace: str
    service_account: str
    pod_name: str
    pod_uid: str
    node_name: str
    node_uid: str
    sa_uid: str
    ip: str
    secrets: tuple[str, ...]
    owner: str
    irsa_role: Role | None
    buckets: tuple[str, ...]

    @property
    def username(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.service_account}"


@dataclass(frozen=True, slots=True)
class Instance:
    name: str
    instance_id: str
    account: str
    region: str
    role: Role
    ip: str
    owner: str
    buckets: tuple[str, ...]

    @property
    def arn(self) -> str:
        return f"arn:aws:ec2:{self.region}:{self.account}:instance/{self.instance_id}"


@dataclass(frozen=True, slots=True)
class GcpServiceAccount:
    email: str
    project: str
    unique_id: str
    key_id: str  # a user-managed (downloadable, long-lived) key, "" when none


@dataclass(frozen=True, slots=True)
class GcsBucket:
    name: str
    project: str
    location: str
    objects: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GcpWorkload:
    name: str
    sa: GcpServiceAccount
    owner: str
    ip: str
    user_agent: str
    buckets: tuple[str, ...]
    shared_key: bool  # the SA key file is passed around: nobody can say who used it


@dataclass(frozen=True, slots=True)
class EntraApp:
    name: str
    app_id: str
    sp_id: str
    owner: str
    ip: str


@dataclass(frozen=True, slots=True)
class ManagedIdentity:
    name: str
    client_id: str
    sp_id: str
    resource_group: str
    owner: str


@dataclass(frozen=True, slots=True)
class AzureResource:
    name: str
    resource_group: str
    provider: str  # e.g. Microsoft.Storage
    type_name: str  # e.g. storageAccounts


@dataclass(frozen=True, slots=True)
class Org:
    seed: int
    people: tuple[Person, ...]
    contractor: Person
    roles: dict[str, Role]
    deploy_bot: IamUser  # one key several people use: shared in the directory
    deploy_bot_owner: str  # who answers for it: the owner of the deploy pipeline
    legacy_sync: IamUser
    buckets: dict[str, Bucket]
    tables: dict[str, Table]
    ci_jobs: tuple[CiJob, ...]
    pods: tuple[Pod, ...]
    instances: tuple[Instance, ...]
    gcp_accounts: dict[str, GcpServiceAccount]
    gcs_buckets: dict[str, GcsBucket]
    gcp_workloads: tuple[GcpWorkload, ...]
    entra_tenant: str
    azure_subscription: str
    entra_apps: tuple[EntraApp, ...]
    managed_identities: tuple[ManagedIdentity, ...]
    azure_resources: tuple[AzureResource, ...]
    okta_apps: dict[str, str]  # app label -> Okta app instance id (0oa...)
    okta_saml_issuer: str
    idc_store_id: str
    idc_saml_provider: str
    idc_portal_issuer: str
    hr_app_uid: str
    employee_ids: tuple[int, ...]

    def person(self, key: str) -> Person:
        for p in (*self.people, self.contractor):
            if p.key == key:
                return p
        raise KeyError(key)

    def role(self, name: str) -> Role:
        return self.roles[name]

    @property
    def saml_provider_arn(self) -> str:
        return f"arn:aws:iam::{ACCOUNT_IDENTITY}:saml-provider/Okta"

    @property
    def idc_store_arn(self) -> str:
        return f"arn:aws:identitystore::{ACCOUNT_IDENTITY}:identitystore/{self.idc_store_id}"

    def azure_id(self, res: AzureResource) -> str:
        return (
            f"/subscriptions/{self.azure_subscription}/resourceGroups/{res.resource_group}"
            f"/providers/{res.provider}/{res.type_name}/{res.name}"
        )
