"""The course content: shipped Markdown modules with valid front matter, and refusals that name file and field."""

from __future__ import annotations

from importlib import resources

import pytest

from onaboard.training.course import (
    BAD_KIND,
    BAD_LEVEL,
    MISSING_FIELD,
    NO_FRONT_MATTER,
    ContentError,
    Level,
    load_course,
    parse_module,
)
from onaboard.training.quiz import KINDS

GOOD = """---
id: sample
title: Sample
level: new
order: 1
pass_mark: 80
questions: 3
quiz: dilution, muscle_sites
---
## Text

Body.
"""


def test_the_shipped_course_covers_every_topic_at_three_levels():
    """The course ships eight modules over the three levels, in level order, each with a quiz the engine can set."""
    course = load_course()
    assert [module.level for module in course] == [Level.NEW] * 4 + [Level.PRACTISING] * 3 + [Level.TRAINER]
    assert {module.id for module in course} >= {
        "diagnosis-and-diary",
        "patient-selection-and-safety",
        "preempt-sites-and-anatomy",
        "reconstitution-and-dose",
        "aftercare-and-side-effects",
        "outcomes-and-when-to-stop",
        "insurance",
    }
    assert all(kind in KINDS for module in course for kind in module.quiz)


def test_every_module_is_substantive_and_cites_its_sources():
    """Each module has at least 300 words of text and a Sources section."""
    for module in load_course():
        assert len(module.body.split()) >= 300, module.id
        assert "## Sources" in module.body, module.id


def test_the_content_ships_inside_the_package():
    """The Markdown files live in the onaboard package (hatch packages src/onaboard), read through importlib."""
    names = [entry.name for entry in resources.files("onaboard.training.content").iterdir()]
    assert sum(name.endswith(".md") for name in names) == len(load_course())


def test_a_valid_file_becomes_a_module():
    """Front matter fields become the module's id, level, order, pass mark, question count and quiz kinds."""
    module = parse_module("sample.md", GOOD, known_kinds=KINDS)
    assert (module.id, module.level, module.order, module.pass_mark, module.questions) == ("sample", "new", 1, 80, 3)
    assert module.quiz == ("dilution", "muscle_sites")
    assert module.body.startswith("## Text")


def test_a_file_without_front_matter_is_refused():
    """A module must start with its front matter block."""
    with pytest.raises(ContentError) as refused:
        parse_module("x.md", "# Title\n", known_kinds=KINDS)
    assert refused.value.problems == (NO_FRONT_MATTER.format(name="x.md"),)


def test_every_problem_is_listed_with_file_and_field():
    """A bad level, an unknown quiz kind and a missing field are each named."""
    text = GOOD.replace("level: new", "level: expert").replace("dilution", "guessing").replace("order: 1\n", "")
    with pytest.raises(ContentError) as refused:
        parse_module("bad.md", text, known_kinds=KINDS)
    assert refused.value.problems == (MISSING_FIELD.format(name="bad.md", field="order"),)
    with pytest.raises(ContentError) as refused:
        parse_module("bad.md", text.replace("---\nid", "---\norder: 2\nid"), known_kinds=KINDS)
    assert BAD_LEVEL.format(name="bad.md", value="expert") in refused.value.problems
    assert BAD_KIND.format(name="bad.md", value="guessing", known=", ".join(KINDS)) in refused.value.problems


def test_duplicate_ids_are_refused_across_files():
    """Two files may not share a module id."""
    with pytest.raises(ContentError):
        load_course([("a.md", GOOD), ("b.md", GOOD.replace("order: 1", "order: 2"))])
