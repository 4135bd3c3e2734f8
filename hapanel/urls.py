from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from hapanel import url_converters  # noqa: F401 (registers <id:...>, which every app's urls.py uses)

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("django-admin/", admin.site.urls),
    path("", include("board.urls")),
    path("", include("pairs.urls")),
    path("", include("pairs.repair.urls")),
    path("alerts/", include("alerts.urls")),
    path("emergency/", include("emergency.urls")),
]
