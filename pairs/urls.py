from django.urls import path

from pairs import views

urlpatterns = [
    path("pairs/new/", views.pair_new, name="pair-new"),
    path("pairs/test-connection/", views.test_connection, name="pair-test-connection"),
    path("pairs/<id:pair_id>/edit/", views.pair_edit, name="pair-edit"),
    path("pairs/<id:pair_id>/delete/", views.pair_delete, name="pair-delete"),
    path("pairs/<id:pair_id>/pause/", views.pair_pause, name="pair-pause"),
    path("pairs/<id:pair_id>/resume/", views.pair_resume, name="pair-resume"),
    path("pairs/<id:pair_id>/setup/", views.pair_setup, name="pair-setup"),
    path("pairs/<id:pair_id>/setup.zip", views.pair_setup_zip, name="pair-setup-zip"),
    path("pairs/<id:pair_id>/verify/", views.pair_verify, name="pair-verify"),
    path("pairs/<id:pair_id>/store-password/", views.pair_store_password, name="pair-store-password"),
]
