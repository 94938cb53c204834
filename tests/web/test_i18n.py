"""Every word a person reads is marked for translation, and the English catalogue holds exactly the marked strings.

Two checks:

- **The template linter** (``untranslated_text``) reads every template under ``src/onaboard/web`` (pages, htmx
  partials and the PDFs' templates) and reports text a person would see that is not inside ``{% translate %}`` or
  ``{% blocktranslate %}``: text nodes with letters, the attributes a browser shows or reads aloud (``title``,
  ``alt``, ``placeholder``, ``aria-label`` ..., the ``value`` of a button-like input, the ``data-*-word`` /
  ``-message`` / ``-label`` attributes the scripts put on screen), and literal fallbacks in ``|default:"..."``,
  ``|yesno:"..."`` and ``{% firstof %}``. ``ALLOWED_WORDS`` lists the few words that are not language.
- **The catalogue's freshness**: ``makemessages`` is run again into a temporary copy of the source tree and its
  msgids are compared with the committed ``locale/en/LC_MESSAGES/django.po``, so a string marked without
  ``make messages`` fails here, naming the strings.

English is the source language: every msgstr may stay empty (gettext then shows the msgid), and Django needs no
compiled ``django.mo`` for English, because a msgid with no translation is shown as it is. No ``.mo`` is committed;
a translator adding a language runs ``compilemessages`` for it.
"""

from __future__ import annotations

import html.parser
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command
from django.template.base import tag_re
from django.test import override_settings

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "src" / "onaboard" / "web"
CATALOGUE = WEB / "locale" / "en" / "LC_MESSAGES" / "django.po"
MAKEFILE = REPO / "Makefile"
MAKE_MESSAGES = "make messages"
MESSAGES_RECIPE = re.compile(r"^\tcd src/onaboard/web && .*manage\.py makemessages (?P<options>.+)$", re.MULTILINE)

ALLOWED_WORDS = frozenset(
    {
        "onaboard",  # the product's name, the same in every language
        "U",  # units of onabotulinumtoxinA, as the label and every chart write them
        "mL",  # millilitres of saline
    }
)
"""Words that are not language: a name and units. Everything else with a letter in it is translated."""

WORD = re.compile(r"[^\W\d_]+")
VISIBLE_ATTRIBUTES = frozenset(
    {
        "title",
        "alt",
        "placeholder",
        "label",
        "summary",
        "aria-label",
        "aria-description",
        "aria-roledescription",
        "aria-valuetext",
        "aria-placeholder",
    }
)
"""Attributes a browser shows (tooltips, placeholders, image text) or a screen reader reads out."""
SCRIPT_TEXT_ATTRIBUTE = re.compile(r"data-[a-z-]*(word|message|label|place|text|title)$")
"""``data-*`` attributes whose value a script writes on screen (session_map.js, site_trainer.js)."""
BUTTON_INPUT_TYPES = frozenset({"submit", "button", "reset"})
HIDDEN_CONTENT_TAGS = frozenset({"script", "style"})
DJANGO_TAG = re.compile(r"^\{%\s*(\w+)")
LITERAL_FALLBACK = re.compile(
    r"""\|\s*(?:default|default_if_none|yesno)\s*:\s*(?P<quote>["'])(?P<text>.*?)(?P=quote)"""
)
FIRSTOF_LITERAL = re.compile(r"""(?<![_(])(?P<quote>["'])(?P<text>.*?)(?P=quote)""")
IDENTIFIER = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)+")
"""A kebab- or snake-case literal (``"site-map"``) is an element id or a class, never prose."""
TRANSLATED_BLOCKS = {"blocktranslate": "endblocktranslate", "blocktrans": "endblocktrans"}
SKIPPED_BLOCKS = {"comment": "endcomment", "verbatim": "endverbatim", **TRANSLATED_BLOCKS}


@dataclass(frozen=True)
class Untranslated:
    line: int
    where: str
    text: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.where}: {self.text!r}"


def words_in(text: str) -> list[str]:
    """The words of ``text`` that are language: letters, less the allowed names and units."""
    return [word for word in WORD.findall(text) if word not in ALLOWED_WORDS]


def _blank(text: str) -> str:
    """A stand-in for a template tag or variable with the same line breaks, so line numbers stay true."""
    return " " + "\n" * text.count("\n")


def _tag_literals(tag: str) -> list[str]:
    """Literal strings with letters in a ``{{ }}`` or ``{% %}`` that reach the page untranslated."""
    found = [match["text"] for match in LITERAL_FALLBACK.finditer(tag)]
    name = DJANGO_TAG.match(tag)
    if name and name[1] == "firstof":
        found += [match["text"] for match in FIRSTOF_LITERAL.finditer(tag)]
    return [text for text in found if words_in(text) and not IDENTIFIER.fullmatch(text)]


def strip_template_tags(source: str) -> tuple[str, list[Untranslated]]:
    """The template as plain HTML: translated blocks, comments, tags and variables blanked; untranslated literals.

    Text between ``{% blocktranslate %}`` and ``{% endblocktranslate %}`` is translated as a whole, so it goes with
    the tags; ``{% translate "..." %}`` is a tag like any other.
    """
    parts: list[str] = []
    literals: list[Untranslated] = []
    closing: str | None = None
    line = 1
    for bit in tag_re.split(source):
        if bit.startswith(("{%", "{{", "{#")) and tag_re.fullmatch(bit):
            name = DJANGO_TAG.match(bit)
            if closing is not None:
                if name and name[1] == closing:
                    closing = None
            elif name and name[1] in SKIPPED_BLOCKS:
                closing = SKIPPED_BLOCKS[name[1]]
            elif not bit.startswith("{#"):
                literals += [Untranslated(line, "literal in a tag", text) for text in _tag_literals(bit)]
            parts.append(_blank(bit))
        else:
            parts.append(bit if closing is None else _blank(bit))
        line += bit.count("\n")
    return "".join(parts), literals


class _VisibleText(html.parser.HTMLParser):
    """Collects the text nodes and shown attributes of an HTML document that contain words."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Untranslated] = []
        self.hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            shown = (
                name in VISIBLE_ATTRIBUTES
                or SCRIPT_TEXT_ATTRIBUTE.fullmatch(name) is not None
                or (name == "value" and tag == "input" and (values.get("type") or "").lower() in BUTTON_INPUT_TYPES)
                or (name == "content" and tag == "meta" and values.get("name") == "description")
            )
            if shown and value and words_in(value):
                self.found.append(Untranslated(self.getpos()[0], f"<{tag} {name}=>", value.strip()))
        if tag in HIDDEN_CONTENT_TAGS:
            self.hidden_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN_CONTENT_TAGS and self.hidden_depth:
            self.hidden_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden_depth and words_in(data):
            self.found.append(Untranslated(self.getpos()[0], "text", " ".join(data.split())))


def untranslated_text(source: str) -> list[Untranslated]:
    """Text in a Django template that a person would see or hear and that is not marked for translation."""
    markup, literals = strip_template_tags(source)
    parser = _VisibleText()
    parser.feed(markup)
    parser.close()
    return sorted(literals + parser.found, key=lambda found: found.line)


def templates() -> list[Path]:
    return sorted(WEB.rglob("templates/**/*.html"))


# --- The linter on samples: it must catch a real untranslated sentence ---------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "<p>Take the diary to your next appointment.</p>",
        "<p>{% translate 'Diary' %}: {{ count }} days recorded</p>",
        '<button type="button" aria-label="Close this message">\u00d7</button>',
        '<img src="map.svg" alt="Injection sites on the head">',
        '<input type="submit" value="Save the entry">',
        '<input type="search" placeholder="Name or record number">',
        '<form data-added-word="Added"></form>',
        '<td>{{ session.lot|default:"not recorded" }}</td>',
        "<p>{% firstof patient.nickname 'no nickname' %}</p>",
        "<svg><title>Front of the head</title></svg>",
        "{% blocktranslate %}Fine{% endblocktranslate %}<p>Not fine {{ any }}</p>",
    ],
)
def test_the_linter_flags_untranslated_text(source: str) -> None:
    """Untranslated words in a text node, a shown attribute or a literal fallback are reported."""
    assert untranslated_text(source), f"not flagged: {source}"


@pytest.mark.parametrize(
    "source",
    [
        "<p>{% translate 'Take the diary to your next appointment.' %}</p>",
        (
            "<p>{% blocktranslate count n=count %}{{ n }} day recorded{% plural %}{{ n }} days recorded"
            "{% endblocktranslate %}</p>"
        ),
        '<button type="button" aria-label="{% translate "Close this message" %}">\u00d7</button>',
        '<input type="submit" value="{% translate "Save the entry" %}">',
        '<input type="text" name="lot" value="{{ form.lot.value }}" class="wide" id="id_lot">',
        "<td>155 U</td><td>4 mL</td><td>{{ units }} U</td><td>\u2013</td><td>12 \u00b7 24 \u00d7</td>",
        '<td>{{ session.lot|default:"\u2013" }} {{ x|default:_("not recorded") }}</td>',
        '<a class="brand" href="/">onaboard</a>',
        "<script>const label = 'not shown';</script><style>p::after { content: 'x'; }</style>",
        "{% comment %}A note for developers{% endcomment %}{# another #}",
        '{% include "x.html" with map_id="site-map" %}',
    ],
)
def test_the_linter_accepts_translated_text(source: str) -> None:
    """Translated text, template variables, names, units, symbols, scripts and comments are not reported."""
    assert untranslated_text(source) == []


def test_the_linter_reports_the_line() -> None:
    """A finding names the template line it is on, counting the lines that tags and comments span."""
    source = "{% comment %}\nA\nnote\n{% endcomment %}\n<p>{% translate 'Fine' %}</p>\n<p>Not fine</p>\n"
    assert [found.line for found in untranslated_text(source)] == [6]


# --- The templates -------------------------------------------------------------------------------------------------


def test_every_template_marks_its_text_for_translation() -> None:
    """No template under src/onaboard/web shows a word that is not marked for translation."""
    found = {
        str(path.relative_to(REPO)): problems
        for path in templates()
        if (problems := untranslated_text(path.read_text(encoding="utf-8")))
    }
    assert found == {}, "untranslated text (wrap it in {% translate %} or {% blocktranslate %}):\n" + "\n".join(
        f"{path}: {problem}" for path, problems in found.items() for problem in problems
    )


def test_the_linter_reads_the_pdf_templates() -> None:
    """The templates the PDFs are rendered from are among those checked."""
    assert any("pdf" in path.parts for path in templates())


# --- The catalogue -------------------------------------------------------------------------------------------------

MSGID = re.compile(r'^(msgctxt|msgid|msgid_plural) "(.*)"$')


def catalogue_msgids(po_text: str) -> set[str]:
    """Each entry of a ``.po`` file as ``[context] msgid / plural`` (context and plural when it has them), less
    the header entry."""
    entries: set[str] = set()
    current: dict[str, str] = {}
    last: str | None = None
    for line in [*po_text.splitlines(), ""]:
        if match := MSGID.match(line):
            last = match[1]
            current[last] = match[2]
        elif line.startswith('"') and last is not None:
            current[last] += line[1:-1]
        elif not line.startswith('"'):
            if line.startswith(("msgstr", "#")) or not line.strip():
                last = None
            if not line.strip() and current:
                if current.get("msgid"):
                    context = f"[{current['msgctxt']}] " if "msgctxt" in current else ""
                    plural = f" / {current['msgid_plural']}" if "msgid_plural" in current else ""
                    entries.add(context + current["msgid"] + plural)
                current = {}
    return entries


def test_catalogue_msgids_reads_entries_across_lines() -> None:
    """The .po reader joins continued lines and keeps context and plural, and skips the header."""
    po = (
        'msgid ""\nmsgstr ""\n"Language: en\\n"\n\n'
        'msgid "One"\nmsgstr ""\n\n'
        'msgctxt "month"\nmsgid "May"\nmsgstr ""\n\n'
        'msgid ""\n"Long "\n"text"\nmsgstr ""\n\n'
        'msgid "%(n)s day"\nmsgid_plural "%(n)s days"\nmsgstr[0] ""\nmsgstr[1] ""\n'
    )
    assert catalogue_msgids(po) == {"One", "[month] May", "Long text", "%(n)s day / %(n)s days"}


def makemessages_options() -> list[str]:
    """The options ``make messages`` gives makemessages, read from the Makefile so the two cannot drift apart."""
    recipe = MESSAGES_RECIPE.search(MAKEFILE.read_text(encoding="utf-8"))
    assert recipe, f"the `{MAKE_MESSAGES}` recipe is missing from the Makefile"
    return shlex.split(recipe["options"])


def test_the_english_catalogue_holds_every_marked_string(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """makemessages run afresh finds exactly the msgids of the committed English catalogue, none missing or stale."""
    assert shutil.which("xgettext"), "gettext is missing: install ops/apt-bookworm.txt"
    assert CATALOGUE.exists(), f"{CATALOGUE.relative_to(REPO)} is missing: run `{MAKE_MESSAGES}`"
    # As `make messages` does, from src/onaboard/web, but on a copy of it without its locale folder, so makemessages
    # writes its catalogue into the copy and never touches the committed one.
    copy = tmp_path / "web"
    shutil.copytree(WEB, copy, ignore=shutil.ignore_patterns("locale", "static", "__pycache__"))
    monkeypatch.chdir(copy)
    with override_settings(LOCALE_PATHS=[copy / "locale"]):
        call_command("makemessages", *makemessages_options(), verbosity=0)
    fresh = catalogue_msgids((copy / CATALOGUE.relative_to(WEB)).read_text(encoding="utf-8"))
    committed = catalogue_msgids(CATALOGUE.read_text(encoding="utf-8"))
    missing, stale = sorted(fresh - committed), sorted(committed - fresh)
    assert (missing, stale) == ([], []), (
        f"{CATALOGUE.relative_to(REPO)} is out of date: run `{MAKE_MESSAGES}`.\n"
        f"marked but not in the catalogue: {missing}\nin the catalogue but no longer marked: {stale}"
    )
