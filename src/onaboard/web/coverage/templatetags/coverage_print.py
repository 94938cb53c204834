"""``{% print_stylesheet %}``: the documents' print stylesheet (static coverage/print.css) inlined in a <style>.

Inlining keeps each PDF self-contained: WeasyPrint needs nothing fetched to lay it out.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django import template
from django.contrib.staticfiles import finders
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

STYLESHEET = "coverage/print.css"


@cache
def _css() -> str:
    found = finders.find(STYLESHEET)
    if not found:
        raise FileNotFoundError(STYLESHEET)
    return Path(str(found)).read_text(encoding="utf-8")


@register.simple_tag
def print_stylesheet() -> SafeString:
    """The stylesheet's text inside a style element (it is the app's own file, never user input)."""
    return format_html("<style>{}</style>", mark_safe(_css()))  # noqa: S308 - the app's own static file
