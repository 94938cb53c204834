"""Reading sessions and side effects and running the pre-recording checks (onaboard/web/injections/selectors.py)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.http import Http404
from django.utils import timezone

from onaboard.clinical import (
    CONTRAINDICATION_ITEMS,
    CUMULATIVE_LIMIT_UNITS,
    CUMULATIVE_WINDOW_MONTHS,
    FIXED_SITE_COUNT,
    RETREATMENT_INTERVAL_DAYS,
    UNITS_PER_SITE,
    FindingCode,
    SafetyVerdict,
)
from onaboard.policies import shipped_policy
from onaboard.web.accounts.models import Clinic, Role, SiteOfService
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.clinic.selectors import patient_pathway_state
from onaboard.web.injections import selectors, services, sitemap
from onaboard.web.injections.models import InjectionSession, SessionStatus, Severity, SideEffect, SideEffectKind
from onaboard.web.injections.selectors import CheckCode, SiteEntry
from onaboard.web.outcomes.models import Decision
from onaboard.web.outcomes.services import treatment_decision_record
from onaboard.web.patients.access import Capability
from onaboard.web.patients.models import OtherToxinTreatment
from tests.web.clinic.diaries import TODAY as DIARY_DAY
from tests.web.clinic.diaries import chronic_rows, course_rows, days_before, episodic_rows, store
from tests.web.factories import UserFactory
from tests.web.injections.conftest import TODAY, authorisation, fixed_entries, insure, record

DAY = dt.date(2026, 3, 2)


def checks_for(patient, day=DAY, sites=None, vial_units=200):
    return selectors.session_checks(
        patient=patient, date=day, sites=fixed_entries() if sites is None else sites, vial_units=vial_units
    )


def test_a_standard_plan_passes_every_check(patient):
    """31 sites at 5 U, first session, nothing else given, every safety question answered no: all clear (with no
    insurance recorded, whether a prior authorisation is needed is not known: a warning, not a failure)."""
    checks = checks_for(patient)
    assert checks.plan.total_units == 155
    assert checks.failing == ()
    assert checks.safety.verdict is SafetyVerdict.CLEAR
    assert [check.tone for check in checks.checks] == ["ok", "ok", "ok", "ok", "warn"]


def test_an_invalid_plan_lists_the_engines_problems(patient):
    """Two extra trapezius sites too many: the engine's limit message, and no plan."""
    extra = [SiteEntry("trapezius", "left", 5, True)] * 5
    checks = checks_for(patient, sites=[*fixed_entries(), *extra])
    assert checks.plan is None
    assert checks.plan_problems == ("follow-the-pain: trapezius allows at most 4 extra sites (20 U), asked for 5",)


def test_a_date_before_birth_waits_for_a_corrected_date_instead_of_crashing(patient):
    """The live checks of a session typed with a year before the patient's birth say so and run no safety screen."""
    before = patient.birth_date - dt.timedelta(days=1)
    checks = checks_for(patient, day=before)
    assert checks.safety is None
    expected = selectors.BEFORE_BIRTH.format(date=before, birth=patient.birth_date)
    assert [check.reasons for check in checks.checks[:3]] == [(expected,)] * 3
    assert checks.site_dose.passed is True  # the doses per site need no date


def test_the_interval_is_checked_against_the_session_after_too(nurse, patient):
    """A back-dated session 30 days before a recorded one fails the 12-week rule against the later session."""
    record(user=nurse, patient=patient, date=DAY)
    checks = checks_for(patient, day=DAY - dt.timedelta(days=30))
    assert checks.interval.passed is False
    assert checks.interval.reasons[-1] == "12-week rule: 2026-03-02 is 30 days after the session of 2026-01-31 (< 84)"


def test_the_interval_check_fails_on_the_day_of_a_session_already_recorded(nurse, patient):
    """On the day a session is already recorded, the 12-week check fails naming that session, as recording
    refuses it, instead of passing as a first session; the session itself, being recorded again (``exclude``),
    is not its own neighbour."""
    recorded = record(user=nurse, patient=patient, date=DAY)
    checks = checks_for(patient, day=DAY)
    assert checks.interval.passed is False
    assert checks.interval.reasons == (selectors.SESSION_ALREADY_ON_DAY.format(date=DAY),)
    assert CheckCode.INTERVAL.value in checks.failing_codes
    with pytest.raises(services.SessionConflictError):
        record(user=nurse, patient=patient, date=DAY)
    again = selectors.session_checks(patient=patient, date=DAY, sites=fixed_entries(), vial_units=200, exclude=recorded)
    assert again.interval.passed is True


def test_other_toxins_count_only_when_they_are_botox(patient):
    """Dysport's units cannot be converted, so it is listed as not counted, not added to the BOTOX total."""
    OtherToxinTreatment.objects.create(patient=patient, date=DAY - dt.timedelta(days=10), product="Dysport", units=500)
    checks = checks_for(patient)
    assert checks.cumulative_dose.passed is True
    assert checks.dose_check.window_units == 0
    assert any("not counted: Dysport 500 U" in reason for reason in checks.cumulative_dose.reasons)


def test_a_caution_passes_but_is_shown_as_a_warning(patient):
    """A pregnancy warning does not block recording but the check is shown with caution."""
    patient.pregnant = True
    patient.save()
    checks = checks_for(patient)
    assert checks.contraindication.passed is True
    assert checks.contraindication.tone == "warn"
    assert checks.safety.verdict is SafetyVerdict.CAUTION


def test_unanswered_safety_questions_are_listed_apart(world):
    """A record with no safety answers lists every question as unanswered (not a contraindication): the check is
    "not answered" for the label's two contraindication questions, never "passed", and recording needs no override;
    the stored reasons say so first."""
    checks = checks_for(world.same_clinic_patient)
    contraindication = checks.contraindication
    assert (contraindication.passed, contraindication.failed, contraindication.tone) == (None, False, "warn")
    not_answered = selectors.CONTRAINDICATION_NOT_ANSWERED.format(
        questions="injection-site infection, hypersensitivity"
    )
    assert (
        contraindication.not_answered
        == not_answered
        == ("not answered: injection-site infection, hypersensitivity — ask before injecting")
    )
    assert checks.failing == ()
    stored = [reason for reason in checks.reasons if reason.startswith("contraindication:")]
    assert stored[0] == f"contraindication: {not_answered} (BOTOX US PI 4 Contraindications)"
    assert len(checks.safety_unknown) == 13  # the 12 yes/no items and other toxins


def test_without_a_date_the_checks_wait(patient):
    """No date yet: the plan is built, the checks that need the date are not run (the dose per site needs none)."""
    checks = checks_for(patient, day=None)
    assert checks.plan is not None
    assert [check.passed for check in checks.checks] == [None, None, None, True, None]


def test_failing_codes_name_the_checks_to_override(nurse, patient):
    """An early session with an infection fails two checks, named for the override."""
    record(user=nurse, patient=patient, date=DAY)
    patient.injection_site_infection = True
    patient.save()
    checks = checks_for(patient, day=DAY + dt.timedelta(days=20))
    assert checks.failing_codes == (CheckCode.INTERVAL, CheckCode.CONTRAINDICATION)
    assert selectors.check_titles(",".join(checks.failing_codes)) == [
        "12-week interval",
        "safety screen contraindication",
    ]


def test_the_check_titles_print_the_engines_numbers():
    """Each check's title prints the engine's interval (in weeks), cumulative limit and window, fixed-site count and
    units per site."""
    weeks = RETREATMENT_INTERVAL_DAYS // 7
    assert [selectors.check_title(code) for code in CheckCode] == [
        f"{weeks}-week interval",
        f"cumulative dose ({CUMULATIVE_LIMIT_UNITS} U in {CUMULATIVE_WINDOW_MONTHS} months)",
        "safety screen contraindication",
        (
            f"the label's dose and sites ({FIXED_SITE_COUNT} fixed sites at {UNITS_PER_SITE} U, "
            "follow-the-pain within its limits)"
        ),
        "prior authorisation",
        "decision to stop treatment",
        "BOTOX label criteria before the first session",
    ]
    assert selectors.check_titles("interval,site_dose") == [
        f"{weeks}-week interval",
        selectors.check_title("site_dose"),
    ]


def test_the_check_titles_follow_the_constants(patient, monkeypatch):
    """Were the engine's numbers different, the titles and the no-date reason would say so: they are not retyped."""
    for name, value in {
        "RETREATMENT_INTERVAL_DAYS": 91,
        "CUMULATIVE_LIMIT_UNITS": 360,
        "CUMULATIVE_WINDOW_MONTHS": 2,
        "FIXED_SITE_COUNT": 29,
        "UNITS_PER_SITE": 6,
    }.items():
        monkeypatch.setattr(selectors, name, value)
    checks = checks_for(patient, day=None).checks
    assert [check.title for check in checks] == [
        "13-week interval",
        "cumulative dose (360 U in 2 months)",
        "safety screen contraindication",
        "the label's dose and sites (29 fixed sites at 6 U, follow-the-pain within its limits)",
        "prior authorisation",
    ]
    assert checks[0].reasons == ("enter the session date to run the 13-week and cumulative-dose checks",)


def test_a_session_of_another_clinic_is_not_found(nurse, world):
    """Staff cannot open a session of a patient they cannot see; the refusal is audited as what was asked (the
    session's id, the patient apart), and an id of nobody is audited alike: the trail does not tell them apart by
    its object (another clinic's administrator sees no patient column: audit/admin.py)."""
    session = record(user=nurse, patient=world.other_clinic_patient, date=DAY)
    nobody = uuid.UUID("00000000-0000-0000-0000-000000000001")
    clinician = world.users["clinician"]
    for key in (session.external_id, nobody):
        with pytest.raises(Http404):
            selectors.session_for(clinician, key, need=Capability.VIEW_CLINICAL)
    events = AuditEvent.objects.filter(action=Action.DENIED, user=clinician).order_by("pk")
    assert [(e.object_type, e.object_id, e.detail) for e in events] == [
        ("injection_session", str(session.external_id), "view_clinical"),
        ("injection_session", str(nobody), "view_clinical"),
    ]
    assert [e.patient_id for e in events] == [world.other_clinic_patient.external_id, None]


def test_a_malformed_or_unknown_id_is_not_found(world):
    """Neither a bad id nor an unknown one reveals anything."""
    for key in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        with pytest.raises(Http404):
            selectors.session_for(world.users["clinician"], key, need=Capability.VIEW_CLINICAL)


def test_billing_staff_open_sessions_with_the_billing_view(world):
    """Billing staff lack the clinical view, so they reach sessions through VIEW_BILLING."""
    assert selectors.session_view_capability(world.users["billing"]) is Capability.VIEW_BILLING
    assert selectors.session_view_capability(world.users["nurse"]) is Capability.VIEW_CLINICAL


def test_side_effects_for_lists_the_patients_side_effects_latest_first(nurse, patient, world):
    """side_effects_for returns the patient's side effects, most recent onset first, with their sessions."""
    session = record(user=nurse, patient=patient, date=DAY)
    for onset in (DAY + dt.timedelta(days=2), DAY + dt.timedelta(days=9)):
        services.side_effect_report(
            user=world.users["patient"], patient=patient, kind="neck_pain", onset=onset, severity="mild", today=TODAY
        )
    effects = list(selectors.side_effects_for(patient))
    assert [effect.onset for effect in effects] == [DAY + dt.timedelta(days=9), DAY + dt.timedelta(days=2)]
    assert {effect.session for effect in effects} == {session}
    assert not selectors.side_effects_for(world.same_clinic_patient).exists()


def test_the_recorded_plan_gives_the_billing_lines(nurse, patient):
    """A 155 U session from a 200 U vial bills 64615, J0585 x 155 and J0585-JW x 45."""
    session = record(user=nurse, patient=patient, date=DAY)
    lines = [(line.code, line.modifier, line.units) for line in selectors.session_plan(session).billing_lines]
    assert lines == [("64615", None, 1), ("J0585", None, 155), ("J0585", "JW", 45)]


def test_a_booked_session_has_no_plan(patient):
    """Before recording there is nothing to bill."""
    booking = InjectionSession.objects.create(patient=patient, date=DAY, status=SessionStatus.BOOKED)
    assert selectors.session_plan(booking) is None


def test_recorded_sites_are_drawn_where_they_were_stored(nurse, patient):
    """The map of a recorded session numbers sites per muscle and side and keeps their points."""
    sites = [*fixed_entries(), SiteEntry("occipitalis", "right", 10, True, "back", 600, 470)]
    session = record(user=nurse, patient=patient, date=DAY, sites=sites, override_reason="10 U where it hurts most")
    drawn = selectors.session_map_sites(session)
    assert len(drawn) == 32
    extra = drawn[-1]
    assert (extra.key, extra.x, extra.y, extra.units, extra.label) == (
        "ftp-occipitalis-right-1",
        600,
        470,
        10,
        "occipitalis right, extra site 1, 10 U",
    )


def test_a_partial_session_numbers_its_fixed_sites_by_the_spot_they_were_drawn_on(nurse, patient):
    """A session that left "temporalis left 2" out is drawn and listed as temporalis left 1, 3 and 4, each on its own
    spot, not renumbered 1, 2, 3."""
    sites = fixed_entries(temporalis_left_2=0)
    session = record(user=nurse, patient=patient, date=DAY, sites=sites, override_reason="The patient fainted.")
    drawn = [
        site for site in selectors.session_map_sites(session) if site.muscle == "temporalis" and site.side == "left"
    ]
    assert [site.key for site in drawn] == [sitemap.fixed_site_key("temporalis", "left", n) for n in (1, 3, 4)]
    spots = [sitemap.FIXED_POSITIONS[sitemap.Muscle.TEMPORALIS, sitemap.Side.LEFT, n] for n in (1, 3, 4)]
    assert [(site.x, site.y) for site in drawn] == [(spot.x, spot.y) for spot in spots]


def test_the_schedule_comes_from_the_recorded_sessions(nurse, patient):
    """The patient's schedule is the engine's: next due 84 days after the last recorded session."""
    record(user=nurse, patient=patient, date=DAY, today=DAY)
    schedule = selectors.patient_schedule(patient, today=TODAY)
    assert schedule.next_due == DAY + dt.timedelta(days=84)
    assert selectors.open_booking(patient).date == schedule.next_due


def test_a_site_off_the_label_dose_fails_the_dose_per_site_check(patient):
    """40 U at one temporalis follow-the-pain site fails the check with the engine's reasons (site and muscle
    maximum), so recording it needs an override reason like the other checks."""
    from onaboard.clinical.preempt import MUSCLE_ABOVE_MAXIMUM

    sites = [*fixed_entries(), SiteEntry("temporalis", "left", 40, True)]
    checks = checks_for(patient, sites=sites)
    assert checks.site_dose.failed
    assert checks.failing_codes == ("site_dose",)
    assert checks.site_dose.reasons[-1] == MUSCLE_ABOVE_MAXIMUM.format(muscle="temporalis", units=80, limit=50)


# --- Side effects to review -------------------------------------------------------------------------------------


def _reported(patient, kind, *, hours_ago, reviewed=False):
    """A side effect of ``kind`` the patient reported ``hours_ago`` hours ago, reviewed or not."""
    effect = SideEffect.objects.create(patient=patient, kind=kind, onset=TODAY, severity=Severity.MODERATE)
    reported = timezone.now() - dt.timedelta(hours=hours_ago)
    SideEffect.objects.filter(pk=effect.pk).update(created=reported, reviewed_at=timezone.now() if reviewed else None)
    return effect


def test_side_effects_to_review_list_urgent_kinds_first_then_the_latest_reported(world):
    """Unreviewed reports of the clinic's patients come urgent kinds first (distant spread of toxin), each kind of
    group latest reported first, however old the urgent ones are."""
    own, same = world.own_patient, world.same_clinic_patient
    old_urgent = _reported(own, SideEffectKind.DIPLOPIA, hours_ago=48)
    new_mild = _reported(same, SideEffectKind.NECK_PAIN, hours_ago=1)
    new_urgent = _reported(same, SideEffectKind.BREATHING, hours_ago=5)
    old_mild = _reported(own, SideEffectKind.EYELID_PTOSIS, hours_ago=30)
    listed, total = selectors.side_effects_to_review(world.users["clinician"])
    assert [effect.pk for effect in listed] == [new_urgent.pk, old_urgent.pk, new_mild.pk, old_mild.pk]
    assert total == 4
    assert [effect.urgent for effect in listed] == [True, True, False, False]


def test_reviewed_side_effects_are_not_listed_for_review(world):
    """A side effect a clinician has reviewed leaves the list; the unreviewed one beside it stays."""
    _reported(world.same_clinic_patient, SideEffectKind.DYSPHAGIA, hours_ago=2, reviewed=True)
    waiting = _reported(world.same_clinic_patient, SideEffectKind.MYALGIA, hours_ago=3)
    assert [effect.pk for effect in selectors.side_effects_to_review(world.users["nurse"])[0]] == [waiting.pk]


def test_a_report_stays_listed_for_review_until_a_clinician_has_reviewed_it(world):
    """A nurse's review does not take a report off the clinicians' list (the patient's "trouble breathing", graded
    as reported); a clinician's review does, even one confirming the nurse's unchanged; a nurse's review after
    the clinician's puts it back for a clinician to confirm."""
    patient = world.same_clinic_patient
    session = InjectionSession.objects.create(
        patient=patient, date=TODAY - dt.timedelta(days=20), status=SessionStatus.RECORDED, total_units=155
    )
    effect = services.side_effect_report(
        user=world.users["nurse"],
        patient=patient,
        kind=SideEffectKind.BREATHING,
        onset=TODAY - dt.timedelta(days=5),
        severity=Severity.SEVERE,
        today=TODAY,
    )
    review = {"side_effect": effect, "grade": Severity.SEVERE, "related_to_treatment": None, "session": session}

    def listed():
        return [listed.pk for listed in selectors.side_effects_to_review(world.users["clinician"])[0]]

    services.side_effect_review(user=world.users["nurse"], **review)
    assert listed() == [effect.pk]
    services.side_effect_review(user=world.users["clinician"], **review)
    assert listed() == []
    services.side_effect_review(user=world.users["nurse"], **{**review, "related_to_treatment": True})
    assert listed() == [effect.pk]


def test_side_effects_of_another_clinics_patients_are_never_listed(world):
    """An urgent report of another clinic's patient is not in this clinic's list, and is in that clinic's."""
    far = _reported(world.other_clinic_patient, SideEffectKind.GENERALISED_WEAKNESS, hours_ago=1)
    near = _reported(world.same_clinic_patient, SideEffectKind.NECK_PAIN, hours_ago=2)
    assert [effect.pk for effect in selectors.side_effects_to_review(world.users["clinician"])[0]] == [near.pk]
    elsewhere = UserFactory(role=Role.CLINICIAN, clinic=world.other_clinic)
    assert [effect.pk for effect in selectors.side_effects_to_review(elsewhere)[0]] == [far.pk]


@pytest.mark.parametrize("role", ["billing", "admin", "trainee"])
def test_staff_without_the_clinical_view_get_no_side_effects_to_review(world, role, django_assert_num_queries):
    """Billing staff, administrators and trainees get an empty list without a query, where a clinician of the same
    clinic gets the urgent report."""
    _reported(world.same_clinic_patient, SideEffectKind.DYSPHAGIA, hours_ago=1)
    assert selectors.side_effects_to_review(world.users["clinician"])[1] == 1
    with django_assert_num_queries(0):
        assert selectors.side_effects_to_review(world.users[role]) == ([], 0)


def test_side_effects_to_review_and_their_patients_cost_one_query(world, django_assert_num_queries):
    """Ten reports are read with their patients' names and record numbers in one query, nothing per row."""
    for hours in range(10):
        _reported(world.same_clinic_patient, SideEffectKind.NECK_PAIN, hours_ago=hours)
    with django_assert_num_queries(1):
        listed, total = selectors.side_effects_to_review(world.users["nurse"])
        shown = [(e.patient.family_name, e.patient.record_number, e.get_kind_display(), e.onset) for e in listed]
    assert len(shown) == total == 10


def test_a_backlog_lists_the_first_reports_and_counts_them_all(world, django_assert_num_queries):
    """Past the limit the list stops (urgent and latest first) and the count still gives every report, in the same
    one query: a backlog of old reports cannot bury the worklist."""
    for hours in range(6):
        _reported(world.same_clinic_patient, SideEffectKind.NECK_PAIN, hours_ago=hours + 1)
    urgent = _reported(world.own_patient, SideEffectKind.DYSPHAGIA, hours_ago=100)
    with django_assert_num_queries(1):
        listed, total = selectors.side_effects_to_review(world.users["nurse"], limit=3)
    assert len(listed) == 3
    assert listed[0].pk == urgent.pk
    assert total == 7


# --- The contraindication questions -----------------------------------------------------------------------------


def test_one_unanswered_contraindication_question_is_named_alone(patient):
    """With infection answered no and hypersensitivity never asked, the check is "not answered" for hypersensitivity
    alone."""
    patient.hypersensitivity_to_botulinum_toxin = None
    patient.save()
    check = checks_for(patient).contraindication
    assert (check.passed, check.not_answered) == (
        None,
        "not answered: hypersensitivity — ask before injecting",
    )


def test_the_check_names_every_contraindication_question_of_the_engine():
    """The check has a name for exactly the engine's contraindication items (``CONTRAINDICATION_ITEMS``), so a
    contraindication added to the safety screen cannot go unnamed, nor a former one linger here."""
    assert set(selectors.CONTRAINDICATION_QUESTIONS) == set(CONTRAINDICATION_ITEMS)


@pytest.mark.parametrize("code", CONTRAINDICATION_ITEMS)
def test_each_unanswered_engine_contraindication_is_not_answered(patient, code):
    """Every item the engine counts as a contraindication, left unanswered alone, makes the check "not answered"
    for that question (neither passed nor failed)."""
    setattr(patient, code.value, None)
    patient.save()
    check = checks_for(patient).contraindication
    question = str(selectors.CONTRAINDICATION_QUESTIONS[code])
    expected = selectors.CONTRAINDICATION_NOT_ANSWERED.format(questions=question)
    assert (check.passed, check.not_answered) == (None, expected)


def test_what_is_not_answered_follows_the_engines_contraindications(patient, monkeypatch):
    """The check asks the engine which items are contraindications: were pregnancy one, its unanswered question
    would make the check "not answered" (named by its item) rather than passed."""
    patient.pregnant = None
    patient.save()
    monkeypatch.setattr(selectors, "CONTRAINDICATION_ITEMS", (*CONTRAINDICATION_ITEMS, FindingCode.PREGNANT))
    check = checks_for(patient).contraindication
    expected = selectors.CONTRAINDICATION_NOT_ANSWERED.format(questions="pregnant")
    assert (check.passed, check.not_answered) == (None, expected)


def test_other_unanswered_questions_pass_with_caution(patient):
    """Both contraindication questions answered no: other unanswered questions leave the check passed, with caution."""
    patient.pregnant = None
    patient.save()
    check = checks_for(patient).contraindication
    assert (check.passed, check.not_answered, check.tone) == (True, "", "warn")


def test_a_contraindication_fails_even_with_the_other_question_unanswered(patient):
    """An infection at the injection sites fails the check (an override is needed) though hypersensitivity was never
    asked: the block is not softened to "not answered"."""
    patient.injection_site_infection = True
    patient.hypersensitivity_to_botulinum_toxin = None
    patient.save()
    check = checks_for(patient).contraindication
    assert (check.failed, check.not_answered) == (True, "")


# --- What to weigh before injecting -----------------------------------------------------------------------------


def _warnings(checks):
    return {warning.code: warning for warning in checks.warnings}


def test_before_a_first_session_an_eligibility_not_established_is_shown(patient):
    """No diary before a first session: the chronic-migraine verdict (not enough data) and the label criteria are
    shown with the engine's reasons, as the patient page judges them, and block nothing."""
    checks = checks_for(patient)
    warnings = _warnings(checks)
    assessment = patient_pathway_state(patient, DAY).assessment
    chronic = warnings[selectors.WarningCode.CHRONIC_MIGRAINE]
    assert (chronic.label, chronic.reasons) == ("not enough data", assessment.chronic_migraine.reasons)
    assert chronic.title == "chronic migraine (ICHD-3 1.3) before the first session"
    label = warnings[selectors.WarningCode.LABEL_CRITERIA]
    assert (label.label, label.reasons) == ("not enough data", assessment.label_criteria.reasons)
    assert checks.failing == ()


def test_an_eligible_patient_has_no_eligibility_warning(patient):
    """Three chronic periods before a first session: chronic migraine yes and the label met, so nothing is shown."""
    store(patient, chronic_rows())
    assert checks_for(patient, day=DIARY_DAY).warnings == ()


def test_a_nice_stop_is_shown_on_the_next_session(nurse, patient):
    """Fewer than 30 % fewer headache days at week 24 shows NICE TA260's "stop suggested" with its reason on the next
    session's screen; recording is not blocked by it."""
    day0 = days_before(170)
    store(patient, course_rows(day0, 20, 19, 19, 18, 18, 18, 18))
    for day in (day0, day0 + dt.timedelta(days=84)):
        record(user=nurse, patient=patient, date=day, today=DIARY_DAY)
    checks = checks_for(patient, day=DIARY_DAY)
    nice = _warnings(checks)[selectors.WarningCode.NICE_TA260]
    assert nice.label == "stop suggested"
    assert nice.reasons[0].startswith("NICE TA260 1.2: headache days from 20 at baseline to 18 at week 24")
    assert nice.reasons[0].endswith("(< 30 %)")
    assert checks.failing == ()


def _stop_suggested_at_week24(nurse, patient):
    """Two cycles and week 24 (ended 3 days before ``DIARY_DAY``) under 30 % fewer headache days: NICE TA260's stop."""
    day0 = days_before(170)
    store(patient, course_rows(day0, 20, 19, 19, 18, 18, 18, 18))
    for day in (day0, day0 + dt.timedelta(days=84)):
        record(user=nurse, patient=patient, date=day, today=DIARY_DAY)
    return day0


def _decide(world, patient, decision, *, on, reason):
    """A clinician's decision recorded through the outcomes service, and the name the screen gives them."""
    clinician = world.users["clinician"]
    treatment_decision_record(
        user=clinician, patient=patient, decision=decision, reason=reason, decided_on=on, today=DIARY_DAY
    )
    return clinician.get_full_name() or clinician.username


def test_a_nice_stop_nobody_answered_is_a_plain_warning(nurse, patient):
    """With no decision on record, NICE TA260's stop shows in the warning tone with the engine's reasons alone."""
    _stop_suggested_at_week24(nurse, patient)
    nice = _warnings(checks_for(patient, day=DIARY_DAY))[selectors.WarningCode.NICE_TA260]
    pathway = patient_pathway_state(patient, DIARY_DAY)
    assert (nice.label, nice.tone, nice.reasons) == ("stop suggested", "warn", pathway.outcomes.nice_ta260.reasons)


def test_a_continue_answering_the_nice_stop_is_shown_beside_it_in_a_calmer_tone(world, nurse, patient):
    """A clinician's "continue" made after week 24 answers its stop as the pathway says: the warning stays (the
    engine's verdict is unchanged), names the decision after the engine's reasons, and is shown without alarm."""
    _stop_suggested_at_week24(nurse, patient)
    decided_on = DIARY_DAY - dt.timedelta(days=1)
    reason = "HIT-6 much better; patient wishes to go on"
    name = _decide(world, patient, Decision.CONTINUE, on=decided_on, reason=reason)
    checks = checks_for(patient, day=DIARY_DAY)
    warnings = _warnings(checks)
    nice = warnings[selectors.WarningCode.NICE_TA260]
    engine = patient_pathway_state(patient, DIARY_DAY).outcomes.nice_ta260
    line = f"Continued against the stopping rule on {decided_on.isoformat()} by {name}: {reason}"
    assert (nice.label, nice.tone, nice.reasons) == ("stop suggested", "", (*engine.reasons, line))
    assert selectors.WarningCode.TREATMENT_STOPPED not in warnings
    assert checks.failing == ()


def test_a_continue_before_week_24_does_not_answer_its_stop(world, nurse, patient):
    """A "continue" decided before week 24 ended did not see its result: the stop warning stays as it was."""
    day0 = _stop_suggested_at_week24(nurse, patient)
    _decide(world, patient, Decision.CONTINUE, on=day0 + dt.timedelta(days=100), reason="tolerating it well")
    nice = _warnings(checks_for(patient, day=DIARY_DAY))[selectors.WarningCode.NICE_TA260]
    assert nice.tone == "warn"
    assert not any("Continued against the stopping rule" in reason for reason in nice.reasons)


def test_a_decision_to_stop_is_a_check_on_the_session_screen(world, nurse, patient):
    """A stop on record is a failed check naming who stopped treatment, when and why: recording asks a clinician's
    override reason (``CLINICIAN_OVERRIDES``), and no warning repeats it; a session on a day before the decision
    does not show it."""
    _stop_suggested_at_week24(nurse, patient)
    decided_on = DIARY_DAY - dt.timedelta(days=1)
    name = _decide(world, patient, Decision.STOP, on=decided_on, reason="no benefit; patient agrees to stop")
    checks = checks_for(patient, day=DIARY_DAY)
    line = f"Treatment stopped on {decided_on.isoformat()} by {name}: no benefit; patient agrees to stop"
    (stopped,) = checks.failing
    assert (stopped.code, stopped.title, stopped.tone, stopped.reasons) == (
        CheckCode.STOP_DECISION,
        "decision to stop treatment",
        "bad",
        (line,),
    )
    assert checks.clinician_only == (stopped,)
    assert selectors.WarningCode.TREATMENT_STOPPED not in _warnings(checks)
    earlier = checks_for(patient, day=decided_on - dt.timedelta(days=1))
    assert CheckCode.STOP_DECISION not in earlier.failing_codes


def test_the_label_not_met_before_a_first_session_is_a_check(patient):
    """Before a first session, the label criteria not met (three complete episodic periods: chronic migraine no) fail
    a check with the engine's reasons, which only a clinician may override; chronic migraine stays a warning beside
    it, and not enough data to judge the label stays a warning (``test_before_a_first_session_...``)."""
    store(patient, episodic_rows())
    checks = checks_for(patient, day=DIARY_DAY)
    assessment = patient_pathway_state(patient, DIARY_DAY).assessment
    (label,) = checks.failing
    assert (label.code, label.reasons) == (CheckCode.LABEL_NOT_MET, assessment.label_criteria.reasons)
    assert checks.clinician_only == (label,)
    assert set(_warnings(checks)) == {selectors.WarningCode.CHRONIC_MIGRAINE}


URGENT_LINE = (
    "Trouble swallowing, started 2025-12-12: graded severe on review, related to treatment: possible distant "
    "spread of toxin effect (BOTOX boxed warning)"
)


def test_an_urgent_related_side_effect_since_the_last_session_is_shown(nurse, patient):
    """Trouble swallowing graded severe and related since the last session is shown with its boxed warning, and
    mild neck pain not reviewed yet beside it (the injector weighs every one); one judged unrelated and one before
    the last session are not."""
    record(user=nurse, patient=patient, date=DAY - dt.timedelta(days=90), today=DAY)

    def effect(kind, days_ago, severity, **review):
        onset = DAY - dt.timedelta(days=days_ago)
        return SideEffect.objects.create(patient=patient, kind=kind, onset=onset, severity=severity, **review)

    effect(SideEffectKind.DYSPHAGIA, 80, Severity.MODERATE, clinician_grade=Severity.SEVERE, related_to_treatment=True)
    effect(SideEffectKind.BREATHING, 70, Severity.SEVERE, clinician_grade=Severity.SEVERE, related_to_treatment=False)
    effect(SideEffectKind.DIPLOPIA, 100, Severity.SEVERE)
    effect(SideEffectKind.NECK_PAIN, 60, Severity.MILD)
    warning = _warnings(checks_for(patient))[selectors.WarningCode.SIDE_EFFECTS]
    assert warning.label == "urgent"
    neck = (
        "Neck pain, started 2026-01-01: reported as mild, not graded by a clinician yet, relation to treatment not "
        "judged yet"
    )
    assert warning.reasons == (URGENT_LINE, neck)


def test_only_a_clinicians_not_related_takes_a_side_effect_off_the_session_screen(nurse, patient, world):
    """Trouble breathing a nurse has called not related to treatment (after a clinician left its relation
    unjudged) stays among the session screen's side effects, saying the clinician has not confirmed it; once a
    clinician calls it not related, it is gone."""
    session = record(user=nurse, patient=patient, date=DAY - dt.timedelta(days=90), today=DAY)
    effect = services.side_effect_report(
        user=world.users["patient"],
        patient=patient,
        kind=SideEffectKind.BREATHING,
        onset=DAY - dt.timedelta(days=70),
        severity=Severity.SEVERE,
        today=DAY,
    )
    clinician = world.users["clinician"]
    review = {"side_effect": effect, "grade": Severity.SEVERE, "session": session}
    services.side_effect_review(user=clinician, related_to_treatment=None, **review)
    services.side_effect_review(user=nurse, related_to_treatment=False, **review)
    warning = _warnings(checks_for(patient))[selectors.WarningCode.SIDE_EFFECTS]
    assert warning.label == "urgent"
    (line,) = warning.reasons
    assert line.startswith("Trouble breathing, started 2025-12-22: graded severe by ")
    assert selectors.SIDE_EFFECT_NOT_RELATED_UNCONFIRMED in line
    services.side_effect_review(user=clinician, related_to_treatment=False, reason="a chest infection", **review)
    assert selectors.WarningCode.SIDE_EFFECTS not in _warnings(checks_for(patient))


@pytest.mark.parametrize(
    ("grades", "label", "tone"),
    [
        ((Severity.MILD,), "mild", ""),
        ((Severity.MILD, Severity.MODERATE), "moderate", "warn"),
        ((Severity.MODERATE, Severity.SEVERE), "severe", "warn"),
    ],
)
def test_side_effects_of_any_grade_since_the_last_session_are_shown_headed_by_the_most_serious(
    nurse, patient, grades, label, tone
):
    """A drooping eyelid or neck weakness of any grade, not reviewed yet, is what the injector weighs before the
    next session (where and how much to inject): every one is listed, headed by the most serious grade; a mild one
    alone is shown without alarm."""
    record(user=nurse, patient=patient, date=DAY - dt.timedelta(days=90), today=DAY)
    for days_ago, grade in zip((60, 50, 40), grades, strict=False):
        onset = DAY - dt.timedelta(days=days_ago)
        SideEffect.objects.create(patient=patient, kind=SideEffectKind.EYELID_PTOSIS, onset=onset, severity=grade)
    warning = _warnings(checks_for(patient))[selectors.WarningCode.SIDE_EFFECTS]
    assert (warning.label, warning.tone, len(warning.reasons)) == (label, tone, len(grades))


def test_a_severe_side_effect_not_yet_graded_is_shown_as_reported(nurse, patient):
    """Neck pain the patient called severe, not reviewed yet, is shown as the patient reported it."""
    record(user=nurse, patient=patient, date=DAY - dt.timedelta(days=90), today=DAY)
    onset = DAY - dt.timedelta(days=85)
    SideEffect.objects.create(patient=patient, kind=SideEffectKind.NECK_PAIN, onset=onset, severity=Severity.SEVERE)
    warning = _warnings(checks_for(patient))[selectors.WarningCode.SIDE_EFFECTS]
    expected = (
        "Neck pain, started 2025-12-07: reported as severe, not graded by a clinician yet, relation to treatment "
        "not judged yet"
    )
    assert (warning.label, warning.reasons) == ("severe", (expected,))


def test_the_warnings_cost_a_fixed_number_of_queries(nurse, patient, django_assert_num_queries):
    """The pathway and the side effects are read once each, however many diary days and side effects there are."""
    store(patient, chronic_rows())
    for days_ago in range(5):
        onset = DIARY_DAY - dt.timedelta(days=days_ago)
        SideEffect.objects.create(patient=patient, kind=SideEffectKind.DIPLOPIA, onset=onset, severity=Severity.MILD)
    with django_assert_num_queries(4):  # sessions, diary, prior authorisations, side effects
        warnings = selectors.session_warnings(patient, day=DIARY_DAY)
    assert len(warnings[0].reasons) == 5


# --- Prior authorisation ------------------------------------------------------------------------------------------


def _prior_authorisation(patient, day=DAY):
    return checks_for(patient, day=day).prior_authorisation


def test_without_insurance_whether_an_approval_is_needed_is_not_known(patient):
    """No insurance recorded: the prior-authorisation check says so as a warning; it neither passes nor fails, so
    recording needs no override (as an unanswered safety question)."""
    check = _prior_authorisation(patient)
    expected = "no insurance recorded: whether the payer asks for prior authorisation is not known"
    assert (check.passed, check.tone, check.not_answered, check.reasons) == (None, "warn", expected, (expected,))
    assert CheckCode.PRIOR_AUTHORISATION not in checks_for(patient).failing_codes


def test_an_ended_approval_fails_naming_its_end_and_the_renewal_awaiting_the_payer(patient):
    """The approval ended the day before the session and the continuation request awaits the payer: the check fails
    naming the end date and the request (demo patient 10's story)."""
    insure(patient)
    authorisation(
        patient,
        status="approved",
        requested_on=DAY - dt.timedelta(days=200),
        decided_on=DAY - dt.timedelta(days=190),
        approved_from=DAY - dt.timedelta(days=190),
        approved_until=DAY - dt.timedelta(days=1),
    )
    authorisation(patient, status="requested", requested_on=DAY - dt.timedelta(days=3), stage="continuation")
    check = _prior_authorisation(patient)
    assert check.failed
    assert check.reasons == (
        (
            "no prior authorisation is in force on 2026-03-02: the last approval ended on 2026-03-01; the "
            "continuation request of 2026-02-27 awaits the payer's answer"
        ),
    )


def test_no_request_under_a_payers_policy_fails(patient):
    """Insurance under a commercial payer's policy and no request recorded: failed, "no request recorded"."""
    insure(patient)
    check = _prior_authorisation(patient)
    assert check.failed
    assert check.reasons == ("no prior authorisation is in force on 2026-03-02: no request recorded",)


def test_an_approval_starting_after_the_session_day_does_not_cover_it(patient):
    """Approved from the week after the session: not in force on its day, the start named."""
    insure(patient, "us-medicare-a")
    start = DAY + dt.timedelta(days=7)
    authorisation(
        patient,
        status="approved",
        requested_on=DAY - dt.timedelta(days=3),
        decided_on=DAY,
        approved_from=start,
        policy_id="us-medicare-a",
    )
    assert _prior_authorisation(patient).reasons == (
        "no prior authorisation is in force on 2026-03-02: the approval starts on 2026-03-09",
    )
    assert _prior_authorisation(patient, day=start).reasons == (
        "approval in force on 2026-03-09: from 2026-03-09, no end date given",
    )


@pytest.mark.parametrize(
    ("policy_id", "kind"),
    [("nice-ta260", "a guideline"), ("botox-label", "the drug's label"), ("ahs-2021", "a consensus statement")],
)
def test_policies_that_are_not_a_payers_ask_for_no_approval(patient, policy_id, kind):
    """A guideline, the label or a consensus statement asks for no prior authorisation (their files have no
    ``[prior_authorisation]``): the check passes with no request, saying why."""
    insurance = insure(patient, policy_id)
    check = _prior_authorisation(patient)
    assert check.passed
    title = shipped_policy(insurance.policy_id).title
    assert check.reasons == (f"{title}, {kind}, asks for no prior authorisation",)


def _site(patient, site):
    Clinic.objects.filter(pk=patient.clinic_id).update(site_of_service=site)


def test_medicare_asks_for_no_approval_in_a_physicians_office(patient):
    """Medicare's prior authorisation is for hospital outpatient departments (Noridian JE): a Medicare patient of a
    clinic that is a physician's office needs none, and the check passes saying so and where one is asked for."""
    insure(patient, "us-medicare-a")
    _site(patient, SiteOfService.OFFICE)
    check = _prior_authorisation(patient)
    assert check.passed
    title = shipped_policy("us-medicare-a").title
    assert check.reasons == (
        f"{title} asks for no prior authorisation in a physician's office (only in a hospital outpatient department)",
    )
    assert CheckCode.PRIOR_AUTHORISATION not in checks_for(patient).failing_codes


def test_medicare_in_a_hospital_outpatient_department_asks_for_an_approval(patient):
    """The same Medicare patient, their clinic a hospital outpatient department (the default), fails without an
    approval: no request recorded."""
    insure(patient, "us-medicare-a")
    check = _prior_authorisation(patient)
    assert check.failed
    assert check.reasons == ("no prior authorisation is in force on 2026-03-02: no request recorded",)


@pytest.mark.parametrize("site", [SiteOfService.OFFICE, SiteOfService.HOSPITAL_OUTPATIENT])
def test_a_commercial_payer_asks_for_an_approval_at_either_site(patient, site):
    """A commercial payer's policy asks for prior authorisation in an office and a hospital outpatient department
    alike: without a request the check fails at either."""
    insure(patient, "us-commercial-b")
    _site(patient, site)
    check = _prior_authorisation(patient)
    assert check.failed
    assert check.reasons == ("no prior authorisation is in force on 2026-03-02: no request recorded",)


def test_a_policy_no_longer_shipped_is_not_known(patient):
    """Insurance naming a policy file no longer shipped: whether it asks for an approval is not known (a warning)."""
    insure(patient, "us-commercial-retired")
    check = _prior_authorisation(patient)
    assert check.passed is None
    assert check.reasons == (
        (
            "the insurance's policy 'us-commercial-retired' is not shipped: whether the payer asks for prior "
            "authorisation is not known"
        ),
    )
