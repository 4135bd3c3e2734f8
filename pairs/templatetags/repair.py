"""For the pair page: `{% load repair %}`, `{% rebuild_offer code pair %}` under a cause or warning (its code),
`{% repair_log pair %}`."""

from django import template

from hapanel.roles import is_admin
from pairs.repair import offers

register = template.Library()


def _admin(context) -> bool:
    request = context.get("request")
    return bool(request and is_admin(request.user))


@register.inclusion_tag("pairs/repair/_offer.html", takes_context=True)
def rebuild_offer(context, code: str, pair):
    """The link to the rebuild assistant under a cause (or warning) that offers it, for admins."""
    reason = offers.rebuild_reason(code) if _admin(context) else ""
    target = offers.broken_replica(getattr(pair, "readings", None)) if reason else ""
    source = "primary" if target == "secondary" else "secondary"
    skip = offers.skip_reason(code, getattr(pair, "readings", None)) if _admin(context) else ""
    return {"pair": pair, "reason": reason, "target": target, "source": source, "skip": skip}


@register.inclusion_tag("pairs/repair/_repair_log.html", takes_context=True)
def repair_log(context, pair, limit: int = 30):
    from pairs.repair.service import log_for_pair

    return {"pair": pair, "events": log_for_pair(pair, limit), "is_admin": _admin(context)}
