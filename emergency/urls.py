from django.urls import path

from emergency import compare_views, views

app_name = "emergency"
urlpatterns = [
    path("", views.index, name="index"),
    path("<id:pair_id>/", views.accounts, name="accounts"),
    path("<id:pair_id>/login/", views.login, name="login"),
    path("<id:pair_id>/reveal/<id:account_id>/", views.reveal, name="reveal"),
    path("<id:pair_id>/logout/", views.logout, name="logout"),
    path("<id:pair_id>/drill/", views.drill, name="drill"),
    path("<id:pair_id>/check-accounts/", views.check_accounts, name="check-accounts"),
    path("<id:pair_id>/compare-vault/", compare_views.compare, name="compare-vault"),
]
