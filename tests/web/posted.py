"""What a browser would post from a page's form: every named input, select and textarea with its shown value.

Tests of a "save again" step post exactly what the page shows (the hidden inputs among it), never a dict they
assembled themselves, so a value the page lost or a hidden input it forgot to draw shows up as a failure.
"""

from __future__ import annotations

import html.parser


class _Form(html.parser.HTMLParser):
    """Each ``<form method="post">`` of a page, read as a browser submits it (no button pressed)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[list[tuple[str, str]]] = []
        self.fields: list[tuple[str, str]] = []
        self._inside = False
        self._select: str | None = None
        self._option: str | None = None
        self._chosen: str | None = None
        self._first: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form" and found.get("method", "").lower() == "post":
            self._inside, self.fields = True, []
            self.forms.append(self.fields)
        if not self._inside or "disabled" in found:
            if tag == "select":
                self._select = None
            return
        name = found.get("name")
        if tag == "input" and name:
            kind = found.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in found:
                    self.fields.append((name, found.get("value", "on")))
            elif kind not in ("submit", "button", "reset", "file"):
                self.fields.append((name, found.get("value", "")))
        elif tag == "select" and name:
            self._select, self._chosen, self._first = name, None, None
        elif tag == "option" and self._select is not None:
            self._option = found.get("value", "")
            if self._first is None:
                self._first = self._option
            if "selected" in found:
                self._chosen = self._option
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if not self._inside:
            return
        if tag == "select" and self._select is not None:
            chosen = self._chosen if self._chosen is not None else self._first
            self.fields.append((self._select, chosen or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None
        elif tag == "form":
            self._inside = False


def posted(page: str | bytes) -> dict[str, list[str]]:
    """The data the page's edit form (its largest post form: the header's sign-out form is one too) submits, by
    name (a list each, as a QueryDict holds it); the CSRF token left out (the test client does not check it)."""
    reader = _Form()
    reader.feed(page.decode() if isinstance(page, bytes) else page)
    data: dict[str, list[str]] = {}
    for name, value in max(reader.forms, key=len, default=[]):
        if name != "csrfmiddlewaretoken":
            data.setdefault(name, []).append(value)
    return data
