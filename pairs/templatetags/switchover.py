"""For the pair page: `{% load switchover %}`, `{% switchover_offer pair %}`: the switchover, failover and rejoin
the pair's statuses offer now (admins), and the pair's role changes (everyone)."""

from django import template

from hapanel.roles import is_admin
from pairs.repair.switchover import KINDS

register = template.Library()


@register.inclusion_tag("pairs/repair/_switchover_offer.html", takes_context=True)
def switchover_offer(context, pair, limit: int = 5):
    from pairs.repair.switchover_service import offered

    request = context.get("request")
    offers = offered(pair) if request and is_admin(request.user) else {}
    return {"pair": pair, "offers": [(kind, KINDS[kind], why) for kind, why in offers.items()],
            "changes": list(pair.role_changes.all()[:limit])}
