"""For the pair page: `{% load pairconfig %}{% pair_actions pair %}{% pair_changes pair 20 %}`."""

from django import template

from hapanel.roles import is_admin
from pairs.changes import changes_for_pair

register = template.Library()


@register.inclusion_tag("pairs/_pair_actions.html", takes_context=True)
def pair_actions(context, pair):
    request = context.get("request")
    return {"pair": pair, "is_admin": bool(request and is_admin(request.user)),
            "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("pairs/_pair_changes.html")
def pair_changes(pair, limit: int = 20):
    return {"pair": pair, "changes": changes_for_pair(pair, limit)}
