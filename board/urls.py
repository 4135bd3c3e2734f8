from django.urls import path, re_path

from board.views import api, metrics, pages

urlpatterns = [
    path("", pages.index, name="index"),
    path("board/", pages.board, name="board"),
    path("pairs/<id:pair_id>/", pages.pair_detail, name="pair"),
    path("transitions/", pages.transitions, name="transitions"),
    path("healthz", pages.healthz, name="healthz"),
    path("metrics", metrics.prometheus, name="metrics"),
    path("api/v1/pairs", api.pairs, name="api-pairs"),
    path("api/v1/pairs/<id:pair_id>", api.pair, name="api-pair"),
    path("api/v1/transitions", api.transitions, name="api-transitions"),
    re_path(r"^api/", api.not_found, name="api-not-found"),  # last: what no pattern above matched
]
