from django.urls import path

from pairs.repair import skip_views, switchover_views, views

urlpatterns = [
    path("pairs/<id:pair_id>/rebuild/", views.rebuild_start, name="rebuild"),
    path("pairs/<id:pair_id>/repairs/<id:repair_id>/", views.repair_page, name="repair"),
    path("pairs/<id:pair_id>/repairs/<id:repair_id>/check/<slug:step>/", views.repair_check, name="repair-check"),
    path("pairs/<id:pair_id>/repairs/<id:repair_id>/confirm/<slug:step>/", views.repair_confirm,
         name="repair-confirm"),
    path("pairs/<id:pair_id>/skip-event/", skip_views.start, name="skip-event"),
    path("pairs/<id:pair_id>/switchover/<slug:kind>/", switchover_views.start, name="switchover"),
    path("pairs/<id:pair_id>/repairs/<id:repair_id>/swap-roles/", switchover_views.swap, name="swap-roles"),
]
