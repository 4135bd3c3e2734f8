from django.urls import path

from pairs.repair import views

urlpatterns = [
    path("pairs/<id:pair_id>/rebuild/", views.rebuild_start, name="rebuild"),
    path("pairs/<id:pair_id>/repairs/<id:repair_id>/", views.repair_page, name="repair"),
    path("pairs/<id:pair_id>/repairs/<id:repair_id>/check/<slug:step>/", views.repair_check, name="repair-check"),
    path("pairs/<id:pair_id>/repairs/<id:repair_id>/confirm/<slug:step>/", views.repair_confirm,
         name="repair-confirm"),
]
