from django.urls import path

from .views import pages

urlpatterns = [
    path("", pages.index, name="index"),
    path("pairs/<int:pair_id>/", pages.pair_detail, name="pair"),
    path("healthz", pages.healthz, name="healthz"),
]
