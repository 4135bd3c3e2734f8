"""`{{ line|status_line }}`: a `StatusLine` in the board's markup, for pages rendered by templates."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from board import board_html
from board.presenters import StatusLine

register = template.Library()


@register.filter
def status_line(line: StatusLine) -> SafeString:
    return board_html.status_line(line)
