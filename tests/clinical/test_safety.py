"""The pre-injection safety screen and age in completed years."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onaboard.clinical.cycles import ToxinDose
from onaboard.clinical.safety import (
    ANSWERED_DAY_NOT_RECORDED,
    BIRTH_AFTER_DATE,
    CONTRAINDICATION_ITEMS,
    MESSAGE_ASK_ON_THE_DAY,
    MESSAGE_OTHER_TOXIN,
    MESSAGE_UNANSWERED,
    MESSAGE_UNDER_18,
    MESSAGE_YES_OF_ANOTHER_DAY,
    PER_VISIT_ITEMS,
    REASON_ANSWERED_ON,
    REASON_CLEAR,
    SOURCE_CONTRAINDICATIONS,
    SOURCE_OTHER_TOXINS,
    SOURCE_PEDIATRIC,
    TREATMENT_AFTER_SCREEN,
    FindingCode,
    FindingKind,
    SafetyError,
    SafetyFinding,
    SafetyInput,
    SafetyVerdict,
    age_in_years,
    safety_screen,
)

# --- Strategies -------------------------------------------------------------------------------------------------

dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))
answers = st.sampled_from([True, False, None])

YES_NO_FIELDS = (
    "injection_site_infection",
    "hypersensitivity_to_botulinum_toxin",
    "neuromuscular_junction_disorder",
    "motor_neuropathy_or_als",
    "dysphagia",
    "breathing_problems",
    "cardiovascular_disease",
    "aminoglycoside_or_nmj_drug",
    "anticholinergic_drug",
    "muscle_relaxant",
    "pregnant",
    "breastfeeding",
)
CONTRAINDICATION_FIELDS = ("injection_site_infection", "hypersensitivity_to_botulinum_toxin")
WARNING_FIELDS = tuple(field for field in YES_NO_FIELDS if field not in CONTRAINDICATION_FIELDS)

SCREEN_DAY = dt.date(2026, 4, 9)
ADULT = dt.date(1984, 5, 17)

# Everything answered "no" on the screening day, an adult, no other toxin: the screen is clear.
CLEAR = SafetyInput(
    birth_date=ADULT, other_toxin_treatments=(), answered_on=SCREEN_DAY, **dict.fromkeys(YES_NO_FIELDS, False)
)
PER_VISIT_FIELDS = ("injection_site_infection", "pregnant", "breastfeeding")
PER_VISIT_QUESTIONS = ("infection at the proposed injection sites", "pregnancy", "breastfeeding")
HISTORY_FIELDS = tuple(field for field in YES_NO_FIELDS if field not in PER_VISIT_FIELDS)
MONTH_BEFORE = SCREEN_DAY - dt.timedelta(days=30)


def _reference_age(birth: dt.date, on: dt.date) -> int:
    """Count birthdays passed, a 29 February birthday falling on 1 March in common years."""

    def birthday(year: int) -> dt.date:
        try:
            return birth.replace(year=year)
        except ValueError:
            return dt.date(year, 3, 1)

    return sum(1 for year in range(birth.year + 1, on.year + 1) if birthday(year) <= on)


# --- age_in_years -----------------------------------------------------------------------------------------------


def test_the_birthday_itself_counts() -> None:
    """On the 18th birthday the age is 18; the day before it is 17."""
    assert age_in_years(dt.date(2008, 4, 9), dt.date(2026, 4, 9)) == 18
    assert age_in_years(dt.date(2008, 4, 9), dt.date(2026, 4, 8)) == 17


def test_a_29_february_birthday_is_reached_on_1_march_in_common_years() -> None:
    """Born 29 February 2008: 17 on 28 February 2026, 18 on 1 March 2026."""
    assert age_in_years(dt.date(2008, 2, 29), dt.date(2026, 2, 28)) == 17
    assert age_in_years(dt.date(2008, 2, 29), dt.date(2026, 3, 1)) == 18


def test_a_29_february_birthday_is_reached_on_the_day_in_leap_years() -> None:
    """Born 29 February 2008: 20 on 29 February 2028, 19 the day before."""
    assert age_in_years(dt.date(2008, 2, 29), dt.date(2028, 2, 29)) == 20
    assert age_in_years(dt.date(2008, 2, 29), dt.date(2028, 2, 28)) == 19


def test_age_on_the_day_of_birth_is_zero() -> None:
    """A person is 0 years old on the day of birth."""
    assert age_in_years(SCREEN_DAY, SCREEN_DAY) == 0


def test_birth_after_the_date_is_refused() -> None:
    """A birth date after the date of the age is refused."""
    with pytest.raises(SafetyError) as error:
        age_in_years(dt.date(2030, 1, 1), SCREEN_DAY)
    assert str(error.value) == BIRTH_AFTER_DATE.format(birth="2030-01-01", on="2026-04-09")


@given(birth=dates, on=dates)
def test_age_counts_the_birthdays_passed(birth: dt.date, on: dt.date) -> None:
    """Age in completed years equals the number of birthdays passed, whatever the dates."""
    if birth > on:
        birth, on = on, birth
    assert age_in_years(birth, on) == _reference_age(birth, on)


# --- Verdicts ---------------------------------------------------------------------------------------------------


def test_all_answered_no_for_an_adult_is_clear() -> None:
    """An adult with every item answered no and no other toxin is clear, with no findings."""
    screen = safety_screen(CLEAR, on=SCREEN_DAY)
    assert (screen.verdict, screen.findings, screen.age_years) == (SafetyVerdict.CLEAR, (), 41)
    assert screen.reasons == (REASON_CLEAR,)


def test_nothing_answered_is_unknown() -> None:
    """With nothing answered the verdict is unknown and every item, age and other toxins are listed unknown."""
    screen = safety_screen(SafetyInput(), on=SCREEN_DAY)
    assert screen.verdict is SafetyVerdict.UNKNOWN
    assert len(screen.findings) == len(YES_NO_FIELDS) + 2
    assert {finding.kind for finding in screen.findings} == {FindingKind.UNKNOWN}
    assert screen.age_years is None


@pytest.mark.parametrize("field", YES_NO_FIELDS)
def test_one_unanswered_item_makes_the_verdict_unknown(field: str) -> None:
    """Leaving a single item unanswered turns a clear screen into unknown, naming that item."""
    screen = safety_screen(dataclasses.replace(CLEAR, **{field: None}), on=SCREEN_DAY)
    assert screen.verdict is SafetyVerdict.UNKNOWN
    assert [(finding.kind, finding.code) for finding in screen.findings] == [(FindingKind.UNKNOWN, FindingCode(field))]


def test_the_unanswered_hypersensitivity_item_asks_about_the_formulation_components_too() -> None:
    """The hypersensitivity item asks what the label contraindicates: a botulinum toxin product or any component of
    the formulation (a patient allergic to an excipient only must not answer no)."""
    screen = safety_screen(dataclasses.replace(CLEAR, hypersensitivity_to_botulinum_toxin=None), on=SCREEN_DAY)
    assert [finding.message for finding in screen.findings] == [
        MESSAGE_UNANSWERED.format(
            question="hypersensitivity to any botulinum toxin product or any component of the formulation"
        )
    ]


def test_unknown_birth_date_is_reported_as_unknown_age() -> None:
    """Without a birth date the age is unknown and the verdict is unknown."""
    screen = safety_screen(dataclasses.replace(CLEAR, birth_date=None), on=SCREEN_DAY)
    assert screen.verdict is SafetyVerdict.UNKNOWN
    assert screen.findings == (
        SafetyFinding(
            FindingKind.UNKNOWN,
            FindingCode.UNDER_18,
            MESSAGE_UNANSWERED.format(question="birth date (age)"),
            SOURCE_PEDIATRIC,
        ),
    )


def test_other_toxins_not_asked_is_unknown() -> None:
    """Not asking about other botulinum toxin treatments leaves the verdict unknown."""
    screen = safety_screen(dataclasses.replace(CLEAR, other_toxin_treatments=None), on=SCREEN_DAY)
    assert screen.verdict is SafetyVerdict.UNKNOWN
    assert [finding.code for finding in screen.findings] == [FindingCode.OTHER_TOXIN_WITHIN_3_MONTHS]


@pytest.mark.parametrize("field", CONTRAINDICATION_FIELDS)
def test_contraindications_make_the_screen_contraindicated(field: str) -> None:
    """Infection at the injection site or hypersensitivity to botulinum toxin is a contraindication (label 4)."""
    screen = safety_screen(dataclasses.replace(CLEAR, **{field: True}), on=SCREEN_DAY)
    assert screen.verdict is SafetyVerdict.CONTRAINDICATED
    (finding,) = screen.findings
    assert (finding.kind, finding.code, finding.source) == (
        FindingKind.CONTRAINDICATION,
        FindingCode(field),
        SOURCE_CONTRAINDICATIONS,
    )
    assert screen.reasons == (f"{finding.message} ({finding.source})",)


# --- The day the checklist was answered ---------------------------------------------------------------------------


def _asked_again(answered: object) -> list[str]:
    """The messages of the three per-visit items answered no on ``answered``, screened on SCREEN_DAY."""
    return [
        MESSAGE_ASK_ON_THE_DAY.format(question=question, answered=answered, on=SCREEN_DAY)
        for question in PER_VISIT_QUESTIONS
    ]


def test_the_per_visit_items_are_infection_pregnancy_and_breastfeeding() -> None:
    """``PER_VISIT_ITEMS`` are the items about the day of injection (the infection contraindication, pregnancy,
    lactation), in checklist order, each code its SafetyInput field."""
    assert tuple(PER_VISIT_ITEMS) == tuple(map(FindingCode, PER_VISIT_FIELDS))
    assert set(PER_VISIT_ITEMS) <= {field.name for field in dataclasses.fields(SafetyInput)}


def test_no_answers_of_an_earlier_day_are_asked_again_on_the_day() -> None:
    """A checklist answered all "no" 30 days before the screening day is unknown: the three per-visit items are
    asked again on the day, each naming the day it was answered, and the reasons say when the checklist was answered."""
    screen = safety_screen(dataclasses.replace(CLEAR, answered_on=MONTH_BEFORE), on=SCREEN_DAY)
    assert screen.verdict is SafetyVerdict.UNKNOWN
    assert [(finding.kind, finding.code) for finding in screen.findings] == [
        (FindingKind.UNKNOWN, code) for code in PER_VISIT_ITEMS
    ]
    assert [finding.message for finding in screen.findings] == _asked_again(MONTH_BEFORE)
    assert screen.findings[0].message == (
        "unknown: ask again on the day: infection at the proposed injection sites: answered no on 2026-03-10, "
        "not on 2026-04-09"
    )
    assert screen.reasons[-1] == REASON_ANSWERED_ON.format(answered=MONTH_BEFORE, on=SCREEN_DAY)


def test_answers_given_after_the_screening_day_do_not_count_for_it() -> None:
    """A screen of an earlier day (a session entered late) does not count per-visit answers given later: they say
    nothing of that day."""
    later = SCREEN_DAY + dt.timedelta(days=1)
    screen = safety_screen(dataclasses.replace(CLEAR, answered_on=later), on=SCREEN_DAY)
    assert screen.verdict is SafetyVerdict.UNKNOWN
    assert [finding.message for finding in screen.findings] == _asked_again(later)


def test_answers_of_an_unrecorded_day_are_asked_again_on_the_day() -> None:
    """Without the day the checklist was answered, the per-visit answers do not count either."""
    screen = safety_screen(dataclasses.replace(CLEAR, answered_on=None), on=SCREEN_DAY)
    assert screen.verdict is SafetyVerdict.UNKNOWN
    assert [finding.message for finding in screen.findings] == _asked_again(ANSWERED_DAY_NOT_RECORDED)
    assert screen.reasons[-1] == REASON_ANSWERED_ON.format(answered=ANSWERED_DAY_NOT_RECORDED, on=SCREEN_DAY)


@pytest.mark.parametrize("field", PER_VISIT_FIELDS)
def test_an_old_yes_to_a_per_visit_item_still_counts_and_says_when(field: str) -> None:
    """A "yes" of an earlier day (an infection, a pregnancy) still counts, erring towards caution (a contraindication
    recorded is not softened into "not asked"); its message says when it was given, to ask again on the day."""
    fresh = safety_screen(dataclasses.replace(CLEAR, **{field: True}), on=SCREEN_DAY)
    old = safety_screen(dataclasses.replace(CLEAR, answered_on=MONTH_BEFORE, **{field: True}), on=SCREEN_DAY)
    assert old.verdict is fresh.verdict
    (finding,) = [finding for finding in old.findings if finding.code == field]
    (fresh_finding,) = fresh.findings
    assert finding.kind is fresh_finding.kind
    assert finding.message == MESSAGE_YES_OF_ANOTHER_DAY.format(
        message=fresh_finding.message, answered=MONTH_BEFORE, on=SCREEN_DAY
    )
    assert finding.message.endswith("(answered yes on 2026-03-10, not on 2026-04-09: ask again on the day)")


def test_an_unanswered_per_visit_item_of_an_earlier_day_is_not_asked() -> None:
    """A per-visit item never answered reads "not asked", whatever the day of the rest of the checklist."""
    screen = safety_screen(dataclasses.replace(CLEAR, answered_on=MONTH_BEFORE, pregnant=None), on=SCREEN_DAY)
    (finding,) = [finding for finding in screen.findings if finding.code is FindingCode.PREGNANT]
    assert finding.message == MESSAGE_UNANSWERED.format(question="pregnancy")


@pytest.mark.parametrize("field", HISTORY_FIELDS)
def test_history_answers_of_an_earlier_day_still_count(field: str) -> None:
    """The history items answered long ago keep counting: a "yes" is still its finding, a "no" none."""
    long_ago = SCREEN_DAY - dt.timedelta(days=400)
    screen = safety_screen(dataclasses.replace(CLEAR, answered_on=long_ago, **{field: True}), on=SCREEN_DAY)
    kinds = {finding.code: finding.kind for finding in screen.findings}
    assert kinds[FindingCode(field)] in {FindingKind.CONTRAINDICATION, FindingKind.WARNING}
    assert set(kinds) == {FindingCode(field), *PER_VISIT_ITEMS}


def test_a_checklist_answered_on_the_day_names_no_day() -> None:
    """Answered on the screening day, the reasons say nothing of when: the clear reason alone."""
    assert safety_screen(CLEAR, on=SCREEN_DAY).reasons == (REASON_CLEAR,)
    dysphagia = safety_screen(dataclasses.replace(CLEAR, dysphagia=True), on=SCREEN_DAY)
    assert not any("checklist answered on" in reason for reason in dysphagia.reasons)


def test_the_contraindication_items_are_those_whose_yes_contraindicates() -> None:
    """``CONTRAINDICATION_ITEMS`` lists exactly the checklist items a "yes" to which makes the screen
    contraindicated, in checklist order: the label's two (4 Contraindications), each code its SafetyInput field."""
    contraindicating = tuple(
        FindingCode(field)
        for field in YES_NO_FIELDS
        if safety_screen(dataclasses.replace(CLEAR, **{field: True}), on=SCREEN_DAY).verdict
        is SafetyVerdict.CONTRAINDICATED
    )
    assert CONTRAINDICATION_ITEMS == contraindicating == tuple(map(FindingCode, CONTRAINDICATION_FIELDS))
    assert set(CONTRAINDICATION_ITEMS) <= {field.name for field in dataclasses.fields(SafetyInput)}


@pytest.mark.parametrize("field", WARNING_FIELDS)
def test_warnings_make_the_screen_caution(field: str) -> None:
    """Each warning item answered yes (neuromuscular, swallowing, breathing, cardiovascular, drugs, pregnancy,
    lactation) is caution, with the label section behind it."""
    screen = safety_screen(dataclasses.replace(CLEAR, **{field: True}), on=SCREEN_DAY)
    assert screen.verdict is SafetyVerdict.CAUTION
    (finding,) = screen.findings
    assert (finding.kind, finding.code) == (FindingKind.WARNING, FindingCode(field))
    assert finding.message.startswith("warning: ")
    assert finding.source.startswith(("BOTOX US PI", "BOTOX Cosmetic US PI"))


def test_a_contraindication_outweighs_warnings_and_unknowns_and_comes_first() -> None:
    """A contraindication makes the verdict contraindicated and is listed before warnings and unknowns."""
    patient = SafetyInput(injection_site_infection=True, pregnant=True, answered_on=SCREEN_DAY)
    screen = safety_screen(patient, on=SCREEN_DAY)
    assert screen.verdict is SafetyVerdict.CONTRAINDICATED
    kinds = [finding.kind for finding in screen.findings]
    assert kinds[:2] == [FindingKind.CONTRAINDICATION, FindingKind.WARNING]
    assert kinds == sorted(kinds, key=list(FindingKind).index)


def test_a_warning_outweighs_unknowns() -> None:
    """A warning with other items unanswered gives caution, not unknown."""
    assert safety_screen(SafetyInput(dysphagia=True), on=SCREEN_DAY).verdict is SafetyVerdict.CAUTION


@given(values=st.fixed_dictionaries(dict.fromkeys(YES_NO_FIELDS, answers)))
def test_verdict_is_the_most_serious_finding(values: dict[str, bool | None]) -> None:
    """The verdict is contraindicated, else caution, else unknown, else clear, by the answers given."""
    screen = safety_screen(dataclasses.replace(CLEAR, **values), on=SCREEN_DAY)
    if any(values[field] for field in CONTRAINDICATION_FIELDS):
        expected = SafetyVerdict.CONTRAINDICATED
    elif any(values[field] for field in WARNING_FIELDS):
        expected = SafetyVerdict.CAUTION
    elif None in values.values():
        expected = SafetyVerdict.UNKNOWN
    else:
        expected = SafetyVerdict.CLEAR
    assert screen.verdict is expected


# --- Age --------------------------------------------------------------------------------------------------------


def test_17_year_old_gets_an_age_finding_and_caution() -> None:
    """A 17-year-old is below the adult indication: an age finding (label 8.4) and a caution verdict."""
    screen = safety_screen(dataclasses.replace(CLEAR, birth_date=dt.date(2008, 4, 10)), on=SCREEN_DAY)
    assert (screen.verdict, screen.age_years) == (SafetyVerdict.CAUTION, 17)
    assert screen.findings == (
        SafetyFinding(FindingKind.AGE, FindingCode.UNDER_18, MESSAGE_UNDER_18.format(age=17), SOURCE_PEDIATRIC),
    )


def test_18_year_old_on_the_birthday_is_clear() -> None:
    """On the 18th birthday there is no age finding."""
    screen = safety_screen(dataclasses.replace(CLEAR, birth_date=dt.date(2008, 4, 9)), on=SCREEN_DAY)
    assert (screen.verdict, screen.age_years) == (SafetyVerdict.CLEAR, 18)


def test_29_february_birthday_turns_18_on_1_march() -> None:
    """Born 29 February 2008: under 18 on 28 February 2026, adult on 1 March 2026."""
    for day, verdict in ((dt.date(2026, 2, 28), SafetyVerdict.CAUTION), (dt.date(2026, 3, 1), SafetyVerdict.CLEAR)):
        patient = dataclasses.replace(CLEAR, birth_date=dt.date(2008, 2, 29), answered_on=day)
        assert safety_screen(patient, on=day).verdict is verdict


def test_birth_date_after_the_screening_day_is_refused() -> None:
    """A birth date after the screening day is refused."""
    with pytest.raises(SafetyError):
        safety_screen(dataclasses.replace(CLEAR, birth_date=dt.date(2027, 1, 1)), on=SCREEN_DAY)


# --- Other botulinum toxins -------------------------------------------------------------------------------------


def test_other_toxin_within_three_months_is_a_warning() -> None:
    """Dysport 2 months before the session is a warning naming product, units, date and the window."""
    dysport = ToxinDose(dt.date(2026, 2, 1), "Dysport", 500, "cervical dystonia")
    screen = safety_screen(dataclasses.replace(CLEAR, other_toxin_treatments=(dysport,)), on=SCREEN_DAY)
    assert screen.verdict is SafetyVerdict.CAUTION
    assert screen.findings == (
        SafetyFinding(
            FindingKind.WARNING,
            FindingCode.OTHER_TOXIN_WITHIN_3_MONTHS,
            MESSAGE_OTHER_TOXIN.format(
                product="Dysport",
                units=500,
                date="2026-02-01",
                indication=" for cervical dystonia",
                start="2026-01-10",
                end="2026-04-09",
            ),
            SOURCE_OTHER_TOXINS,
        ),
    )
    assert screen.findings[0].message == (
        "warning: other botulinum toxin: Dysport 500 U on 2026-02-01 for cervical dystonia is within 3 months "
        "(2026-01-10..2026-04-09); weakness may be exaggerated before earlier effects resolve"
    )


def test_botox_for_another_indication_is_also_a_warning() -> None:
    """BOTOX given for another indication within 3 months is flagged too."""
    botox = ToxinDose(dt.date(2026, 3, 1), "BOTOX", 100)
    screen = safety_screen(dataclasses.replace(CLEAR, other_toxin_treatments=(botox,)), on=SCREEN_DAY)
    assert screen.verdict is SafetyVerdict.CAUTION
    assert "BOTOX 100 U on 2026-03-01 is within" in screen.findings[0].message


def test_other_toxin_window_starts_the_day_after_three_months_earlier() -> None:
    """A toxin given on the same day 3 months earlier is outside the window; the day after is inside."""
    outside = ToxinDose(dt.date(2026, 1, 9), "Xeomin", 100)
    inside = ToxinDose(dt.date(2026, 1, 10), "Xeomin", 100)
    assert safety_screen(dataclasses.replace(CLEAR, other_toxin_treatments=(outside,)), on=SCREEN_DAY).verdict is (
        SafetyVerdict.CLEAR
    )
    assert safety_screen(dataclasses.replace(CLEAR, other_toxin_treatments=(inside,)), on=SCREEN_DAY).verdict is (
        SafetyVerdict.CAUTION
    )


def test_other_toxin_after_the_screening_day_is_refused() -> None:
    """A treatment dated after the screening day is refused."""
    later = ToxinDose(dt.date(2026, 5, 1), "Myobloc", 5000)
    with pytest.raises(SafetyError) as error:
        safety_screen(dataclasses.replace(CLEAR, other_toxin_treatments=(later,)), on=SCREEN_DAY)
    assert str(error.value) == TREATMENT_AFTER_SCREEN.format(product="Myobloc", date="2026-05-01", on="2026-04-09")


def test_safety_error_is_a_value_error() -> None:
    """SafetyError is a ValueError, so callers that catch bad input catch it."""
    assert issubclass(SafetyError, ValueError)
