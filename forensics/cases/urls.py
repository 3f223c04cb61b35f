from django.urls import path

from forensics.cases import views

urlpatterns = [
    path("cases/", views.case_list, name="case_list"),
    path("cases/new/", views.case_add, name="case_add"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/events/", views.case_events, name="case_events"),
    path("cases/<int:pk>/events/add/", views.case_add_event, name="case_add_event"),
    path(
        "cases/<int:pk>/events/<int:event_pk>/remove/",
        views.case_remove_event,
        name="case_remove_event",
    ),
    path("cases/<int:pk>/identities/add/", views.case_add_identity, name="case_add_identity"),
    path("cases/<int:pk>/notes/", views.case_notes, name="case_notes"),
    path("cases/<int:pk>/members/", views.case_members, name="case_members"),
    path("cases/<int:pk>/status/", views.case_status, name="case_status"),
    path("cases/<int:pk>/work/", views.case_work, name="case_work"),
    path("cases/<int:pk>/export/", views.case_export, name="case_export"),
]
