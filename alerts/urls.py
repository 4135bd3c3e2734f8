from django.urls import path

from alerts import views

urlpatterns = [
    path("", views.notifications, name="alerts-notifications"),
    path("channels/", views.channels, name="alerts-channels"),
    path("channels/new/", views.channel_edit, name="alerts-channel-new"),
    path("channels/<id:channel_id>/", views.channel_edit, name="alerts-channel-edit"),
    path("channels/<id:channel_id>/delete/", views.channel_delete, name="alerts-channel-delete"),
    path("channels/<id:channel_id>/test/", views.channel_test, name="alerts-channel-test"),
    path("routes/", views.routes, name="alerts-routes"),
]
