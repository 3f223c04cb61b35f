"""Directory maintenance: import, export and merge of identities and their aliases."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.db import transaction

from forensics.engine.model import ALIAS_NAMESPACES
from forensics.identities.models import Identity, IdentityAlias
from forensics.ingest.models import Attribution

FIELDS = ["identity", "kind", "alias_namespace", "alias_value", "owner", "shared"]
TRUE = {"1", "true", "yes", "y", "shared"}


class DirectoryError(ValueError):
    """A directory file row that cannot be applied; names the row and field."""


@dataclass(frozen=True)
class Row:
    line: int
    identity: str
    kind: str
    namespace: str
    value: str
    owner: str
    shared: bool


def read_rows(path: Path) -> list[Row]:
    """Rows of a CSV (header: identity,kind,alias_namespace,alias_value,owner,shared) or JSON."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        raw = list(_json_rows(fh) if path.suffix.lower() in {".json", ".jsonl"} else _csv_rows(fh))
    return [_row(n, r) for n, r in raw]


def _csv_rows(fh: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(fh)
    missing = {"identity", "kind"} - set(reader.fieldnames or [])
    if missing:
        raise DirectoryError(f"header lacks column(s): {', '.join(sorted(missing))}")
    yield from enumerate(reader, start=2)


def _json_rows(fh: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    text = fh.read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = [json.loads(line) for line in text.splitlines() if line.strip()]
    if isinstance(data, dict):
        data = data.get("identities", [data])
    for n, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise DirectoryError(f"entry {n}: not an object")
        aliases = item.get("aliases")
        if isinstance(aliases, list):
            # {"identity": ..., "aliases": [{"namespace":..., "value":...}]} form
            for alias in aliases or [{}]:
                yield (
                    n,
                    {
                        **item,
                        "alias_namespace": alias.get("namespace", ""),
                        "alias_value": alias.get("value", ""),
                    },
                )
        else:
            yield n, item


def _row(n: int, r: dict[str, Any]) -> Row:
    name = str(r.get("identity") or "").strip()
    kind = str(r.get("kind") or "").strip().lower()
    ns = str(r.get("alias_namespace") or "").strip()
    value = str(r.get("alias_value") or "").strip()
    if not name:
        raise DirectoryError(f"row {n}: 'identity' is empty")
    if kind not in {Identity.HUMAN, Identity.WORKLOAD}:
        raise DirectoryError(f"row {n}: 'kind' must be human or workload, not '{kind}'")
    if ns and ns not in ALIAS_NAMESPACES:
        raise DirectoryError(f"row {n}: unknown alias_namespace '{ns}'")
    if bool(ns) != bool(value):
        raise DirectoryError(f"row {n}: alias_namespace and alias_value go together")
    if ns == "email":
        value = value.lower()
    shared = r.get("shared")
    return Row(
        n,
        name,
        kind,
        ns,
        value,
        str(r.get("owner") or "").strip(),
        shared is True or str(shared or "").strip().lower() in TRUE,
    )


@transaction.atomic
def import_rows(rows: Iterable[Row]) -> tuple[int, int, set[int]]:
    """Apply rows; returns (identities created, aliases added, identity ids touched).

    An identity is found by any of its aliases, else by its name; aliases that point at two
    different identities merge them (the directory says they are one actor).
    """
    by_name: dict[str, list[Row]] = {}
    claimed: dict[tuple[str, str], Row] = {}
    for row in rows:
        by_name.setdefault(row.identity, []).append(row)
        if not row.namespace:
            continue
        first = claimed.setdefault((row.namespace, row.value), row)
        if first.identity != row.identity:
            # One alias naming two actors would merge them; a shared account is one
            # identity with shared=true, not the same alias under several people.
            raise DirectoryError(
                f"row {row.line}: alias {row.namespace}:{row.value} is already given to "
                f"'{first.identity}' (row {first.line}); list a shared account once, "
                "as its own identity with shared=true"
            )
    created = added = 0
    touched: set[int] = set()
    resolved: dict[str, Identity] = {}
    for name, group in by_name.items():
        keys = [(r.namespace, r.value) for r in group if r.namespace]
        holders = {
            a.identity_id
            for a in IdentityAlias.objects.filter(namespace__in=[k[0] for k in keys])
            if (a.namespace, a.value) in set(keys)
        }
        identity = None
        if holders:
            identities = list(Identity.objects.filter(pk__in=holders).order_by("pk"))
            identity = identities[0]
            for other in identities[1:]:
                merge(identity, other)
        if identity is None:
            identity = Identity.objects.filter(name=name).order_by("pk").first()
        if identity is None:
            identity = Identity(name=name)
            created += 1
        identity.name = name
        identity.kind = group[0].kind
        identity.shared = any(r.shared for r in group)
        identity.origin = Identity.IMPORTED
        identity.save()
        for ns, value in keys:
            _, made = IdentityAlias.objects.get_or_create(
                namespace=ns, value=value, defaults={"identity": identity}
            )
            added += int(made)
        resolved[name] = identity
        touched.add(identity.pk)
    for name, group in by_name.items():
        owner_name = next((r.owner for r in group if r.owner), "")
        if owner_name:
            owner = resolved.get(owner_name) or Identity.objects.filter(name=owner_name).first()
            if owner is None:
                raise DirectoryError(
                    f"row {group[0].line}: owner '{owner_name}' is not in the directory"
                )
            Identity.objects.filter(pk=resolved[name].pk).update(owner=owner)
    return created, added, touched


def merge(keep: Identity, other: Identity) -> None:
    """Fold ``other`` into ``keep``: aliases, events and owned workloads move over."""
    from forensics.cases.models import CaseIdentity

    IdentityAlias.objects.filter(identity=other).update(identity=keep)
    Attribution.objects.filter(origin=other).update(origin=keep)
    Identity.objects.filter(owner=other).update(owner=keep)
    # Case links move too; a case that holds both keeps one link.
    held = set(CaseIdentity.objects.filter(identity=keep).values_list("case_id", flat=True))
    CaseIdentity.objects.filter(identity=other).exclude(case_id__in=held).update(identity=keep)
    keep.shared = keep.shared or other.shared
    other.delete()


def export_rows() -> Iterator[dict[str, str]]:
    for identity in (
        Identity.objects.select_related("owner").prefetch_related("aliases").order_by("name", "pk")
    ):
        aliases = list(identity.aliases.all()) or [None]
        for alias in aliases:
            yield {
                "identity": identity.name,
                "kind": identity.kind,
                "alias_namespace": alias.namespace if alias else "",
                "alias_value": alias.value if alias else "",
                "owner": identity.owner.name if identity.owner else "",
                "shared": "true" if identity.shared else "false",
            }
