"""Coverage selectors: evidence from the patient's rows, prices in force on a day, cost and approvals."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from onaboard.clinical import RETREATMENT_INTERVAL_DAYS, UNITS_PER_SITE, CoverageStatus, CriterionOutcome, Stage
from onaboard.clinical.coverage import ICD10_INTRACTABLE
from onaboard.policies import shipped_policies
from onaboard.web.accounts.models import Clinic, SiteOfService
from onaboard.web.clinic.demo import record_preempt_session
from onaboard.web.coverage.models import (
    ICD10_CHRONIC_MIGRAINE,
    AuthorisationStatus,
    ClinicPrice,
    PatientInsurance,
    PriceItem,
    PriorAuthorisation,
)
from onaboard.web.coverage.selectors import (
    AMBIGUOUS_RECORD_NUMBER,
    ASSUME_PLANNED_DATE_DUE,
    ASSUME_PLANNED_DATE_OVERDUE,
    ASSUME_PRICES_ON,
    ASSUME_TERMS_AFTER_SESSION,
    ASSUME_TERMS_AFTER_SESSIONS,
    ASSUME_TERMS_AS_OF,
    ASSUME_TERMS_CHECK_DAY,
    ASSUME_TERMS_NOT_TAKEN_OFF,
    ASSUME_TERMS_PLAN_YEAR,
    ASSUME_UNITS_LAST,
    ASSUME_UNITS_LAST_RESTORED,
    NO_POLICY,
    NO_PRICE,
    NO_SUCH_PATIENT,
    SHARE_BEFORE_CHECK,
    ApprovalAnswers,
    ApprovalNeed,
    CoverageUnavailableError,
    NextSession,
    add_months,
    approval_answers,
    approval_end,
    approval_on,
    approval_state,
    approval_states,
    booking_ahead,
    coverage_evaluation,
    coverage_evidence,
    next_treatment,
    patient_by_identifier,
    patient_cost,
    patient_facts,
    planned_date,
    policy_by_id,
    price_in_force,
    price_list,
    session_claim_overrides,
)
from onaboard.web.patients.models import PreventiveClass, PreventiveTrial, StopReason
from tests.web.factories import PatientFactory

WEEKS = RETREATMENT_INTERVAL_DAYS // 7
"""The engine's retreatment interval in weeks, as the planning notes state it."""

pytestmark = pytest.mark.django_db


def test_an_eligible_patient_with_three_failed_preventives_is_approvable_under_a_commercial_policy(
    world, eligible, today
):
    """Three chronic periods, three failed classes and a clear safety screen meet every initial criterion of
    us-commercial-a except what the record cannot show, and the evidence names the numbers."""
    view = coverage_evaluation(
        user=world.users["billing"], patient=eligible, today=today, policy_id="us-commercial-a", stage="initial"
    )
    by_key = {c.key: c for c in view.evaluation.criteria}
    assert by_key["initial.age"].outcome is CriterionOutcome.MET
    assert by_key["initial.prior_preventives"].outcome is CriterionOutcome.MET
    assert any("topiramate" in line for line in by_key["initial.prior_preventives"].evidence)
    assert view.evaluation.stage is Stage.INITIAL
    assert "planned dose: 155 U, the PREEMPT fixed-site dose" in view.assumptions


def test_an_unrecorded_preventive_history_is_missing_information_not_a_failure(world, eligible, today):
    """Without any preventive recorded the criterion lacks information rather than failing."""
    PreventiveTrial.objects.filter(patient=eligible).delete()
    view = coverage_evaluation(
        user=world.users["billing"], patient=eligible, today=today, policy_id="us-commercial-a", stage="initial"
    )
    by_key = {c.key: c for c in view.evaluation.criteria}
    assert by_key["initial.prior_preventives"].outcome is CriterionOutcome.MISSING_INFORMATION
    assert view.evaluation.status is CoverageStatus.INFORMATION_MISSING


def _erenumab(patient, **fields):
    return PreventiveTrial.objects.create(
        patient=patient, drug="erenumab", drug_class=PreventiveClass.CGRP_MAB, **fields
    )


def test_a_stored_cgrp_antibody_still_taken_reaches_the_engine_as_current(world, eligible, today):
    """The stored class ``cgrp_monoclonal_antibody`` is the engine's ``cgrp_mab``; an ongoing one is current use."""
    _erenumab(eligible, start=today - timedelta(days=60), stop_reason=StopReason.ONGOING)
    view = coverage_evaluation(
        user=world.users["billing"], patient=eligible, today=today, policy_id="us-commercial-a", stage="initial"
    )
    evidence = " ".join(line for c in view.evaluation.criteria for line in c.evidence)
    assert "erenumab" in evidence


def test_a_contraindicated_cgrp_antibody_is_not_current_use(world, eligible, today):
    """A CGRP antibody recorded as contraindicated was never given: it is not current use (which a policy forbidding
    the combination would hold against the request), and the evidence says "contraindicated", not a date range."""
    _erenumab(eligible, start=today - timedelta(days=100), stop_reason=StopReason.CONTRAINDICATED)
    facts = patient_facts(eligible, today=today)
    evidence, _ = coverage_evidence(facts, Stage.INITIAL, policy_id="us-commercial-a")
    assert evidence.current_cgrp_mab == ()
    described = [trial.describe(today) for trial in evidence.preventive_trials if trial.drug == "erenumab"]
    assert described == ["erenumab, contraindicated"]


def test_without_policy_or_insurance_the_evaluation_is_refused(world, eligible, today):
    """No policy asked for and none in the insurance: refused with the reason."""
    with pytest.raises(CoverageUnavailableError, match=NO_POLICY):
        coverage_evaluation(user=world.users["billing"], patient=eligible, today=today)


def test_an_unknown_policy_is_refused_naming_the_known_ones(world, eligible, today):
    """An unknown id is refused with the shipped ids listed."""
    with pytest.raises(CoverageUnavailableError, match=r"no-such-policy.*nice-ta260"):
        coverage_evaluation(user=world.users["billing"], patient=eligible, today=today, policy_id="no-such-policy")


def test_the_treated_patient_defaults_to_the_continuation_stage_with_the_response_judged(world, treated):
    """After sessions the continuation stage is judged: cycles given and the response at week 24 are met."""
    view = coverage_evaluation(user=world.users["clinician"], patient=treated.patient, today=treated.today)
    by_key = {c.key: c for c in view.evaluation.criteria}
    assert view.evaluation.stage is Stage.CONTINUATION
    assert by_key["continuation.response"].outcome is CriterionOutcome.MET


# --- Prices and cost ----------------------------------------------------------------------------------------------


def test_the_price_in_force_is_the_latest_set_on_or_before_the_day(world, today):
    """An older price applies before a newer one's date; a price set for tomorrow does not apply today."""
    for days_ago, amount in ((100, "6.512"), (10, "6.506"), (-1, "7.000")):
        ClinicPrice.objects.create(
            clinic=world.clinic,
            item=PriceItem.DRUG_PER_UNIT,
            amount=Decimal(amount),
            set_on=today - timedelta(days=days_ago),
        )
    assert price_in_force(world.clinic, PriceItem.DRUG_PER_UNIT, today).amount == Decimal("6.506")
    assert price_in_force(world.clinic, PriceItem.DRUG_PER_UNIT, today - timedelta(days=50)).amount == Decimal("6.512")
    assert price_in_force(world.clinic, PriceItem.DRUG_PER_UNIT, today - timedelta(days=200)) is None
    assert price_in_force(world.other_clinic, PriceItem.DRUG_PER_UNIT, today) is None


def test_a_price_list_needs_the_unit_and_administration_prices(world, today):
    """Without the price per unit and the administration the list is refused naming both."""
    with pytest.raises(CoverageUnavailableError) as refused:
        price_list(world.clinic, today)
    assert str(refused.value) == NO_PRICE.format(
        item="the price per unit (J0585) and the administration (CPT 64615)", day=today.isoformat()
    )


def test_the_next_session_costs_given_and_discarded_units_administration_and_visit_with_the_share(world, treated):
    """155 + 45 U at $6.506, $250 for 64615 and $120 for the visit make $1,671.20; $500 deductible then 20 % of
    $1,171.20 is a $734.24 share, all paid by the savings programme's $1,000."""
    view = patient_cost(user=world.users["billing"], patient=treated.patient, today=treated.today)
    cost = view.planned
    assert cost is not None
    assert [(line.code, line.quantity, line.amount) for line in cost.lines] == [
        ("64615", 1, Decimal("250.00")),
        ("J0585", 155, Decimal("1008.43")),
        ("J0585-JW", 45, Decimal("292.77")),
        ("visit", 1, Decimal("120.00")),
    ]
    assert cost.total == Decimal("1671.20")
    assert cost.share.deductible == Decimal("500.00")
    assert cost.share.coinsurance == Decimal("234.24")
    assert cost.share.savings_programme == Decimal("734.24")
    assert cost.share.patient_pays == Decimal("0.00")
    assert cost.share.insurer_pays == Decimal("936.96")
    assert any(note.startswith("J0585 at $6.506 per unit (price set ") for note in cost.assumptions)


def test_an_approval_ending_before_the_planned_date_is_warned_about_in_the_cost(world, treated):
    """The initial approval ends 20 days from today, before the next session is due: the cost still works out the
    payer's part but says, among its assumptions, that no approval is in force on the planned date and when the last
    one ended; a continuation approved from the day after takes the warning away."""
    end = treated.today + timedelta(days=20)
    due = treated.sessions[-1].date + timedelta(days=RETREATMENT_INTERVAL_DAYS)
    view = patient_cost(user=world.users["billing"], patient=treated.patient, today=treated.today)
    expected = (
        "the patient's and the insurer's shares assume the payer pays its part, but no prior authorisation is in "
        f"force on {due}, the planned date: the last approval ended on {end}"
    )
    assert view.approval_warning == expected
    assert expected in view.assumptions
    assert view.planned.share.insurer_pays == Decimal("936.96")
    PriorAuthorisation.objects.create(
        patient=treated.patient,
        stage="continuation",
        policy_id="us-commercial-a",
        diagnosis_code="G43.719",
        requested_on=treated.today - timedelta(days=5),
        status=AuthorisationStatus.APPROVED,
        decided_on=treated.today,
        approved_from=end + timedelta(days=1),
        approved_until=end + timedelta(days=365),
    )
    view = patient_cost(user=world.users["billing"], patient=treated.patient, today=treated.today)
    assert view.approval_warning == ""
    assert not any("prior authorisation" in note for note in view.assumptions)


def test_a_medicare_patient_of_a_physicians_office_has_no_approval_warning_in_the_cost(world, treated):
    """Under Medicare, which asks for prior authorisation in a hospital outpatient department only, the ended
    approval is warned about while the clinic is one, and not once the clinic is a physician's office."""
    PatientInsurance.objects.filter(patient=treated.patient).update(policy_id="us-medicare-a")
    view = patient_cost(user=world.users["billing"], patient=treated.patient, today=treated.today)
    assert view.approval_warning.startswith("the patient's and the insurer's shares assume the payer pays its part")
    Clinic.objects.filter(pk=world.clinic.pk).update(site_of_service=SiteOfService.OFFICE)
    view = patient_cost(user=world.users["billing"], patient=treated.patient, today=treated.today)
    assert view.approval_warning == ""
    assert not any("prior authorisation" in note for note in view.assumptions)
    assert view.planned.share.insurer_pays > 0


def test_the_cost_of_a_patient_whose_request_was_denied_names_the_denial(world, eligible, today):
    """An untreated patient of a commercial payer whose only request was denied: the next session (today) is
    priced with the warning naming the denied request and the day of the denial."""
    PatientInsurance.objects.create(patient=eligible, policy_id="us-commercial-c", terms_as_of=today)
    requested, denied = today - timedelta(days=15), today - timedelta(days=5)
    PriorAuthorisation.objects.create(
        patient=eligible,
        policy_id="us-commercial-c",
        diagnosis_code="G43.719",
        requested_on=requested,
        status=AuthorisationStatus.DENIED,
        decided_on=denied,
    )
    view = patient_cost(user=world.users["billing"], patient=eligible, today=today)
    assert view.approval_warning.endswith(
        f"force on {today}, the planned date: the payer denied the initial request of {requested} on {denied}"
    )


def test_the_cost_under_a_guideline_or_without_insurance_has_no_approval_warning(world, eligible, today):
    """NICE TA260 (the NHS asks for no prior authorisation) and a patient with no insurance recorded: no warning
    (without insurance the share is not worked out at all, and the cost says so)."""
    assert patient_cost(user=world.users["billing"], patient=eligible, today=today).approval_warning == ""
    PatientInsurance.objects.create(patient=eligible, policy_id="nice-ta260", terms_as_of=today)
    assert patient_cost(user=world.users["billing"], patient=eligible, today=today).approval_warning == ""


def test_a_year_carries_the_deductible_and_savings_from_session_to_session(world, treated):
    """Four sessions: the deductible is met once and the savings programme's $1,000 runs out in the second, so the
    patient pays $68.48 then $334.24 twice: $736.96."""
    view = patient_cost(user=world.users["billing"], patient=treated.patient, today=treated.today)
    assert view.sessions_per_year == 4
    assert view.year.total == Decimal("6684.80")
    assert view.year.share.savings_programme == Decimal("1000.00")
    assert view.year.share.patient_pays == Decimal("736.96")


def test_recorded_sessions_are_priced_at_the_prices_in_force_on_their_day(world, treated):
    """A price set after the first session does not change that session's figure."""
    ClinicPrice.objects.create(
        clinic=world.clinic,
        item=PriceItem.ADMINISTRATION,
        amount=Decimal("300"),
        set_on=treated.sessions[1].date,
    )
    view = patient_cost(user=world.users["billing"], patient=treated.patient, today=treated.today)
    by_date = {row.session.date: row.cost for row in view.recorded}
    first = by_date[treated.sessions[0].date]
    second = by_date[treated.sessions[1].date]
    assert first.total == Decimal("1671.20")
    assert second.total == Decimal("1721.20")


def test_the_next_session_and_the_year_are_priced_on_the_planned_date_not_today(world, treated):
    """A price set from a day after today but before the planned session (the due date) prices that session and
    the year; the view names the day whose prices it used."""
    due = treated.sessions[-1].date + timedelta(days=84)
    ClinicPrice.objects.create(
        clinic=world.clinic, item=PriceItem.ADMINISTRATION, amount=Decimal("300"), set_on=treated.today + timedelta(1)
    )
    view = patient_cost(user=world.users["billing"], patient=treated.patient, today=treated.today)
    assert view.priced_on == due
    assert view.planned.total == Decimal("1721.20")
    assert view.year.total == Decimal("6884.80")
    assert ASSUME_PRICES_ON.format(day=due.isoformat()) in view.assumptions
    assert ASSUME_PLANNED_DATE_DUE.format(day=due.isoformat(), weeks=WEEKS) in view.assumptions


def test_a_price_set_after_the_planned_date_does_not_price_the_next_session(world, treated):
    """A price that takes effect only after the planned session leaves its figure at the price in force then, and
    the year's too: every session of the year is priced with the planned date's prices, not those of its day."""
    due = treated.sessions[-1].date + timedelta(days=84)
    ClinicPrice.objects.create(
        clinic=world.clinic, item=PriceItem.ADMINISTRATION, amount=Decimal("300"), set_on=due + timedelta(1)
    )
    view = patient_cost(user=world.users["billing"], patient=treated.patient, today=treated.today)
    assert view.planned.total == Decimal("1671.20")
    assert view.year.total == 4 * Decimal("1671.20")


def test_without_prices_the_cost_says_why_it_has_no_figures(world, eligible, today):
    """No price set: the cost view carries the reason and no figures."""
    ClinicPrice.objects.all().delete()
    view = patient_cost(user=world.users["billing"], patient=eligible, today=today)
    assert view.planned is None
    assert view.year is None
    assert view.problem.startswith("The clinic has not set a price for the price per unit (J0585)")


def _dale(second_due, *, checked_on):
    """Demo patient Dale's terms ($1,500 deductible, 20 %, $1,000 of savings) checked on ``checked_on``, and a
    session recorded today after the one 88 days ago; the next is due in 12 weeks."""
    PatientInsurance.objects.filter(patient=second_due.patient).update(
        deductible_remaining=Decimal("1500"),
        savings_programme="manufacturer savings programme (demo)",
        savings_remaining=Decimal("1000"),
        terms_as_of=checked_on,
    )
    return record_preempt_session(second_due.patient, second_due.today, injector=None, today=second_due.today)


def test_a_session_recorded_since_the_terms_were_checked_is_taken_off_before_the_next_session(world, second_due):
    """Terms checked today, a $1,671.20 session recorded today: it used the $1,500 deductible and the $1,000 of
    savings (the patient paid $534.24), so the session booked 12 weeks later costs the patient 20 %, $334.24, and
    the notes say after which session (the one 88 days ago, before the check, is already in the terms checked)."""
    today = second_due.today
    _dale(second_due, checked_on=today)
    view = patient_cost(user=world.users["billing"], patient=second_due.patient, today=today)
    share = view.planned.share
    assert (share.deductible, share.coinsurance, share.savings_programme, share.patient_pays) == (
        Decimal("0.00"),
        Decimal("334.24"),
        Decimal("0.00"),
        Decimal("334.24"),
    )
    assert "deductible: $0.00 applied of $0.00 remaining" in view.planned.assumptions
    assert view.terms_counted == (today,)
    day = today.isoformat()
    assert ASSUME_TERMS_AFTER_SESSION.format(day=day, session=day) in view.assumptions
    assert ASSUME_TERMS_CHECK_DAY.format(session=day) in view.assumptions
    assert ASSUME_TERMS_PLAN_YEAR in view.assumptions
    assert ASSUME_TERMS_AS_OF.format(day=day) not in view.assumptions
    recorded = {row.session.date: row.cost.share for row in view.recorded}
    assert recorded[today].patient_pays == Decimal("534.24")  # the first since the check: the terms as checked
    assert recorded[second_due.day0] is None  # before the check: already counted in the terms checked


def test_the_year_starts_from_the_terms_left_after_the_sessions_since_the_check(world, second_due):
    """The year's first session is the next one: with the deductible and savings used, four sessions at 20 %."""
    _dale(second_due, checked_on=second_due.today - timedelta(days=3))
    view = patient_cost(user=world.users["billing"], patient=second_due.patient, today=second_due.today)
    assert view.year.share.deductible == Decimal("0.00")
    assert view.year.share.patient_pays == 4 * Decimal("334.24")
    assert ASSUME_TERMS_CHECK_DAY.format(session=second_due.today.isoformat()) not in view.assumptions


def test_sessions_since_the_check_are_taken_off_in_date_order(world, treated):
    """Terms checked on the second of three sessions ($500 deductible, 20 %, $1,000 of savings): the second uses
    the deductible and $734.24 of savings, the third the $265.76 left, so the next session's patient pays $334.24,
    as the third session of a year from the check would; the note names both sessions."""
    second, third = treated.sessions[1].date, treated.sessions[2].date
    PatientInsurance.objects.filter(patient=treated.patient).update(terms_as_of=second)
    view = patient_cost(user=world.users["billing"], patient=treated.patient, today=treated.today)
    assert view.terms_counted == (second, third)
    assert view.planned.share.patient_pays == Decimal("334.24")
    assert view.planned.share.savings_programme == Decimal("0.00")
    sessions = f"{second.isoformat()} and {third.isoformat()}"
    assert ASSUME_TERMS_AFTER_SESSIONS.format(day=second.isoformat(), sessions=sessions) in view.assumptions
    assert ASSUME_TERMS_CHECK_DAY.format(session=second.isoformat()) in view.assumptions


def test_without_a_session_since_the_check_the_next_session_has_the_terms_as_checked(world, treated):
    """Terms checked today after the last session: the amounts as checked, the note as before."""
    view = patient_cost(user=world.users["billing"], patient=treated.patient, today=treated.today)
    assert view.terms_counted == ()
    assert view.planned.share.deductible == Decimal("500.00")
    assert ASSUME_TERMS_AS_OF.format(day=treated.today.isoformat()) in view.assumptions
    assert ASSUME_TERMS_PLAN_YEAR not in view.assumptions


def test_a_session_since_the_check_that_cannot_be_priced_is_named_as_not_taken_off(world, treated):
    """A session since the check whose sites make no plan (a vial size the label does not have) cannot say what it
    used: it is left out, and the note says the amounts left may be less than shown."""
    from onaboard.web.injections.models import InjectionSession

    second, third = treated.sessions[1].date, treated.sessions[2].date
    InjectionSession.objects.filter(pk=treated.sessions[1].pk).update(vial_units=150)
    PatientInsurance.objects.filter(patient=treated.patient).update(terms_as_of=second)
    view = patient_cost(user=world.users["billing"], patient=treated.patient, today=treated.today)
    assert view.terms_counted == (third,)
    assert ASSUME_TERMS_NOT_TAKEN_OFF.format(session=second.isoformat()) in view.assumptions
    assert view.planned.share.savings_programme == Decimal("265.76")


def test_each_recorded_session_since_the_check_pays_from_what_the_one_before_left(world, treated):
    """Terms checked on the second of three sessions ($500 deductible, 20 %, $1,000 of savings): the second's patient
    pays $0.00 (the deductible and $234.24 of coinsurance, all paid by the savings programme), the third $68.48
    (20 %, less the $265.76 of savings left), never the whole deductible again; the first, before the check, has no
    share, and says why."""
    first, second, third = (session.date for session in treated.sessions)
    PatientInsurance.objects.filter(patient=treated.patient).update(terms_as_of=second)
    view = patient_cost(user=world.users["billing"], patient=treated.patient, today=treated.today)
    rows = {row.session.date: row for row in view.recorded}
    assert [row.session.date for row in view.recorded] == [third, second, first]  # newest first, as listed
    assert (rows[second].cost.share.deductible, rows[second].cost.share.patient_pays) == (
        Decimal("500.00"),
        Decimal("0.00"),
    )
    assert (rows[third].cost.share.deductible, rows[third].cost.share.patient_pays) == (
        Decimal("0.00"),
        Decimal("68.48"),
    )
    assert rows[first].cost.total == Decimal("1671.20")
    assert rows[first].cost.share is None
    assert rows[first].share_unknown == SHARE_BEFORE_CHECK.format(day=second.isoformat())
    assert (rows[second].share_unknown, rows[third].share_unknown) == ("", "")
    assert view.planned.share.patient_pays == Decimal("334.24")  # after the third, as before


# --- Approvals ----------------------------------------------------------------------------------------------------


def test_a_request_awaiting_the_payer_marks_the_patient_pending_and_an_answer_clears_it(world, eligible, today):
    """``approval_answers`` holds a patient with a request still awaiting the answer as pending, and only then; once
    the latest request is denied it gives the day of the answer, until a later request replaces it."""
    request = PriorAuthorisation.objects.create(
        patient=eligible, policy_id="us-commercial-a", diagnosis_code="G43.709", requested_on=today
    )
    ids = [eligible.pk, world.own_patient.pk]
    assert approval_answers(ids) == ApprovalAnswers(frozenset({eligible.pk}), {})
    request.status = AuthorisationStatus.DENIED
    request.decided_on = today
    request.save()
    assert approval_answers(ids) == ApprovalAnswers(frozenset(), {eligible.pk: today})
    PriorAuthorisation.objects.create(
        patient=eligible,
        policy_id="us-commercial-a",
        diagnosis_code="G43.709",
        requested_on=today,
        status=AuthorisationStatus.APPROVED,
    )
    assert approval_answers(ids) == ApprovalAnswers(frozenset(), {})


def test_an_approval_in_force_shows_its_renewal_due_30_days_before_it_ends(world, treated):
    """The approval covering today is current; its renewal falls due 30 days before its last day."""
    state = approval_state(treated.patient, treated.today)
    assert state.current is not None
    assert state.renewal_due == state.current.approved_until - timedelta(days=30)
    assert state.renewal_overdue


def test_months_are_added_on_the_calendar_and_an_approval_ends_the_day_before():
    """31 January + 1 month is 28 February (29 in a leap year); 6 months from 1 March ends on 31 August."""
    from datetime import date

    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert approval_end(date(2026, 3, 1), 6) == date(2026, 8, 31)


def test_an_approval_starting_late_in_a_month_keeps_its_days():
    """One month from 28, 29, 30 or 31 January ends on 27, 28, 28 and 28 February (not all on the 27th); twelve
    months from 29 February 2028 end on 28 February 2029."""
    from datetime import date

    ends = [approval_end(date(2026, 1, day), 1) for day in (28, 29, 30, 31)]
    assert ends == [date(2026, 2, 27), date(2026, 2, 28), date(2026, 2, 28), date(2026, 2, 28)]
    assert approval_end(date(2028, 2, 29), 12) == date(2029, 2, 28)
    assert approval_end(date(2026, 1, 30), 2) == date(2026, 3, 29)


# --- The command line's patient -----------------------------------------------------------------------------------


def test_a_patient_is_found_by_public_id_or_record_number(world):
    """Either the UUID or the record number names the patient."""
    patient = world.same_clinic_patient
    assert patient_by_identifier(str(patient.external_id)) == patient
    assert patient_by_identifier(patient.record_number) == patient


def test_an_unknown_or_ambiguous_record_number_is_refused(world):
    """A record number nobody has, or one used in two clinics, is refused with the reason."""
    with pytest.raises(CoverageUnavailableError, match=NO_SUCH_PATIENT.format(identifier="NOPE")):
        patient_by_identifier("NOPE")
    PatientFactory(clinic=world.other_clinic, record_number=world.same_clinic_patient.record_number)
    with pytest.raises(CoverageUnavailableError) as refused:
        patient_by_identifier(world.same_clinic_patient.record_number)
    assert str(refused.value) == AMBIGUOUS_RECORD_NUMBER.format(
        identifier=world.same_clinic_patient.record_number,
        count=2,
        clinics="North Headache Clinic, South Headache Clinic",
    )


def test_the_cost_of_a_patients_sessions_takes_the_same_queries_however_many_there_are(world, treated):
    """Each recorded session is priced from one read of the price history and its prefetched sites (a 42-session
    patient took 189 queries: its sites and three prices per session)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from onaboard.web.injections.models import InjectionSession, SessionStatus

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            patient_cost(user=world.users["billing"], patient=treated.patient, today=treated.today)
        return len(captured)

    three = queries()
    InjectionSession.objects.filter(pk__in=[s.pk for s in treated.sessions[1:]]).update(status=SessionStatus.CANCELLED)
    assert queries() == three


# --- The planned date ---------------------------------------------------------------------------------------------


def test_an_overdue_patient_is_planned_for_today_not_for_the_due_date_that_has_passed(world, treated):
    """When 12 weeks after the last session is already past, the next session can be today at the earliest: the
    evidence's planned date (which the interval criterion judges) is today, and the note says the due date passed."""
    later = treated.today + timedelta(days=100)
    due = treated.sessions[-1].date + timedelta(days=84)
    facts = patient_facts(treated.patient, today=later)
    day, note = planned_date(facts)
    assert day == later
    assert note == ASSUME_PLANNED_DATE_OVERDUE.format(day=later.isoformat(), due=due.isoformat(), weeks=WEEKS)
    assert f"{due.isoformat()}, {WEEKS} weeks after the last session, has passed" in note
    evidence, notes = coverage_evidence(facts, Stage.CONTINUATION, policy_id="us-commercial-a")
    assert evidence.planned_date == later
    assert note in notes


def test_a_patient_not_yet_due_is_planned_for_the_due_date(world, treated):
    """Before 12 weeks have passed the planned date is the due date, 12 weeks after the last session."""
    due = treated.sessions[-1].date + timedelta(days=84)
    day, note = planned_date(patient_facts(treated.patient, today=treated.today))
    assert (day, note) == (due, ASSUME_PLANNED_DATE_DUE.format(day=due.isoformat(), weeks=WEEKS))
    assert f"({WEEKS} weeks after the last session)" in note


def test_the_planning_notes_take_the_interval_and_the_dose_per_site_from_the_engine():
    """The planned-date and restored-dose notes type no number: the weeks and the units per site are the engine's
    (``RETREATMENT_INTERVAL_DAYS``, ``UNITS_PER_SITE``), filled in when the note is written."""
    for message in (ASSUME_PLANNED_DATE_DUE, ASSUME_PLANNED_DATE_OVERDUE, ASSUME_UNITS_LAST_RESTORED):
        assert re.search(r"\d", message) is None, message
    assert "{weeks} weeks" in ASSUME_PLANNED_DATE_DUE
    assert "{weeks} weeks" in ASSUME_PLANNED_DATE_OVERDUE
    assert "{units_per_site} U each" in ASSUME_UNITS_LAST_RESTORED


# --- The planned dose ---------------------------------------------------------------------------------------------


def test_the_next_session_is_planned_as_the_last_one_with_its_fixed_sites_not_given_added_back(world, treated):
    """A last session that left the third right trapezius site out (150 U at 30 sites) plans the next one as the
    paradigm it was meant to be, 155 U at 31 sites with nothing left out, priced and judged at 155 U, and the
    assumption names the site added back; a complete last session is planned as it was."""
    last = treated.sessions[-1]
    complete = patient_facts(treated.patient, today=treated.today)
    assert (complete.plan.total_units, complete.plan.is_standard) == (155, True)
    assert ASSUME_UNITS_LAST.format(units=155, day=last.date.isoformat()) in complete.assumptions
    last.sites.filter(muscle="trapezius", side="right").order_by("pk").last().delete()
    facts = patient_facts(treated.patient, today=treated.today)
    assert (facts.plan.total_units, facts.plan.site_count, facts.plan.not_given) == (155, 31, ())
    assert facts.plan.is_standard
    restored = ASSUME_UNITS_LAST_RESTORED.format(
        units=155, day=last.date.isoformat(), names="trapezius right 3", units_per_site=UNITS_PER_SITE
    )
    assert facts.assumptions == (restored,)
    assert restored.endswith(f"(trapezius right 3) added back at {UNITS_PER_SITE} U each")
    assert coverage_evidence(facts, Stage.CONTINUATION, policy_id="us-commercial-a")[0].planned_units == 155


def test_the_prior_authorisation_letter_screens_safety_for_the_planned_date_not_a_past_one(world, treated):
    """The letter's safety screen is for the planned date (today for an overdue patient), never a day gone by."""
    from onaboard.web.coverage.documents import DocumentKind, document_context

    later = treated.today + timedelta(days=100)
    context = document_context(DocumentKind.PRIOR_AUTH, patient=treated.patient, today=later)
    assert context["safety_on"] == later


def _request(patient, today, *, days_ago: int, status=AuthorisationStatus.APPROVED, start=None, end=None, **fields):
    """A request made ``days_ago`` days before ``today`` (under us-commercial-a unless ``policy_id`` says); approved
    ones run from ``start`` to ``end`` (days from today)."""
    approved = status == AuthorisationStatus.APPROVED
    fields.setdefault("policy_id", "us-commercial-a")
    return PriorAuthorisation.objects.create(
        patient=patient,
        diagnosis_code="G43.719",
        requested_on=today - timedelta(days=days_ago),
        status=status,
        decided_on=today - timedelta(days=days_ago - 2) if status != AuthorisationStatus.REQUESTED else None,
        approved_from=today + timedelta(days=start) if approved and start is not None else None,
        approved_until=today + timedelta(days=end) if approved and end is not None else None,
        **fields,
    )


def test_a_denied_latest_request_is_part_of_the_approval_state(world, eligible, today):
    """The payer's denial of the latest request is in the state (the pages say "denied on"), and a later request
    replaces it."""
    denied = _request(eligible, today, days_ago=10, status=AuthorisationStatus.DENIED)
    state = approval_state(eligible, today)
    assert state.denied == denied
    assert state.current is None
    _request(eligible, today, days_ago=1, status=AuthorisationStatus.REQUESTED)
    assert approval_state(eligible, today).denied is None


def test_an_approval_that_ended_is_named_when_none_is_in_force(world, eligible, today):
    """An approval whose last day was yesterday is the ended one, with none in force; none ended while one is."""
    ended = _request(eligible, today, days_ago=200, start=-190, end=-1)
    state = approval_state(eligible, today)
    assert (state.current, state.ended) == (None, ended)
    assert state.renewal_due is None
    _request(eligible, today, days_ago=5, start=0, end=180)
    assert approval_state(eligible, today).ended is None


def test_an_approval_starting_later_is_the_upcoming_one(world, eligible, today):
    """An approval whose first day is after today is not in force but is the upcoming one."""
    upcoming = _request(eligible, today, days_ago=3, start=10, end=190)
    state = approval_state(eligible, today)
    assert state.current is None
    assert state.upcoming == upcoming


def test_renewal_is_not_due_when_a_later_approval_continues_the_current_one(world, treated):
    """A continuation approved from the day after the current approval ends continues it: no renewal is due, and
    the state names the approval that continues it."""
    state = approval_state(treated.patient, treated.today)
    assert state.renewal_overdue
    end = state.current.approved_until
    later = _request(
        treated.patient, treated.today, days_ago=2, start=(end - treated.today).days + 1, end=300, stage="continuation"
    )
    state = approval_state(treated.patient, treated.today)
    assert state.continued_by == later
    assert state.renewal_due is None
    assert not state.renewal_overdue


def test_renewal_is_pending_not_due_while_a_request_awaits_the_payer(world, treated):
    """With a continuation request awaiting the payer the renewal is pending, not flagged as due."""
    _request(treated.patient, treated.today, days_ago=1, status=AuthorisationStatus.REQUESTED, stage="continuation")
    state = approval_state(treated.patient, treated.today)
    assert state.renewal_pending
    assert state.renewal_due is None
    assert not state.renewal_overdue


def test_a_stale_request_made_before_the_current_approval_does_not_hold_off_the_renewal(world, treated):
    """A request still marked awaiting the payer but made before the approval in force was requested is not its
    renewal: the renewal is still flagged as due."""
    state = approval_state(treated.patient, treated.today)
    stale_days_ago = (treated.today - state.current.requested_on).days + 5
    _request(treated.patient, treated.today, days_ago=stale_days_ago, status=AuthorisationStatus.REQUESTED)
    state = approval_state(treated.patient, treated.today)
    assert not state.renewal_pending
    assert state.renewal_overdue
    assert state.renewal_due == state.current.approved_until - timedelta(days=30)


def test_an_approval_running_to_the_last_representable_day_does_not_break_the_approval_state(world, treated):
    """An approval stored as running to 31 December 9999 beside an earlier approval is read without overflowing
    (the patient pages answered 500 for good): it is current and nothing continues it."""
    from datetime import date

    PriorAuthorisation.objects.create(
        patient=treated.patient,
        policy_id="us-commercial-a",
        diagnosis_code="G43.719",
        requested_on=treated.today - timedelta(days=2),
        status=AuthorisationStatus.APPROVED,
        decided_on=treated.today - timedelta(days=1),
        approved_from=treated.today - timedelta(days=1),
        approved_until=date.max,
    )
    state = approval_state(treated.patient, treated.today)
    assert state.current.approved_until == date.max
    assert state.continued_by is None


def test_an_approval_length_running_past_the_last_representable_day_ends_on_it():
    """Six months from 1 December 9999 cannot be written as a date: the approval ends on the last one there is
    instead of failing the save."""
    from datetime import date

    assert approval_end(date(9999, 12, 1), 6) == date.max


def test_the_attestations_come_from_a_request_under_the_policy_evaluated(world, treated):
    """The clinician's attestations are read from the latest request of the stage under the policy being
    evaluated: a later request to another payer, attesting what this one's did not, does not answer for it."""
    facts = patient_facts(treated.patient, today=treated.today)
    own = _request(treated.patient, treated.today, days_ago=3, status=AuthorisationStatus.REQUESTED)
    own.stage, own.prescriber_attests_benefit = "continuation", False
    own.save()
    other = _request(treated.patient, treated.today, days_ago=1, status=AuthorisationStatus.REQUESTED)
    other.stage, other.policy_id, other.prescriber_attests_benefit = "continuation", "us-medicare-a", True
    other.save()
    evidence, _notes = coverage_evidence(facts, Stage.CONTINUATION, policy_id="us-commercial-a")
    assert evidence.prescriber_attests_benefit is False
    evidence, _notes = coverage_evidence(facts, Stage.CONTINUATION, policy_id="us-medicare-a")
    assert evidence.prescriber_attests_benefit is True


def test_a_duplicate_of_the_approved_request_still_awaiting_the_payer_is_not_a_renewal(world, treated):
    """A copy of the approved initial request (same day, same stage, left awaiting the payer after a double
    submission) does not mark the renewal pending: the renewal stays due."""
    state = approval_state(treated.patient, treated.today)
    current = state.current
    _request(
        treated.patient,
        treated.today,
        days_ago=(treated.today - current.requested_on).days,
        status=AuthorisationStatus.REQUESTED,
    )
    state = approval_state(treated.patient, treated.today)
    assert not state.renewal_pending
    assert state.renewal_due == current.approved_until - timedelta(days=30)


def test_an_initial_request_made_after_the_approval_started_counts_as_its_renewal(world, treated):
    """A request made after the current approval started is its renewal even when recorded as an initial one."""
    _request(treated.patient, treated.today, days_ago=1, status=AuthorisationStatus.REQUESTED, stage="initial")
    state = approval_state(treated.patient, treated.today)
    assert state.renewal_pending
    assert state.renewal_due is None


def test_a_missed_booking_is_not_the_planned_date_and_moved_later_it_is(world, treated):
    """A missed booking (its day passed, no session recorded) is not the planned date: the engine's due date is;
    moved to a later day (a patient has one open booking, ``one_open_booking_per_patient``), that day is."""
    from onaboard.web.injections.models import InjectionSession, SessionStatus

    booking = InjectionSession.objects.create(
        patient=treated.patient, date=treated.today - timedelta(days=5), status=SessionStatus.BOOKED
    )
    due = treated.sessions[-1].date + timedelta(days=84)
    assert planned_date(patient_facts(treated.patient, today=treated.today))[0] == due
    InjectionSession.objects.filter(pk=booking.pk).update(date=treated.today + timedelta(days=10))
    facts = patient_facts(treated.patient, today=treated.today)
    assert planned_date(facts)[0] == treated.today + timedelta(days=10)


def test_the_open_booking_is_the_earliest_on_or_after_today():
    """``booking_ahead``: a booking before today was missed and is skipped; one on today counts."""
    from datetime import date

    today = date(2026, 4, 20)
    assert booking_ahead([date(2026, 3, 30)], today=today) is None
    assert booking_ahead([date(2026, 5, 1), date(2026, 3, 30), today], today=today) == today


def test_week_24_is_named_only_when_it_ends_after_the_renewal_date(world, treated):
    """The treated patient's week 24 ended before the renewal date: nothing to add; moved after it (first session
    later), the approval state names the last day of week 24's period."""
    assert approval_state(treated.patient, treated.today).week24_ends is None
    for session in treated.sessions[:2]:  # cancelled: the third session becomes the first
        session.status = "cancelled"
        session.save()
    first = treated.sessions[2].date
    state = approval_state(treated.patient, treated.today)
    assert state.renewal_due < first + timedelta(days=6 * 28 - 1)
    assert state.week24_ends == first + timedelta(days=6 * 28 - 1)


def test_the_week_24_letter_day_is_the_day_after_week_24_and_needs_an_extension_from_the_approvals_end(world, treated):
    """With week 24 ending after the renewal date, a continuation letter can show its response from the day after;
    an approval ending on that day or earlier is flagged for an extension, one ending the day after it is not."""
    for session in treated.sessions[:2]:  # cancelled: the third session becomes the first
        session.status = "cancelled"
        session.save()
    letter_from = treated.sessions[2].date + timedelta(days=6 * 28)
    current = approval_state(treated.patient, treated.today).current
    for until, needs_extension in ((letter_from, True), (letter_from + timedelta(days=1), False)):
        current.approved_until = until
        current.save()
        state = approval_state(treated.patient, treated.today)
        assert state.week24_letter_from == letter_from
        assert state.week24_after_approval is needs_extension


# --- The stage due and the diagnosis code ---------------------------------------------------------------------


def test_one_session_given_defaults_to_the_initial_stage_under_the_insurance_policy(world, second_due):
    """The stage a page judges by default is the engine's ``stage_due`` under the policy evaluated: initial with one
    session under us-commercial-a (continuation after 2 cycles), so no "cycles given" criterion refuses the patient;
    the facts say the same per policy."""
    view = coverage_evaluation(user=world.users["billing"], patient=second_due.patient, today=second_due.today)
    assert view.evaluation.stage is Stage.INITIAL
    assert "continuation.after_cycles" not in [c.key for c in view.evaluation.criteria]
    facts = patient_facts(second_due.patient, today=second_due.today)
    assert [facts.stage_due(policy) for policy in (policy_by_id("nice-ta260"), policy_by_id("botox-label"))] == [
        Stage.INITIAL,
        Stage.INITIAL,
    ]


def test_three_sessions_given_default_to_continuation(world, treated):
    """With three sessions given a policy judging continuation after 2 cycles is asked for continuation."""
    facts = patient_facts(treated.patient, today=treated.today)
    assert facts.stage_due(policy_by_id("us-commercial-a")) is Stage.CONTINUATION
    assert facts.stage_due(policy_by_id("botox-label")) is Stage.INITIAL  # no continuation criteria


@pytest.mark.parametrize(
    ("code", "outcome"),
    [("G43.709", CriterionOutcome.NOT_MET), ("G43.E19", CriterionOutcome.MET)],
)
def test_the_diagnosis_code_of_the_request_under_the_policy_is_the_evidence_of_intractability(
    world, eligible, today, code, outcome
):
    """Medicare's intractability criterion reads the diagnosis code of the latest initial request under Medicare:
    G43.709 (not intractable) fails it, G43.E19 meets it; a request to another payer does not answer for it, and
    with none the code is missing."""
    facts = patient_facts(eligible, today=today)
    evidence, _notes = coverage_evidence(facts, Stage.INITIAL, policy_id="us-medicare-a")
    assert evidence.diagnosis_code is None
    PriorAuthorisation.objects.create(
        patient=eligible, policy_id="us-medicare-a", diagnosis_code=code, requested_on=today - timedelta(days=2)
    )
    PriorAuthorisation.objects.create(
        patient=eligible, policy_id="us-commercial-a", diagnosis_code="G43.711", requested_on=today
    )
    evidence, _notes = coverage_evidence(facts, Stage.INITIAL, policy_id="us-medicare-a")
    assert evidence.diagnosis_code == code
    view = coverage_evaluation(
        user=world.users["billing"], patient=eligible, today=today, policy_id="us-medicare-a", stage="initial"
    )
    result = view.evaluation.criterion("initial.diagnosis.intractable")
    assert result.outcome is outcome
    assert result.evidence[0].startswith(f"diagnosis code on the request: {code} (")


def test_the_request_forms_codes_are_the_engines_and_agree_on_intractability():
    """The prior-authorisation form offers exactly the codes the engine reads, and each label says "intractable"
    or "not intractable" as the engine does."""
    assert set(ICD10_CHRONIC_MIGRAINE) == set(ICD10_INTRACTABLE)
    for code, label in ICD10_CHRONIC_MIGRAINE.items():
        assert (", intractable," in str(label)) is ICD10_INTRACTABLE[code], code


def test_an_approval_under_the_patients_earlier_insurance_covers_nothing_under_the_new_one(world, treated):
    """The patient moved from a commercial plan to Medicare (seen in a hospital outpatient department, where Medicare
    asks for an approval): the commercial payer's approval in force is no longer the current one anywhere (the
    coverage page, the worklist's states, the session screen's check), and each says which approval it was and why
    it does not count; back under the first policy it is in force again."""
    patient, today = treated.patient, treated.today
    in_force = approval_state(patient, today).current
    assert in_force is not None
    assert in_force.policy_id == "us-commercial-a"
    Clinic.objects.filter(pk=patient.clinic_id).update(site_of_service=SiteOfService.HOSPITAL_OUTPATIENT)
    PatientInsurance.objects.filter(patient=patient).update(policy_id="us-medicare-a")
    state = approval_state(patient, today)
    assert state.current is None
    assert state.earlier_policy == in_force
    assert state.renewal_due is None
    assert approval_states([patient.pk], today=today).states[patient.pk].current is None
    need = approval_on(patient, today)
    assert need.need == ApprovalNeed.MISSING
    assert "was given under" in need.reason
    assert shipped_policies()["us-commercial-a"].title in need.reason
    assert shipped_policies()["us-medicare-a"].title in need.reason
    PatientInsurance.objects.filter(patient=patient).update(policy_id="us-commercial-a")
    assert approval_state(patient, today).current == in_force


def test_the_worklist_reads_only_the_requests_made_under_the_insurance_now(world, treated):
    """A denial and a request awaiting an earlier payer's answer are not this payer's: the worklist's seams (denied,
    pending) leave them out, as ``approval_states`` does; a patient without insurance keeps all their requests."""
    patient, today = treated.patient, treated.today
    _request(patient, today, days_ago=3, status=AuthorisationStatus.DENIED)
    _request(patient, today, days_ago=1, status=AuthorisationStatus.REQUESTED)
    assert patient.pk in approval_answers([patient.pk]).pending
    PatientInsurance.objects.filter(patient=patient).update(policy_id="us-medicare-a")
    for answers in (approval_answers([patient.pk]), approval_states([patient.pk], today=today).answers):
        assert answers == ApprovalAnswers(frozenset(), {})
    PatientInsurance.objects.filter(patient=patient).delete()
    assert patient.pk in approval_answers([patient.pk]).pending


def test_a_request_only_to_an_earlier_payer_is_not_read_as_no_request_at_all(world, eligible, today):
    """Requests made under another policy than the insurance's now, none approved: the session screen's reason says
    none was made under this policy (not "no request recorded")."""
    Clinic.objects.filter(pk=eligible.clinic_id).update(site_of_service=SiteOfService.HOSPITAL_OUTPATIENT)
    PatientInsurance.objects.create(patient=eligible, policy_id="us-medicare-a", terms_as_of=today)
    _request(eligible, today, days_ago=3, status=AuthorisationStatus.DENIED)  # under us-commercial-a
    need = approval_on(eligible, today)
    assert need.need == ApprovalNeed.MISSING
    assert "no request made under" in need.reason
    assert "no request recorded" not in need.reason


def test_the_next_treatment_is_due_since_a_day_gone_by_once_that_day_has_passed():
    """``next_treatment``: the next due date 84 days after the last session is DUE on or after today and DUE_SINCE
    once it is before today (one rule for the after-care sheet and the portal); a later session given, or a booking
    ahead, comes first; nothing given and nothing booked is None."""
    last = date(2026, 1, 5)
    due = last + timedelta(days=84)
    on_due = next_treatment([last], [], today=due)
    assert (on_due.date, on_due.kind) == (due, NextSession.DUE)
    late = next_treatment([last], [], today=due + timedelta(days=1))
    assert (late.date, late.kind) == (due, NextSession.DUE_SINCE)
    booked = next_treatment([last], [due + timedelta(days=9)], today=due + timedelta(days=1))
    assert booked.kind is NextSession.BOOKED
    given = next_treatment([last, due], [], today=due + timedelta(days=100), after=last)
    assert (given.date, given.kind) == (due, NextSession.GIVEN)
    assert next_treatment([], [], today=due) is None


# --- A session's overrides that bear on its claim ----------------------------------------------------------------


def test_a_sessions_claim_overrides_are_the_interval_and_the_approval_with_the_records_figures(treated):
    """Of the checks a session overrode, the claim turns on the 12-week interval and the prior authorisation: the
    interval names each recorded session closer than 84 days (before and after), the approval whether one covers
    the session's day; the cumulative-dose and site-dose overrides are not among them, and the reasons stored with
    the session are never read."""
    first, second, third = treated.sessions
    second.date = treated.day0 + timedelta(days=80)
    second.overridden_checks = "cumulative_dose,interval,site_dose,prior_authorisation"
    second.check_reasons = "interval: stored text\nprior_authorisation: stored text"
    second.save()
    third.date = second.date + timedelta(days=83)
    third.save()
    found = session_claim_overrides(second)
    assert [item.title for item in found] == ["12-week interval", "prior authorisation"]
    apart = f"(at least {RETREATMENT_INTERVAL_DAYS} days apart)"
    assert found[0].figures == (
        f"given 80 days after the session of {first.date.isoformat()} {apart}",
        f"83 days before the session of {third.date.isoformat()} {apart}",
    )
    assert found[1].figures[0].startswith(f"approval in force on {second.date.isoformat()}")
    assert "stored text" not in " ".join(found[0].figures + found[1].figures)


def test_an_interval_override_whose_sessions_are_now_far_enough_apart_gives_its_title_alone(treated):
    """A session recorded with the interval overridden whose close neighbour has since been moved keeps the
    override's title, with no interval figure the record no longer shows; a session overriding no claim check has
    none."""
    second = treated.sessions[1]
    second.overridden_checks = "interval"
    second.save()
    found = session_claim_overrides(second, recorded_days=[s.date for s in treated.sessions])
    assert [(item.title, item.figures) for item in found] == [("12-week interval", ())]
    assert session_claim_overrides(treated.sessions[0]) == []


def _continuation_in_force(treated) -> PriorAuthorisation:
    """An approved continuation request of ten days ago, in force from five days ago for 200 days: the approval a
    copy of its request, or its renewal, is about."""
    return _request(treated.patient, treated.today, days_ago=10, start=-5, end=200, stage=Stage.CONTINUATION.value)


def test_an_open_copy_of_the_approved_continuation_request_does_not_hold_off_its_renewal(world, treated):
    """A copy of the approved continuation request (same day, left awaiting the payer after a double submission) is
    not its renewal: the renewal still falls due 30 days before the approval ends, instead of "renewal pending" for
    the whole approval."""
    current = _continuation_in_force(treated)
    _request(
        treated.patient,
        treated.today,
        days_ago=10,
        status=AuthorisationStatus.REQUESTED,
        stage=Stage.CONTINUATION.value,
    )
    for state in (
        approval_state(treated.patient, treated.today),
        approval_states([treated.patient.pk], today=treated.today).states[treated.patient.pk],
    ):
        assert state.current == current
        assert not state.renewal_pending
        assert state.renewal_due == current.approved_until - timedelta(days=30)


def test_a_continuation_request_made_the_day_after_the_approved_one_is_its_renewal(world, treated):
    """The same request dated the day after the approved continuation's request renews it: the renewal is pending,
    not due."""
    current = _continuation_in_force(treated)
    renewal = _request(
        treated.patient, treated.today, days_ago=9, status=AuthorisationStatus.REQUESTED, stage=Stage.CONTINUATION.value
    )
    state = approval_state(treated.patient, treated.today)
    assert state.current == current
    assert state.renewal_pending
    assert state.pending == renewal
    assert state.renewal_due is None


def test_an_approval_stays_with_the_payer_and_member_id_it_was_given_to_under_the_same_policy(world, treated):
    """The policy file is shared by two employers' plans: a request kept with the payer and member id of the
    insurance it was made under covers no session once the insurance names another payer under the same policy
    (the page, the worklist, the session screen's check and the reason all say whose approval it was); retyped with
    other spacing or letter case, the same payer's approval is in force again."""
    patient, today = treated.patient, treated.today
    PriorAuthorisation.objects.filter(patient=patient).update(payer="Example Health Plan", member_id="EHP-0042")
    in_force = approval_state(patient, today).current
    assert in_force is not None
    PatientInsurance.objects.filter(patient=patient).update(payer="Fabrikam Health", member_id="FH-77")
    state = approval_state(patient, today)
    assert state.current is None
    assert (state.earlier_policy, state.earlier_payer) == (in_force, True)
    assert state.renewal_due is None
    batch = approval_states([patient.pk], today=today)
    assert batch.states[patient.pk].current is None
    assert not batch.covers(patient.pk, today)
    need = approval_on(patient, today)
    assert need.need == ApprovalNeed.MISSING
    assert (
        "was given to Example Health Plan, member id EHP-0042, not to the patient's insurance now (Fabrikam Health, "
        "member id FH-77)"
    ) in need.reason
    PatientInsurance.objects.filter(patient=patient).update(payer=" example  health plan", member_id="ehp-0042")
    assert approval_state(patient, today).current == in_force


def test_a_request_kept_without_a_payer_is_matched_on_its_policy_alone(world, treated):
    """A request recorded before the payer and member id were kept (both empty) still covers the session under the
    same policy whatever payer the insurance names now, as before; a member id kept alone must match."""
    patient, today = treated.patient, treated.today
    in_force = approval_state(patient, today).current
    assert (in_force.payer, in_force.member_id) == ("", "")
    PatientInsurance.objects.filter(patient=patient).update(payer="Fabrikam Health", member_id="FH-77")
    assert approval_state(patient, today).current == in_force
    assert approval_on(patient, today).need == ApprovalNeed.IN_FORCE
    PriorAuthorisation.objects.filter(pk=in_force.pk).update(member_id="EHP-0042")
    assert approval_state(patient, today).current is None


def _medicare_continuation(treated, *, days_ago: int, **fields) -> PriorAuthorisation:
    """A continuation request under Medicare (whose response is the prescriber's judgement of benefit) made
    ``days_ago`` days before today, the prescriber attesting benefit."""
    return _request(
        treated.patient,
        treated.today,
        days_ago=days_ago,
        stage=Stage.CONTINUATION.value,
        policy_id="us-medicare-a",
        prescriber_attests_benefit=True,
        **fields,
    )


def _benefit(world, treated):
    view = coverage_evaluation(
        user=world.users["clinician"],
        patient=treated.patient,
        today=treated.today,
        policy_id="us-medicare-a",
        stage="continuation",
    )
    return view.evaluation.criterion("continuation.response")


def test_last_years_attestation_of_benefit_does_not_carry_this_years_continuation(world, treated):
    """The prescriber's judgement of benefit on the continuation request of 60 days ago answers for it while it
    awaits the payer (the evidence names its day); once that request's approval has begun, the attestation was for
    it, not for its renewal: the response is missing information naming both days, until a later request attests
    again."""
    today = treated.today
    _request(treated.patient, today, days_ago=230, start=-220, end=-31, policy_id="us-medicare-a")
    asked = _medicare_continuation(treated, days_ago=60, status=AuthorisationStatus.REQUESTED)
    result = _benefit(world, treated)
    asked_on = (today - timedelta(days=60)).isoformat()
    assert result.outcome is CriterionOutcome.MET
    assert result.evidence[-1] == f"prescriber reports clinical benefit (attested on the request of {asked_on})"
    PriorAuthorisation.objects.filter(pk=asked.pk).update(
        status=AuthorisationStatus.APPROVED,
        decided_on=today - timedelta(days=31),
        approved_from=today - timedelta(days=30),
        approved_until=today + timedelta(days=335),
    )
    result = _benefit(world, treated)
    start = (today - timedelta(days=30)).isoformat()
    assert result.outcome is CriterionOutcome.MISSING_INFORMATION
    assert result.evidence[-1] == (
        f"prescriber's judgement of benefit not recorded since the approval from {start} began: the attestation on "
        f"the request of {asked_on} was made for that approval, not for its renewal"
    )
    _medicare_continuation(treated, days_ago=1, status=AuthorisationStatus.REQUESTED)
    result = _benefit(world, treated)
    assert result.outcome is CriterionOutcome.MET
    assert result.evidence[-1].endswith(f"(attested on the request of {(today - timedelta(days=1)).isoformat()})")
