"""Who is in the organisation, what they run, and what the admin's directory says about them."""

from __future__ import annotations

import unicodedata

from forensics.estate.ids import Ids, stream
from forensics.estate.org import (
    ACCOUNT_DATA,
    ACCOUNT_IDENTITY,
    ACCOUNT_WORKLOADS,
    EKS_CLUSTER,
    EKS_ISSUER,
    EMAIL_DOMAIN,
    GCP_DATA_PROJECT,
    GCP_HR_PROJECT,
    HOME_REGION,
    LATE_REGION,
    ONPREM_CLUSTER,
    AzureResource,
    Bucket,
    CiJob,
    EntraApp,
    GcpServiceAccount,
    GcpWorkload,
    GcsBucket,
    IamUser,
    Instance,
    ManagedIdentity,
    Org,
    Person,
    Pod,
    Role,
    Table,
)

# key | name | how they reach AWS | data role or permission set | what else is true of them
_ROSTER = """
alice  | Alice Nguyen   | saml | PayrollAnalyst     | source-identity gcp-chain eks admin
bruno  | Bruno Costa    | saml | CustomerDataReader | eu deploy-bot
chloe  | Chloé Martin   | saml | CustomerDataReader | eu source-identity
dmitri | Dmitri Volkov  | saml | ClinicalDataReader | eks deploy-bot
emeka  | Emeka Obi      | saml | CustomerDataReader | source-identity gcp-direct
fatima | Fatima Haddad  | idc  | DataScientist      | gcp-direct
grace  | Grace Park     | idc  | DataScientist      | hr-app
hiro   | Hiro Tanaka    | idc  | ReadOnlyAccess     | onprem admin
ines   | Inês Duarte    | saml | PayrollAnalyst     | eu hr-app
jonas  | Jonas Berg     | saml | ClinicalDataReader | eks deploy-bot admin
kavya  | Kavya Reddy    | saml | CustomerDataReader | source-identity gcp-chain own-key
liam   | Liam O'Connor  | saml | PayrollAnalyst     | hr-app
maya   | Maya Cohen     | idc  | DataScientist      | gcp-chain
noah   | Noah Williams  | saml | CustomerDataReader | gcp-chain
olivia | Olivia Brown   |      |                    | hr-app
pedro  | Pedro Álvarez  |      |                    | gcp-direct hr-app
quinn  | Quinn Taylor   | saml | ClinicalDataReader | onprem admin
sofia  | Sofia Rossi    |      |                    | hr-app
tomasz | Tomasz Nowak   | saml | PayrollAnalyst     | gcp-direct own-key
"""
_FLAGS = frozenset(
    {"eu", "source-identity", "gcp-direct", "gcp-chain", "eks", "onprem", "own-key", "hr-app"}
    | {"deploy-bot", "admin"}
)

_USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/129.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/129.0.0.0 Safari/537.36 Edg/129.0.0.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.6 Safari/605.1.15",
)

PAYROLL_KEYS = (
    "2026/09/payroll-2026-09.csv",
    "2026/09/payslips/batch-0917.zip",
    "employees/salaries.parquet",
    "bonus/2026-q3-bonus.xlsx",
    "tax/w2-2025-export.csv",
)
CUSTOMER_KEYS = (
    "exports/customers-2026-10-04.csv.gz",
    "profiles/part-00001.parquet",
    "profiles/part-00002.parquet",
    "support/tickets-with-contacts-2026-09.jsonl",
)
PATIENT_KEYS = (
    "records/2026/10/patient-48213.json",
    "records/2026/10/patient-51977.json",
    "records/2026/09/patient-30318.json",
    "imaging/index-2026-09.csv",
)
EU_CUSTOMER_KEYS = ("exports/eu-customers-2026-10-04.csv.gz", "gdpr/erasure-requests-2026-09.csv")
ARTIFACT_KEYS = ("payroll-service/release-1.42.0.tar.gz", "payroll-service/release-1.42.1.tar.gz")

# name (also its service account and app) | cluster | namespace | secrets |
# owner | IRSA role | buckets it reads
_PODS: tuple[tuple[str, str, str, tuple[str, ...], str, str, tuple[str, ...]], ...] = (
    ("payments-api", EKS_CLUSTER, "payments", ("payments-db", "stripe-webhook"), "jonas", "", ()),
    ("recommender-api", EKS_CLUSTER, "recommender", ("feature-store",), "alice",
     "recommender-irsa", ("customer-pii",)),
    ("payroll-worker", ONPREM_CLUSTER, "hr", ("hr-payroll-db", "sftp-bank"), "quinn", "", ()),
    ("patient-sync", ONPREM_CLUSTER, "clinical", ("ehr-api-token",), "hiro", "", ()),
)  # fmt: skip


def _email(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    first, last = plain.lower().replace("'", "").split(" ", 1)
    return f"{first}.{last.replace(' ', '')}@{EMAIL_DOMAIN}"


def _roles(ids: Ids) -> dict[str, Role]:
    roles: dict[str, Role] = {}
    for account, names in (
        (ACCOUNT_IDENTITY, ("OktaLanding",)),
        (
            ACCOUNT_DATA,
            (
                "PayrollAnalyst",
                "CustomerDataReader",
                "ClinicalDataReader",
                "OpsDataAccess",  # trusts the whole workloads account: the incident's second hop
                "PartnerIntegration",
                "payroll-batch-ec2",
                "customer-export-ci",
                "recommender-irsa",
            ),
        ),
        (
            ACCOUNT_WORKLOADS,
            ("EKSClusterViewer", "EKSClusterAdmin", "VendorSupport", "payroll-service-deploy"),
        ),
    ):
        for name in names:
            roles[name] = Role(account, name, ids.aws_unique_id("AROA"))
    # Identity Center provisions one reserved role per permission set, under its own path.
    for pset in ("DataScientist", "ReadOnlyAccess"):
        name = f"AWSReservedSSO_{pset}_{ids.hex(16)}"
        roles[pset] = Role(
            ACCOUNT_DATA, name, ids.aws_unique_id("AROA"), "/aws-reserved/sso.amazonaws.com/"
        )
    return roles


def _people(ids: Ids) -> list[Person]:
    people = []
    for n, line in enumerate(x for x in _ROSTER.strip().splitlines()):
        key, name, aws, role, flag_text = (cell.strip() for cell in line.split("|"))
        flags = set(flag_text.split())
        if flags - _FLAGS:
            raise ValueError(f"unknown roster flags {sorted(flags - _FLAGS)} for {key}")
        email = _email(name)
        own_key = None
        if "own-key" in flags:
            own_key = IamUser(
                ACCOUNT_DATA, email.split("@")[0], ids.aws_unique_id("AIDA"), ids.aws_key("AKIA")
            )
        # A few people work from IPv6 networks: real logs mix both families.
        ip = f"2001:db8:{n + 10:x}::{n + 1:x}" if n % 7 == 3 else f"198.51.100.{10 + n * 3}"
        people.append(
            Person(
                key=key,
                name=name,
                email=email,
                okta_id=ids.okta_id("00u"),
                entra_oid=ids.uuid(),
                ip=ip,
                user_agent=_USER_AGENTS[n % len(_USER_AGENTS)],
                aws=aws,
                data_role=role,
                eu="eu" in flags,
                source_identity="source-identity" in flags,
                gcp="chain" if "gcp-chain" in flags else "direct" if "gcp-direct" in flags else "",
                k8s="eks" if "eks" in flags else "onprem" if "onprem" in flags else "",
                idc_user_id=f"{ids.hex(10)}-{ids.uuid()}" if aws == "idc" else "",
                iam_user=own_key,
                hr_app="hr-app" in flags,
                deploy_bot="deploy-bot" in flags,
                admin="admin" in flags,
            )
        )
    return people


def build_org(seed: int) -> Org:
    """The organisation for a seed: fixed names, seeded identifiers and addresses."""
    ids = Ids(stream(seed, "org"))
    roles = _roles(ids)
    people = _people(ids)
    owner = {p.key: p.name for p in people}
    contractor = Person(
        key="rafael",
        name="Rafael Silva",
        email="r.silva@example.net",
        okta_id="",
        entra_oid="",
        ip="198.51.100.201",
        user_agent=_USER_AGENTS[2],
        iam_user=IamUser(
            ACCOUNT_IDENTITY, "contractor-rsilva", ids.aws_unique_id("AIDA"), ids.aws_key("AKIA")
        ),
    )

    def iam_user(account: str, name: str) -> IamUser:
        return IamUser(account, name, ids.aws_unique_id("AIDA"), ids.aws_key("AKIA"))

    def secret(account: str, name: str) -> str:
        return f"arn:aws:secretsmanager:{HOME_REGION}:{account}:secret:{name}-{ids.alnum(6)}"

    pods = tuple(
        Pod(
            name=name,
            cluster=cluster,
            namespace=ns,
            service_account=name,
            pod_name=f"{name}-{ids.pod_suffix()}",
            pod_uid=ids.uuid(),
            node_name=(
                f"ip-192-0-2-{20 + n}.ec2.internal"
                if cluster == EKS_CLUSTER
                else f"k8s-node-{n + 1:02d}.corp.example"
            ),
            node_uid=ids.uuid(),
            sa_uid=ids.uuid(),
            ip=f"192.0.2.{130 + n}",
            secrets=secrets,
            owner=owner[who],
            irsa_role=roles[irsa] if irsa else None,
            buckets=reads,
        )
        for n, (name, cluster, ns, secrets, who, irsa, reads) in enumerate(_PODS, start=1)
    )

    def gsa(name: str, project: str, with_key: bool = False) -> GcpServiceAccount:
        key_id = ids.hex(40) if with_key else ""
        return GcpServiceAccount(
            f"{name}@{project}.iam.gserviceaccount.com", project, ids.digits(21), key_id
        )

    gcp_accounts = {
        "etl-runner": gsa("etl-runner", GCP_DATA_PROJECT),
        "pii-reader": gsa("pii-reader", GCP_HR_PROJECT),
        "exporter": gsa("exporter", GCP_HR_PROJECT),
        "legacy-etl": gsa("legacy-etl", GCP_HR_PROJECT, with_key=True),
    }
    buckets = (
        Bucket("hr-payroll", ACCOUNT_DATA, HOME_REGION, PAYROLL_KEYS, True),
        Bucket("customer-pii", ACCOUNT_DATA, HOME_REGION, CUSTOMER_KEYS, True),
        Bucket("patient-records", ACCOUNT_DATA, HOME_REGION, PATIENT_KEYS, True),
        Bucket("customer-pii-eu", ACCOUNT_DATA, LATE_REGION, EU_CUSTOMER_KEYS, True),
        # Shared with a partner through a public-read object: anyone can fetch it.
        Bucket(
            "customer-pii-share",
            ACCOUNT_DATA,
            HOME_REGION,
            ("partner-drop/customers-full-2026-10.csv",),
            True,
        ),
        Bucket("build-artifacts-example", ACCOUNT_WORKLOADS, HOME_REGION, ARTIFACT_KEYS, False),
    )
    gcs_buckets = (
        GcsBucket(
            "customer-pii-eu-exports",
            GCP_HR_PROJECT,
            "europe-west1",
            ("exports/2026-10-04/customers-000.csv", "exports/2026-10-04/customers-001.csv"),
        ),
        GcsBucket(
            "patient-records-archive",
            GCP_HR_PROJECT,
            "us-central1",
            ("archive/2025/patients-2025-12.avro", "archive/2026/patients-2026-09.avro"),
        ),
        GcsBucket(
            "hr-payroll-snapshots",
            GCP_HR_PROJECT,
            "us-central1",
            ("snapshots/payroll-2026-09-30.parquet",),
        ),
    )
    return Org(
        seed=seed,
        people=tuple(people),
        contractor=contractor,
        roles=roles,
        deploy_bot=iam_user(ACCOUNT_WORKLOADS, "deploy-bot"),
        deploy_bot_owner=owner["jonas"],
        legacy_sync=iam_user(ACCOUNT_DATA, "legacy-sync"),
        buckets={b.name: b for b in buckets},
        tables={
            "customer-profiles": Table(
                "customer-profiles", ACCOUNT_DATA, HOME_REGION, "customer_id"
            ),
            "patient-index": Table("patient-index", ACCOUNT_DATA, HOME_REGION, "patient_id"),
        },
        ci_jobs=(
            CiJob(
                "ci-customer-export",
                "customer-export",
                roles["customer-export-ci"],
                owner["noah"],
                ("customer-pii",),
                secret(ACCOUNT_DATA, "ci/export-db"),
            ),
            CiJob(
                "ci-payroll-service-deploy",
                "payroll-service",
                roles["payroll-service-deploy"],
                owner["jonas"],
                ("build-artifacts-example",),
                secret(ACCOUNT_WORKLOADS, "ci/deploy"),
            ),
        ),
        pods=pods,
        instances=tuple(
            Instance(
                f"payroll-batch-{i + 1}",
                ids.instance_id(),
                ACCOUNT_DATA,
                HOME_REGION,
                roles["payroll-batch-ec2"],
                f"198.51.100.{220 + i}",
                owner["tomasz"],
                ("hr-payroll",),
            )
            for i in range(2)
        ),
        gcp_accounts=gcp_accounts,
        gcs_buckets={b.name: b for b in gcs_buckets},
        gcp_workloads=(
            # Calls from inside Google's network show "private" as the caller address.
            GcpWorkload(
                "gcp-exporter",
                gcp_accounts["exporter"],
                owner["emeka"],
                "private",
                "gcloud-golang-storage/1.43.0",
                ("customer-pii-eu-exports",),
                False,
            ),
            GcpWorkload(
                "gcp-legacy-etl",
                gcp_accounts["legacy-etl"],
                owner["pedro"],
                "192.0.2.61",
                "gcloud-python/3.4.1 google-cloud-storage/1.44.0",
                ("patient-records-archive", "hr-payroll-snapshots"),
                True,
            ),
        ),
        entra_tenant=ids.uuid(),
        azure_subscription=ids.uuid(),
        entra_apps=(
            EntraApp("payroll-sync", ids.uuid(), ids.uuid(), owner["liam"], "198.51.100.230"),
        ),
        managed_identities=(
            ManagedIdentity("vm-hr-batch", ids.uuid(), ids.uuid(), "rg-hr", owner["ines"]),
        ),
        azure_resources=(
            AzureResource("hrpayrollexports", "rg-hr", "Microsoft.Storage", "storageAccounts"),
            AzureResource(
                "patientrecordsprod", "rg-clinical", "Microsoft.Storage", "storageAccounts"
            ),
        ),
        okta_apps={
            app: ids.okta_id("0oa")
            for app in ("AWS Account Federation", "PeopleCloud HR", "Google Workspace", "Slack")
        },
        okta_saml_issuer="http://www.okta.com/exk" + ids.alnum(17),
        idc_store_id="d-" + ids.digits(10),
        idc_saml_provider=f"AWSSSO_{ids.hex(16)}_DO_NOT_DELETE",
        idc_portal_issuer=(
            f"https://portal.sso.{HOME_REGION}.amazonaws.com/saml/assertion/" + ids.alnum(48)
        ),
        hr_app_uid=ids.uuid(),
        employee_ids=tuple(sorted(ids.rng.sample(range(1000, 9999), 40))),
    )


DIRECTORY_HEADER = ("identity", "kind", "alias_namespace", "alias_value", "owner", "shared")


def directory_rows(org: Org) -> list[tuple[str, str, str, str, str, str]]:
    """What the admin knows: people with their aliases, workloads with owners, shared keys."""
    rows: list[tuple[str, str, str, str, str, str]] = []

    def add(
        identity: str, kind: str, ns: str, value: str, owner: str = "", shared: bool = False
    ) -> None:
        rows.append((identity, kind, ns, value, owner, "true" if shared else "false"))

    for p in org.people:
        add(p.name, "human", "email", p.email)
        add(p.name, "human", "okta_user", p.okta_id)
        add(p.name, "human", "entra_user", p.entra_oid)
        if p.idc_user_id:
            add(p.name, "human", "idc_user", p.idc_user_id)
        if p.iam_user:
            add(p.name, "human", "aws_iam_user", p.iam_user.arn)
        if p.k8s == "onprem":
            add(p.name, "human", "k8s_user", p.k8s_username)
    c = org.contractor
    add(c.name, "human", "email", c.email)
    if c.iam_user:
        add(c.name, "human", "aws_iam_user", c.iam_user.arn)
    # The deploy-bot key is listed once, as its own identity: the people who borrow it keep only
    # their own aliases, so its activity proves no single person. It is a workload because it
    # was made for deployments, not for anyone; the owner of the deploy pipeline answers for it.
    add(
        org.deploy_bot.name,
        "workload",
        "aws_iam_user",
        org.deploy_bot.arn,
        org.deploy_bot_owner,
        shared=True,
    )
    for job in org.ci_jobs:
        add(job.name, "workload", "web_identity", job.alias, job.owner)
    for pod in org.pods:
        add(pod.name, "workload", "k8s_service_account", pod.username, pod.owner)
        if pod.irsa_role:
            add(pod.name, "workload", "web_identity", f"{EKS_ISSUER}|{pod.username}", pod.owner)
    for inst in org.instances:
        add(inst.name, "workload", "aws_workload", inst.arn, inst.owner)
    # A service account whose key file circulates is one shared identity, owned by its team.
    for w in org.gcp_workloads:
        add(w.name, "workload", "gcp_service_account", w.sa.email, w.owner, shared=w.shared_key)
    for app in org.entra_apps:
        add(app.name, "workload", "entra_app", app.app_id, app.owner)
    for mi in org.managed_identities:
        add(mi.name, "workload", "azure_managed_identity", mi.sp_id, mi.owner)
    return rows
