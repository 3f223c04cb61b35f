from django.urls import path

from forensics.investigate import views

urlpatterns = [
    path("events/", views.event_list, name="event_list"),
    path("events/<int:pk>/", views.event_detail, name="event_detail"),
    path("events/<int:pk>/trace/", views.event_trace, name="event_trace"),
    path("identities/", views.identity_list, name="identity_list"),
    path("identities/<int:pk>/", views.identity_detail, name="identity_detail"),
    path("resources/", views.resource_list, name="resource_list"),
    path("resources/detail/", views.resource_detail, name="resource_detail"),
    path("search/", views.search, name="search"),
    path("queue/", views.queue, name="queue"),
]
