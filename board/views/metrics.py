from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST

from board import metrics
from board.views.access import token_or_viewer


@token_or_viewer
def prometheus(request: HttpRequest) -> HttpResponse:
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
