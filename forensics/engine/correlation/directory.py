"""The identity directory as plain data: known humans and workloads and their aliases."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from forensics.engine.correlation.attribution import Alias


def normalize_alias(alias: Alias) -> Alias:
    """The form aliases are compared in: trimmed, emails lower-cased."""
    value = alias.value.strip()
    if alias.namespace == "email":
        value = value.lower()
    if value == alias.value and alias.namespace == alias.namespace.strip():
        return alias
    return Alias(alias.namespace.strip(), value)


@dataclass(frozen=True, slots=True)
class DirectoryIdentity:
    """A human or workload the organization knows, with its names in every system."""

    id: str
    kind: str  # human | workload
    name: str
    shared: bool = False  # several people or workloads use it: it proves no one
    owner: str = ""  # for workloads: who answers for it
    aliases: tuple[Alias, ...] = ()


class Directory:
    """Alias lookups over the known identities; an empty directory is valid."""

    def __init__(self, identities: Iterable[DirectoryIdentity] = ()) -> None:
        self._by_id: dict[str, DirectoryIdentity] = {}
        self._by_alias: dict[Alias, list[DirectoryIdentity]] = {}
        self._by_value: dict[str, list[DirectoryIdentity]] = {}
        for identity in identities:
            self._by_id[identity.id] = identity
            for alias in identity.aliases:
                norm = normalize_alias(alias)
                _append(self._by_alias.setdefault(norm, []), identity)
                _append(self._by_value.setdefault(norm.value.lower(), []), identity)

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, identity_id: str) -> DirectoryIdentity | None:
        """The identity with this id, if any."""
        return self._by_id.get(identity_id)

    def find(self, alias: Alias) -> DirectoryIdentity | None:
        """The one identity holding this alias; None when none does, or several do."""
        found = self._by_alias.get(normalize_alias(alias), ())
        return found[0] if len(found) == 1 else None

    def find_all(self, alias: Alias) -> tuple[DirectoryIdentity, ...]:
        """Every identity holding this alias, by id."""
        return tuple(self._by_alias.get(normalize_alias(alias), ()))

    def match(self, aliases: Iterable[Alias]) -> tuple[DirectoryIdentity, ...]:
        """The distinct identities holding any of these aliases, by id."""
        found: dict[str, DirectoryIdentity] = {}
        for alias in aliases:
            for identity in self._by_alias.get(normalize_alias(alias), ()):
                found[identity.id] = identity
        return tuple(found[k] for k in sorted(found))

    def find_value(self, value: str) -> tuple[DirectoryIdentity, ...]:
        """Identities with an alias of this value in any namespace (case-insensitive)."""
        return tuple(self._by_value.get(value.strip().lower(), ()))


def _append(bucket: list[DirectoryIdentity], identity: DirectoryIdentity) -> None:
    # Kept sorted by id so lookups never depend on the order identities were listed in.
    if all(existing.id != identity.id for existing in bucket):
        bucket.append(identity)
        bucket.sort(key=lambda i: i.id)
