"""The identities attributions name: the directory as the engine reads it, the origins of a
correlation's results turned into directory ids (made from their roots when new), and the
identities the logs made under different names joined once a record ties them together."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from forensics.engine.correlation import Alias, Directory, DirectoryIdentity
from forensics.engine.correlation import Attribution as EngineAttribution
from forensics.identities import directory, locks
from forensics.identities.models import Identity, IdentityAlias

AliasKey = tuple[str, str]  # (namespace, value) as stored
# An origin whose aliases several identities hold: (those aliases, the identities).
Join = tuple[tuple[AliasKey, ...], frozenset[int]]


def load_directory() -> Directory:
    aliases: dict[int, list[Alias]] = {}
    for ident_id, ns, value in IdentityAlias.objects.values_list(
        "identity_id", "namespace", "value"
    ):
        aliases.setdefault(ident_id, []).append(Alias(ns, value))
    owners = dict(Identity.objects.filter(owner__isnull=False).values_list("id", "owner__name"))
    return Directory(
        [
            DirectoryIdentity(
                id=str(pk),
                kind=kind,
                name=name,
                shared=shared,
                owner=owners.get(pk, ""),
                aliases=tuple(aliases.get(pk, ())),
            )
            for pk, kind, name, shared in Identity.objects.values_list(
                "id", "kind", "name", "shared"
            )
        ]
    )


class OriginIdentities:
    """The directory ids of one write-back's origins, and what the write-back learned about
    the identities: aliases and names to give them (``store``), identities made, and origins
    several identities hold the aliases of (``joins``, for ``join_identities``)."""

    def __init__(self) -> None:
        self.created = 0
        self.joins: list[Join] = []
        self._cache: dict[AliasKey, int] = {}
        self._named: set[tuple[int, str, str]] = set()
        self._renamed: dict[int, tuple[str, str]] = {}

    def identity(self, attribution: EngineAttribution) -> int | None:
        """The directory id of an attribution's origin, creating it from its root if new.

        An origin found in the directory by one of its aliases may name it by others too (a
        sign-in gives the user's object id and sign-in name, a Graph request only the id):
        those are given to it by ``store``, so that whichever log arrived first the identity
        ends up known by all of them. An identity the logs named by an id, which they now
        name by a sign-in name, is renamed (id name -> sign-in name).
        """
        origin = attribution.origin
        if origin is None:
            return None
        keys = [(a.namespace, a.value[:500]) for a in origin.aliases]
        # Identities this run made or found for any of these aliases: a log read in this
        # run may have made one for an alias after the directory was read.
        cached = {self._cache[k] for k in keys if k in self._cache}
        if origin.identity_id:
            existing = int(origin.identity_id)
            self._join(keys, cached | {existing})
            self._named.update((existing, a.namespace, a.value[:500]) for a in origin.new_aliases)
            if "@" in origin.logged_name and "@" not in origin.name:
                self._renamed[existing] = (origin.name, origin.logged_name[:300])
            return existing
        # An origin without aliases (a name the logs give but no namespace fits) is known by
        # kind and name alone, so it is not created again for every event.
        cache_keys = keys or [("", f"{origin.kind}:{origin.name}")]
        found_ids = cached or {self._cache[k] for k in cache_keys if k in self._cache}
        if not found_ids:
            found_ids = holders(origin.kind, origin.name, keys)
        if found_ids:
            found = min(found_ids)
            self._join(keys, found_ids)
        else:
            found = _create_identity(origin.kind, origin.name, keys)
            self.created += 1
        if len(keys) > 1:
            self._named.update((found, ns, v) for ns, v in keys)
        for key in cache_keys:
            self._cache.setdefault(key, found)
        return found

    def ambiguous(self, attribution: EngineAttribution) -> None:
        """An origin the engine found several identities for, each holding some of its
        aliases (its candidates then share one alias set), is noted as a join."""
        candidates = attribution.candidates
        alias_sets = {c.aliases for c in candidates}
        if len(candidates) > 1 and len(alias_sets) == 1 and all(c.identity_id for c in candidates):
            keys = [(a.namespace, a.value[:500]) for a in candidates[0].aliases]
            self._join(keys, {int(c.identity_id or 0) for c in candidates})

    def store(self) -> None:
        """Give the identities the aliases and names the origins gave them."""
        _name_all(self._named)
        _rename_all(self._renamed)

    def _join(self, keys: list[AliasKey], identities: set[int]) -> None:
        if len(identities) > 1 and keys:
            self.joins.append((tuple(sorted(keys)), frozenset(identities)))


def _rename_all(renamed: dict[int, tuple[str, str]]) -> None:
    """Give identities the logs named by an id (an object id, a GUID) the sign-in name the
    logs give them now, as if that log had come first. Only names the logs gave are changed:
    an imported or admin-given name stays, and so does one that changed meanwhile."""
    if not renamed:
        return
    # Mostly the names are the directory's own (an import gave them): one read finds the
    # few the logs gave, so only those cost an update.
    logged = Identity.objects.filter(pk__in=list(renamed), origin=Identity.AUTO)
    for identity, name in sorted(logged.values_list("pk", "name")):
        old, new = renamed[identity]
        if name == old:
            Identity.objects.filter(pk=identity, origin=Identity.AUTO, name=old).update(name=new)


def _name_all(named: set[tuple[int, str, str]]) -> None:
    """Give identities the aliases their origins named them by, in one statement. An alias
    another identity holds stays with it: aliases are unique (see ``join_identities``)."""
    if named:
        IdentityAlias.objects.bulk_create(
            # In alias order, as the unique index is, so concurrent inserts wait in one order.
            [
                IdentityAlias(identity_id=i, namespace=ns, value=v)
                for i, ns, v in sorted(named, key=lambda n: (n[1], n[2], n[0]))
            ],
            ignore_conflicts=True,
        )


def holders(kind: str, name: str, keys: Sequence[AliasKey]) -> set[int]:
    """The identities holding any of these aliases (with none: the alias-less identity of
    this kind and name)."""
    if not keys:
        return set(
            Identity.objects.filter(kind=kind, name=name[:300], aliases__isnull=True).values_list(
                "pk", flat=True
            )[:1]
        )
    match = Q(*[Q(namespace=ns, value=v) for ns, v in keys], _connector=Q.OR)
    return set(IdentityAlias.objects.filter(match).values_list("identity_id", flat=True))


def _create_identity(kind: str, name: str, keys: list[AliasKey]) -> int:
    """Create an identity with its aliases; if another worker created one with the same
    alias meanwhile, keep theirs (the alias is unique, so one identity wins)."""
    with transaction.atomic():
        identity = Identity.objects.create(kind=kind, name=name[:300], origin=Identity.AUTO)
        IdentityAlias.objects.bulk_create(
            [IdentityAlias(identity=identity, namespace=ns, value=v) for ns, v in keys],
            ignore_conflicts=True,
        )
        if keys:
            found = holders(kind, name, keys[:1])
            holder = min(found) if found else None
            if holder is not None and holder != identity.pk:
                identity.delete()
                return holder
    return identity.pk


def join_identities(joins: Sequence[Join]) -> set[int]:
    """Fold the identities the logs made (AUTO) into the one a record's aliases name, when
    a record asserts every alias such an identity holds together with that one's: the same
    human or workload, named by two logs before a third tied the names together. Without
    this, which identity an event gets, or whether it is ambiguous, would depend on the
    order the logs came in. An identity the directory was given (imported, edited, shared),
    one holding an alias the record does not assert, or identities of two kinds are never
    joined: the events they share stay ambiguous, as the directory's decision.

    Done once a correlation's chunks are stored, under every chain's lock (no correlation
    is then reading or writing an identity), and the ids kept are returned."""
    kept: set[int] = set()
    with transaction.atomic():
        if locks.keyed():
            locks.lock(locks.EVENT_LOCKS, range(settings.CORRELATION_LOCK_BUCKETS))
        for keys, _ids in sorted(set(joins)):
            asserted = set(keys)
            holding = holders("", "", keys)
            if len(holding) < 2:
                continue  # joined meanwhile
            identities = list(Identity.objects.filter(pk__in=holding).order_by("pk"))
            held: dict[int, set[AliasKey]] = {pk: set() for pk in holding}
            for pk, ns, value in IdentityAlias.objects.filter(identity_id__in=holding).values_list(
                "identity_id", "namespace", "value"
            ):
                held[pk].add((ns, value))
            foldable = [
                i
                for i in identities
                if i.origin == Identity.AUTO and not i.shared and held[i.pk] <= asserted
            ]
            others = [i for i in identities if i not in foldable]
            if len(others) > 1 or len({i.kind for i in identities}) > 1:
                continue
            keep = others[0] if others else foldable[0]
            for other in foldable:
                if other.pk != keep.pk:
                    directory.merge(keep, other)
            kept.add(keep.pk)
    return kept
