from django.urls import path

from forensics.evidence import views

urlpatterns = [
    path("evidence/", views.pack_list, name="pack_list"),
    path("evidence/new/", views.pack_create, name="pack_create"),
    path("evidence/verify/", views.pack_verify, name="pack_verify"),
    path("evidence/<int:pk>/", views.pack_detail, name="pack_detail"),
    path("evidence/<int:pk>/download/", views.pack_download, name="pack_download"),
]
