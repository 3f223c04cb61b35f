from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "forensics.ingest"
    label = "ingest"
