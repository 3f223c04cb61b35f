from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("forensics.core.urls")),
    path("", include("forensics.ingest.urls")),
    path("", include("forensics.investigate.urls")),
    path("", include("forensics.cases.urls")),
    path("", include("forensics.audit.urls")),
    path("", include("forensics.evidence.urls")),
]
