"""Every word a person reads is marked for translation, and the English catalogue holds exactly the marked strings.

Four checks:

- **The template linter** (``untranslated_text``) reads every template under ``src/onaboard/web`` (pages, htmx
  partials and the PDFs' templates) and reports text a person would see that is not inside ``{% translate %}`` or
  ``{% blocktranslate %}``: text nodes with letters, the attributes a browser shows or reads aloud (``title``,
  ``alt``, ``placeholder``, ``aria-label`` ..., the ``value`` of a button-like input, the ``data-*-word`` /
  ``-message`` / ``-label`` attributes the scripts put on screen), and literal fallbacks in ``|default:"..."``,
  ``|yesno:"..."`` and ``{% firstof %}``. ``ALLOWED_WORDS`` lists the few words that are not language.
- **The catalogue's freshness**: ``makemessages`` is run again into a temporary copy of the source tree and its
  msgids are compared with the committed ``locale/en/LC_MESSAGES/django.po``, so a string marked without
  ``make messages`` fails here, naming the strings.

- **Messages in the web layer's Python** (``untranslated_constants``): a module-level UPPER_CASE constant under
  ``src/onaboard/web`` whose value is a plain string (or f-string, or a dict of them) that reads like a sentence (a
  space and a letter) must be wrapped in ``gettext_noop`` / ``gettext_lazy`` / ``_``; ``NOT_LANGUAGE`` lists, with
  their reasons, the few that are not text for a reader (log and audit wording, content types, start-up errors).
- **Marked and then translated**: a constant marked with ``gettext_noop`` stays a plain English ``str`` (tests, the
  CLI and the API's JSON use it as it is), so every place that reads it must pass it through ``gettext`` /
  ``_`` (``untranslated_reads``); and no eager ``gettext`` runs at import time, which would freeze the language
  (``eager_translations``). The convention is docs/decisions/0003-translations.md.

English is the source language: every msgstr may stay empty (gettext then shows the msgid), and Django needs no
compiled ``django.mo`` for English, because a msgid with no translation is shown as it is. No ``.mo`` is committed;
a translator adding a language runs ``compilemessages`` for it.
"""

from __future__ import annotations

import ast
import html.parser
import re
import shlex
import shutil
import subprocess
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


# --- Messages in the web layer's Python ----------------------------------------------------------------------------

SRC = REPO / "src" / "onaboard"
TRANSLATING_CALLS = frozenset({"gettext", "_", "gettext_lazy", "pgettext", "pgettext_lazy"})
"""Calls that translate a ``gettext_noop`` constant where it is shown."""
EAGER_CALLS = frozenset({"gettext", "ngettext", "pgettext", "npgettext"})
CONSTANT_NAME = re.compile(r"_?[A-Z][A-Z0-9_]*")
SENTENCE = re.compile(r"(?=.*\s)(?=.*[^\W\d_])", re.DOTALL)
"""Reads like text: a space and a letter."""

NOT_LANGUAGE = {
    "injections/api.py:SESSION_RECORD_DESCRIPTION": "the OpenAPI schema's description, English like the JSON API",
    "injections/api.py:SESSION_BOOK_DESCRIPTION": "the OpenAPI schema's description, English like the JSON API",
    "accounts/signals.py:UNKNOWN_USER_NAME": "audit-trail wording: the record stays in English",
    "accounts/management/commands/issue_api_token.py:NO_SUCH_USER": "an operator's command, English like the CLI",
    "accounts/management/commands/issue_api_token.py:EMPTY_NAME": "an operator's command, English like the CLI",
    "accounts/management/commands/issue_api_token.py:EXPIRES": "an operator's command, English like the CLI",
    "accounts/management/commands/issue_api_token.py:LONG_NAME": "an operator's command, English like the CLI",
    **{
        f"accounts/management/commands/create_clinic_admin.py:{name}": "an operator's command, English like the CLI"
        for name in (
            "EMPTY_CLINIC",
            "CLINIC_SPELLED_DIFFERENTLY",
            "SITE_DIFFERS",
            "USER_EXISTS",
            "ALREADY_SET_UP",
            "ADMIN_INACTIVE",
            "INVALID_ACCOUNT",
            "WEAK_PASSWORD",
            "PASSWORDS_DIFFER",
            "CANCELLED",
            "NO_PASSWORD_SOURCE",
            "UNREADABLE_PASSWORD_FILE",
            "EMPTY_PASSWORD_FILE",
            "CREATED",
            "NEXT_STEPS",
            "PROMPT",
            "PROMPT_AGAIN",
        )
    },
    "accounts/ratelimit.py:BAD_RATE": "a settings error at start-up, for the operator",
    "accounts/signals.py:EXPIRY_DETAIL": "audit-trail wording: the record stays in English",
    "patients/access.py:STAFF_ONLY": "audit-trail wording: the record stays in English",
    "interop/views.py:OWN_DOWNLOAD": "audit-trail wording: the record stays in English",
    "common/words.py:PLAIN_DAY_FORMAT": "a date-format pattern (Django's letters), not words",
    "accounts/services.py:OTP_DEVICE_NAME": "a device name stored in the database",
    "accounts/services.py:CLOSED_BY_PATIENT": "audit-trail wording: the record stays in English",
    "accounts/services.py:CLOSED_BY_STAFF": "audit-trail wording: the record stays in English",
    "interop/calendar.py:CLINIC_FEED_READ": "audit-trail wording: the record stays in English",
    **{
        f"accounts/services.py:{name}": "audit-trail wording: the record stays in English"
        for name in ("REVOKED_PASSWORD_CHANGED", "REVOKED_PASSWORD_SET", "REVOKED_INACTIVE", "REVOKED_PORTAL_CLOSED")
    },
    "accounts/models.py:BAD_TOKEN_DAYS": "a settings error, for the operator",
    "accounts/models.py:BEARER_CHALLENGE": "an HTTP header value (RFC 6750's WWW-Authenticate challenge)",
    "config/env.py:BAD_TOKEN_DAYS": "a settings error at start-up, for the operator",
    "diary/schemas.py:HOURS_TEXT_SCHEMA": "a regular expression in the OpenAPI document",
    "analytics/selectors.py:IBIS_DUCKDB_DEPRECATION": "a regular expression for a warnings filter",
    "audit/logfilters.py:REDACTED_QUERY": "log text, for the operator",
    "audit/logfilters.py:REDACTED_VALUE": "log text, for the operator",
    "audit/logfilters.py:REDACTED_SECRET": "log and audit-trail text, for the operator",
    "audit/logfilters.py:REDACTED_REQUEST_TEXT": "log text, for the operator",
    "audit/logfilters.py:REDACTED_ROW": "log text, for the operator",
    "audit/admin_reads.py:LISTED": "audit-trail wording: the record stays in English",
    "audit/admin_reads.py:VIEWED": "audit-trail wording: the record stays in English",
    "audit/admin_reads.py:VIEWED_HISTORY": "audit-trail wording: the record stays in English",
    "audit/models.py:APPEND_ONLY": "a programming error: code tried to change the audit trail",
    "clinic/demo.py:CLINIC_NAME": "demo data stored in the database",
    "clinic/management/commands/load_demo.py:REFUSED_WITHOUT_DEBUG": "an operator's command, English like the CLI",
    "clinic/management/commands/load_demo.py:REFUSED_NOT_DEMO_ONLY": "an operator's command, English like the CLI",
    "common/security.py:PRIVATE_NO_STORE": "an HTTP header value",
    "common/health.py:UNHEALTHY": "a health probe's answer, for the load balancer and the operator",
    "config/env.py:MISSING_IN_PRODUCTION": "a settings error at start-up, for the operator",
    "config/env.py:WEAK_SECRET_KEY": "a settings error at start-up, for the operator",
    "config/env.py:UNKNOWN_TIME_ZONE": "a settings error at start-up, for the operator",
    "config/env.py:BAD_PROXY_ADDRESS": "a settings error at start-up, for the operator",
    "coverage/demo.py:DEMO_INSURANCE": "demo data stored in the database",
    "coverage/demo.py:SAVINGS_PROGRAMME": "demo data stored in the database",
    "coverage/demo.py:DRUG_PRICE_NOTE": "demo data stored in the database (a demo price's note)",
    "injections/selectors.py:BOTOX_PRODUCT": "the product's name, as the engine and the label write it",
    "interop/calendar.py:PRODID": "the iCalendar product identifier",
    "interop/outcome.py:FHIR_JSON": "a media type (HTTP Content-Type header value)",
    "patients/services.py:UNKNOWN_FIELDS": "a programming error: a caller passed a field that is not editable",
}
"""Module constants under src/onaboard/web that read like sentences but are not text for a reader, with why.
Settings (``config/settings``) are configuration and are not scanned."""
SETTINGS = WEB / "config" / "settings"


@dataclass(frozen=True)
class Finding:
    name: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.name}: {self.text!r}"


def _called(node: ast.AST) -> str | None:
    """The name a call calls (``gettext`` for ``gettext(...)`` and ``translation.gettext(...)``), else None."""
    if not isinstance(node, ast.Call):
        return None
    return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)


def _plain_texts(value: ast.expr) -> list[str]:
    """The strings a constant's value holds untranslated: itself, or a dict's values."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return [value.value]
    if isinstance(value, ast.JoinedStr):
        return [ast.unparse(value)]
    if isinstance(value, ast.Dict):
        return [text for item in value.values if item is not None for text in _plain_texts(item)]
    return []


def untranslated_constants(source: str, *, allowed: frozenset[str] = frozenset()) -> list[Finding]:
    """Module-level UPPER_CASE constants whose value is plain text for a reader, not wrapped in a marking call."""
    found = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if not (isinstance(target, ast.Name) and CONSTANT_NAME.fullmatch(target.id)) or target.id in allowed:
                continue
            found += [Finding(target.id, node.lineno, text) for text in _plain_texts(value) if SENTENCE.match(text)]
    return found


def _parents(tree: ast.AST) -> dict[int, ast.AST]:
    return {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def noop_constants(tree: ast.Module) -> set[str]:
    """The module-level names bound to ``gettext_noop(...)``."""
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign) and _called(node.value) == "gettext_noop"
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }


def untranslated_reads(tree: ast.Module, names: set[str]) -> list[Finding]:
    """Reads of ``gettext_noop`` constants ``names`` that are not the argument of a translating call."""
    parents = _parents(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in names:
            parent = parents.get(id(node))
            if not (_called(parent) in TRANSLATING_CALLS and node in parent.args):  # type: ignore[union-attr]
                found.append(Finding(node.id, node.lineno, "read without gettext()"))
    return found


def eager_translations(tree: ast.Module) -> list[Finding]:
    """Calls of ``gettext`` (not lazy) that run when the module is imported, outside any function."""
    eager = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation"
        for alias in node.names
        if alias.name in EAGER_CALLS
    }
    found: list[Finding] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in eager:
            found.append(Finding(node.func.id, node.lineno, "translated at import time"))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def python_modules(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*.py") if "migrations" not in path.parts)


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(SRC.parent).with_suffix("").parts)


@pytest.mark.parametrize(
    "source",
    [
        'LOT_REQUIRED = "Enter the product lot number."',
        'PRODUCT_EXPIRED: str = (\n    "This product expired on {expiry}, "\n    "before the session date {date}."\n)',
        'RANGE_TOO_LONG = f"ask for at most {MAX_DAYS} days at a time"',
        'LABELS = {"drug": "the price per unit (J0585)", "admin": gettext_noop("the administration")}',
        '_HIDDEN_HINT = "Take the diary to your next appointment."',
    ],
)
def test_the_constant_scan_flags_unmarked_text(source: str) -> None:
    """A module constant holding a sentence, an f-string or a dict of sentences that is not marked is reported."""
    assert untranslated_constants(source), f"not flagged: {source}"


@pytest.mark.parametrize(
    "source",
    [
        'LOT_REQUIRED = gettext_noop("Enter the product lot number.")',
        'WRONG_CODE = _("That code did not match.")',
        "CSP = \"default-src 'self'\"",
        'DATE_FORMAT = "j M Y"',
        'FIELD = "product_lot"',
        'lower_case = "Not a constant, a variable."',
        'def f():\n    MESSAGE = "Inside a function."',
        'class Form:\n    HINT = "A class attribute."',
        "TIMEOUT = 30",
    ],
)
def test_the_constant_scan_accepts_marked_text_and_non_text(source: str) -> None:
    """Marked constants, allowed names, and values that are not module-level text are not reported.

    (``CSP`` and ``DATE_FORMAT`` are flagged without the allow-list; here they are passed as allowed.)
    """
    assert untranslated_constants(source, allowed=frozenset({"CSP", "DATE_FORMAT"})) == []


def test_the_read_scan_flags_a_marked_constant_shown_untranslated() -> None:
    """A gettext_noop constant read outside gettext() is reported; read inside gettext() or _() it is not."""
    tree = ast.parse(
        'NO_SESSION = gettext_noop("No such session.")\n'
        "def shown():\n    return gettext(NO_SESSION), _(NO_SESSION).upper()\n"
        "def forgotten():\n    raise Http404(NO_SESSION)\n"
    )
    assert noop_constants(tree) == {"NO_SESSION"}
    assert [finding.line for finding in untranslated_reads(tree, {"NO_SESSION"})] == [5]


def test_the_import_scan_flags_an_eager_translation_at_module_level() -> None:
    """An eager gettext at module level (frozen at import) is reported; inside a function or lazy, it is not."""
    tree = ast.parse(
        "from django.utils.translation import gettext as _, gettext_lazy\n"
        'FROZEN = _("Saved.")\n'
        'LAZY = gettext_lazy("Saved.")\n'
        'def fine():\n    return _("Saved.")\n'
    )
    assert [finding.line for finding in eager_translations(tree)] == [2]


def test_the_not_language_list_names_existing_constants() -> None:
    """Every allowed constant still exists and still holds plain text, so the allow-list cannot go stale."""
    stale = []
    for key in NOT_LANGUAGE:
        path, name = key.split(":")
        if name not in {finding.name for finding in untranslated_constants((WEB / path).read_text(encoding="utf-8"))}:
            stale.append(key)
    assert stale == [], f"no longer plain text (drop them from NOT_LANGUAGE): {stale}"


def test_every_web_module_marks_its_messages_for_translation() -> None:
    """No module constant under src/onaboard/web holds text for a reader without marking it for translation."""
    found = {}
    for path in python_modules(WEB):
        if SETTINGS in path.parents:
            continue
        relative = path.relative_to(WEB).as_posix()
        allowed = frozenset(key.split(":")[1] for key in NOT_LANGUAGE if key.startswith(f"{relative}:"))
        if problems := untranslated_constants(path.read_text(encoding="utf-8"), allowed=allowed):
            found[relative] = problems
    assert found == {}, (
        "unmarked messages: wrap them in gettext_noop() and show them with gettext() (docs/decisions/"
        "0003-translations.md), or add them to NOT_LANGUAGE with the reason they are not text for a reader:\n"
        + "\n".join(f"{path}: {problem}" for path, problems in found.items() for problem in problems)
    )


def test_every_marked_constant_is_translated_where_it_is_read() -> None:
    """Every read of a gettext_noop constant in src/onaboard, in its module or one importing it, is translated."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in python_modules(SRC)}
    noop = {_module_name(path): noop_constants(tree) for path, tree in trees.items()}
    assert any(noop.values()), "no gettext_noop constant found: is the scan looking in the right place?"
    found = {}
    for path, tree in trees.items():
        names = set(noop[_module_name(path)])
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in noop:
                names |= {alias.asname or alias.name for alias in node.names if alias.name in noop[node.module]}
        problems = untranslated_reads(tree, names) + eager_translations(tree)
        if problems:
            found[str(path.relative_to(REPO))] = problems
    assert found == {}, "\n".join(f"{path}: {problem}" for path, problems in found.items() for problem in problems)


def test_a_marked_message_reaches_a_reader_in_their_language(tmp_path: Path) -> None:
    """With a catalogue translating a gettext_noop message, the page's text is translated and the constant is not."""
    from django.utils import translation

    from onaboard.web.common import security

    assert shutil.which("msgfmt"), "gettext is missing: install ops/apt-bookworm.txt"
    messages = tmp_path / "fr" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    french = "Le fichier est trop gros : au plus {limit}, et celui-ci fait {size}."
    (messages / "django.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        f'msgid "{security.REQUEST_TOO_LARGE}"\nmsgstr "{french}"\n',
        encoding="utf-8",
    )
    subprocess.run(["msgfmt", "-o", "django.mo", "django.po"], cwd=messages, check=True)  # noqa: S607 (gettext's tool)
    english = security.request_too_large_message(3 * 1024 * 1024, limit=1024 * 1024)
    languages = [("en", "English"), ("fr", "French")]
    with override_settings(LOCALE_PATHS=[tmp_path], LANGUAGES=languages), translation.override("fr"):
        translated = security.request_too_large_message(3 * 1024 * 1024, limit=1024 * 1024)
    assert translated.startswith("Le fichier est trop gros")
    assert english.startswith("The upload is too large")
    assert security.REQUEST_TOO_LARGE.startswith("The upload is too large")
