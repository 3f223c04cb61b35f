from django.urls import path

from forensics.core import views

urlpatterns = [
    path("", views.home, name="home"),
]
