from django.apps import AppConfig


class IdentitiesConfig(AppConfig):
    name = "forensics.identities"
    label = "identities"
