from django.urls import path

from emergency import views

app_name = "emergency"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pair_id>/", views.accounts, name="accounts"),
    path("<int:pair_id>/login/", views.login, name="login"),
    path("<int:pair_id>/reveal/<int:account_id>/", views.reveal, name="reveal"),
    path("<int:pair_id>/logout/", views.logout, name="logout"),
    path("<int:pair_id>/drill/", views.drill, name="drill"),
]
