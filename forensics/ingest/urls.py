from django.contrib.auth.decorators import login_not_required
from django.urls import path

from forensics.ingest import api, views

urlpatterns = [
    path("ingest/", views.batch_list, name="batch_list"),
    path("ingest/batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("ingest/batches/<int:pk>/retry/", views.batch_retry, name="batch_retry"),
    path("ingest/quarantine/", views.quarantine_list, name="quarantine_list"),
    path("ingest/trail/", views.trail_validate, name="trail_validate"),
    # Machine endpoints authenticate with a source's bearer token, not a session.
    path("api/v1/ingest", login_not_required(api.ingest), name="api_ingest"),
    path("api/v1/batches/<int:pk>", login_not_required(api.batch_status), name="api_batch_status"),
]
