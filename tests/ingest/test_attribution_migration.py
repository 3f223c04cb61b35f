"""Upgrading a store moves the attributions it holds out of the event rows, unchanged."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from forensics.ingest import partitions

BEFORE = [("ingest", "0007_batch_time_index"), ("identities", "0001_initial")]
AFTER = [("ingest", "0008_attribution_table")]
WHEN = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_stored_attributions_move_to_their_table_and_uncorrelated_events_stay_pending():
    old = migrate(BEFORE)
    try:
        partitions.forget()
        partitions.ensure_for_times([WHEN])
        identity = old.get_model("identities", "Identity").objects.create(
            kind="human", name="alice@corp.example"
        )
        source = old.get_model("ingest", "Source").objects.create(name="trail")
        batch = old.get_model("ingest", "IngestBatch").objects.create(
            source=source, via="cli", filename="t.json", sha256="0" * 64, size=1
        )
        event = old.get_model("ingest", "Event")
        common = {
            "source": source,
            "batch": batch,
            "source_kind": "cloudtrail",
            "event_time": WHEN,
            "category": "data_access",
            "action": "s3.amazonaws.com:GetObject",
            "outcome": "success",
            "actor_kind": "role_session",
            "raw": "{}",
            "raw_sha256": "0" * 64,
        }
        hops = [{"principal": "arn:aws:iam::1:role/R", "method": "assume-role"}]
        done = event.objects.create(
            dedupe_key="a",
            status="attributed",
            origin=identity,
            hops=hops,
            evidence="exact",
            chain_label="alice → assume-role → R",
            explanation="why",
            correlated_at=WHEN,
            **common,
        )
        event.objects.create(dedupe_key="b", **common)  # never correlated

        new = migrate(AFTER)
        rows = list(
            new.get_model("ingest", "Attribution").objects.values(
                "event_id",
                "event_time",
                "status",
                "origin_id",
                "hops",
                "evidence",
                "chain_label",
                "explanation",
                "correlated_at",
            )
        )
        assert rows == [
            {
                "event_id": done.pk,
                "event_time": WHEN,
                "status": "attributed",
                "origin_id": identity.pk,
                "hops": hops,
                "evidence": "exact",
                "chain_label": "alice → assume-role → R",
                "explanation": "why",
                "correlated_at": WHEN,
            }
        ]
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
        partitions.forget()
