from django.urls import path

from forensics.audit import views

urlpatterns = [
    path("audit/", views.accesslog_list, name="accesslog_list"),
]
