from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("django-admin/", admin.site.urls),
    path("", include("status.urls")),
    path("", include("status.config.urls")),
    path("alerts/", include("status.alerts.urls")),
    path("emergency/", include("status.emergency.urls")),
]
