from __future__ import annotations

from django.db import models


class Overview(models.Model):
    """The home page's counts over every stored event, as last counted.

    Counting reads every event, which at millions of events takes seconds: the page shows
    the last count with its time, and a stale one is counted again in the background.
    One row, id 1.
    """

    counted_at = models.DateTimeField()
    seconds = models.FloatField(help_text="how long the count took")
    total = models.BigIntegerField()
    personal = models.BigIntegerField()
    statuses = models.JSONField(default=dict, help_text="events by attribution status")
    # Set while a recount is queued or running, so that a page seen by many does not queue
    # one recount per viewer.
    recount_since = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.total} events counted at {self.counted_at:%Y-%m-%d %H:%M:%S}"
