from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render

from ..models import Pair


@login_required
def index(request: HttpRequest) -> HttpResponse:
    pairs = Pair.objects.all()
    return render(request, "status/index.html", {"pairs": pairs})


@login_required
def pair_detail(request: HttpRequest, pair_id: int) -> HttpResponse:
    pair = get_object_or_404(Pair.objects.prefetch_related("nodes"), pk=pair_id)
    transitions = pair.transitions.all()[:50]
    return render(request, "status/pair.html", {"pair": pair, "transitions": transitions})


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})
