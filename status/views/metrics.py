from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST

from .. import metrics
from .access import token_or_viewer


@token_or_viewer
def prometheus(request: HttpRequest) -> HttpResponse:
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
