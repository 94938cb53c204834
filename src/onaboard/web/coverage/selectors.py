"""Reading what coverage and cost need: the patient's data as engine evidence, the prices in force, the approvals.

No rule lives here. The coverage verdicts are ``onaboard.clinical.evaluate_coverage`` against a shipped policy, the
diary verdicts ``assess`` and ``treatment_outcomes``, the plan ``preempt_plan`` (or the recorded sites), the money
``session_cost`` and ``year_cost``. This module loads the rows, turns them into engine values, says which
assumptions it made in doing so (a planned date, the planned dose), and records each read in the audit trail.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db.models import F, QuerySet
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from onaboard.clinical import (
    FIXED_DOSE_UNITS,
    RETREATMENT_INTERVAL_DAYS,
    UNITS_PER_SITE,
    Assessment,
    BenefitTerms,
    CostError,
    CoverageEvaluation,
    CoverageEvidence,
    CoveragePolicy,
    InjectionPlan,
    Outcomes,
    PatientDiary,
    PlanError,
    PolicyKind,
    Price,
    PriceList,
    SessionCost,
    SiteOfService,
    Stage,
    YearCost,
    assess,
    eligibility_day,
    evaluate_coverage,
    interval_check,
    preempt_plan,
    schedule_status,
    session_cost,
    treatment_outcomes,
    week24_last_day,
    year_cost,
)
from onaboard.clinical import PreventiveTrial as EnginePreventiveTrial
from onaboard.clinical import StopReason as EngineStopReason
from onaboard.clinical import approval_length as engine_approval_length
from onaboard.clinical.cost import SessionGiven, TermsLeft, terms_left
from onaboard.clinical.coverage import stage_due
from onaboard.policies import shipped_policies, shipped_policy
from onaboard.web.accounts.models import Clinic
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record
from onaboard.web.coverage.models import (
    SESSIONS_A_YEAR,
    AuthorisationStatus,
    ClinicPrice,
    PatientInsurance,
    PriceItem,
    PriorAuthorisation,
)
from onaboard.web.diary.selectors import patient_diary
from onaboard.web.injections.models import InjectionSession, SessionStatus
from onaboard.web.injections.selectors import (
    CheckCode,
    check_title,
    interval_weeks,
    recorded_sessions,
    session_plan,
    session_plan_or_none,
)
from onaboard.web.outcomes.selectors import LatestDecision, stopped_decision
from onaboard.web.patients.models import Patient, PreventiveTrial

# --- Messages (tests assert them exactly) -------------------------------------------------------------------------

NO_POLICY = gettext_noop("No coverage policy chosen, and none is recorded in the patient's insurance.")
UNKNOWN_POLICY = gettext_noop("No coverage policy {policy_id!r}; known: {known}.")
NO_PRICE = gettext_noop("The clinic has not set a price for {item} in force on {day}.")
MIXED_CURRENCY = gettext_noop("The clinic's prices in force on {day} are in more than one currency ({currencies}).")
ASSUME_PLANNED_DATE_BOOKED = gettext_noop("planned date: the booked session on {day}")
ASSUME_PLANNED_DATE_DUE = gettext_noop("planned date: the next due date, {day} ({weeks} weeks after the last session)")
"""``weeks``: the engine's retreatment interval in weeks (``injections.selectors.interval_weeks``)."""
ASSUME_PLANNED_DATE_OVERDUE = gettext_noop(
    "planned date: today, {day} (the next due date, {due}, {weeks} weeks after the last session, has passed)"
)
ASSUME_PLANNED_DATE_STOPPED = gettext_noop(
    "planned date: none (treatment stopped on {stopped}), taken as {day}, the earliest a further session could be given"
)
ASSUME_PLANNED_DATE_TODAY = gettext_noop("planned date: {day} (no session booked and none given before)")
ASSUME_UNITS_LAST = gettext_noop("planned dose: {units} U, as in the last recorded session ({day})")
ASSUME_UNITS_PREEMPT = gettext_noop("planned dose: {units} U, the PREEMPT fixed-site dose")
ASSUME_UNITS_LAST_RESTORED = gettext_noop(
    "planned dose: {units} U, as in the last recorded session ({day}) with the fixed sites it did not give "
    "({names}) added back at {units_per_site} U each"
)
"""The last session left fixed sites out (the patient fainted): the next one is planned as it was meant to be, each
site at the engine's ``UNITS_PER_SITE``."""
ASSUME_NO_TRIALS = gettext_noop("no prior preventive recorded: prior preventives and CGRP antibody use are not known")
ASSUME_ATTESTATION = gettext_noop("clinician's attestations from the {stage} request of {day}")
ASSUME_NO_ATTESTATION = gettext_noop(
    "no {stage} request under this policy recorded: the clinician's attestations are not known"
)
ASSUME_PRICES_ON = gettext_noop("the next session and the year: the prices in force on {day}, the planned date")
ASSUME_PRICES_ON_STOPPED = gettext_noop(
    "a further session and a year of them: the prices in force on {day}, the earliest a session could be given"
)
ASSUME_NO_INSURANCE = gettext_noop("no insurance terms recorded: the patient's share is not worked out")
ASSUME_TERMS_AS_OF = gettext_noop("insurance terms as checked on {day}")
ASSUME_TERMS_AFTER_SESSION = gettext_noop(
    "insurance terms as checked on {day}, after the session of {session}: the deductible, out-of-pocket maximum "
    "and savings programme left are those checked less what that session used"
)
ASSUME_TERMS_AFTER_SESSIONS = gettext_noop(
    "insurance terms as checked on {day}, after the sessions of {sessions}: the deductible, out-of-pocket maximum "
    "and savings programme left are those checked less what each of those sessions used, in date order"
)
"""``sessions``: the days of the sessions recorded on or after the check, joined as a list ("a, b and c")."""
ASSUME_TERMS_CHECK_DAY = gettext_noop(
    "the session of {session}, recorded on the day the terms were checked, is taken as given after the check"
)
ASSUME_TERMS_PLAN_YEAR = gettext_noop(
    "the sessions since the check are taken to fall in the plan year of the check (no plan-year start is "
    "recorded): a new plan year begun since, with its deductible, out-of-pocket maximum and savings programme "
    "renewed, is not foreseen"
)
SHARE_BEFORE_CHECK = gettext_noop(
    "share not known: given before the insurance terms were checked on {day}, which already count what it used"
)
"""A recorded session before the check: the deductible, out-of-pocket maximum and savings programme as checked are
what was left after it, not before it, so its share cannot be worked out from them."""
ASSUME_TERMS_NOT_TAKEN_OFF = gettext_noop(
    "the session of {session} could not be priced, so what it used is not taken off the insurance terms: the "
    "deductible, out-of-pocket maximum and savings programme left may be less than shown"
)

APPROVAL_IN_FORCE = gettext_noop("approval in force on {day}: from {start} to {end}")
APPROVAL_IN_FORCE_OPEN = gettext_noop("approval in force on {day}: from {start}, no end date given")
NO_APPROVAL_ON = gettext_noop("no prior authorisation is in force on {day}: {why}")
WHY_DENIED = gettext_noop("the payer denied the {stage} request of {requested} on {answered}")
WHY_ENDED = gettext_noop("the last approval ended on {end}")
WHY_STARTS = gettext_noop("the approval starts on {start}")
WHY_PENDING = gettext_noop("the {stage} request of {requested} awaits the payer's answer")
WHY_NO_REQUEST = gettext_noop("no request recorded")
WHY_NONE_OPEN = gettext_noop("no request approved or awaiting the payer's answer")
WHY_NONE_UNDER_POLICY = gettext_noop("no request made under {policy}, the patient's insurance now")
WHY_EARLIER_POLICY = gettext_noop(
    "the approval of {start} was given under {policy}, not under the patient's insurance now ({current}), so it "
    "does not cover a session under it"
)
WHY_EARLIER_PAYER = gettext_noop(
    "the approval of {start} was given to {payer}, not to the patient's insurance now ({current}), so it does not "
    "cover a session under it"
)
"""The approval was given under the insurance's policy now, but to another payer or member id (a policy file is a
template two employers' plans may share): ``payer`` names the approval's, ``current`` the insurance's
(``payer_words``)."""
PAYER_AND_MEMBER = gettext_noop("{payer}, member id {member_id}")
MEMBER_ONLY = gettext_noop("member id {member_id}")
NO_PAYER_NAMED = gettext_noop("no payer named")
APPROVAL_NOT_ASKED = gettext_noop("{policy}, {kind}, asks for no prior authorisation")
"""The policy's file has no ``[prior_authorisation]``: it asks for approval nowhere (the label, a guideline, a
consensus statement)."""
APPROVAL_NOT_ASKED_AT_SITE = gettext_noop("{policy} asks for no prior authorisation in {site} (only in {sites})")
"""The policy asks for approval at other sites of service than the clinic's (Medicare: in a hospital outpatient
department only, so a physician's office is asked for none)."""
APPROVAL_NO_INSURANCE = gettext_noop(
    "no insurance recorded: whether the payer asks for prior authorisation is not known"
)
APPROVAL_UNKNOWN_POLICY = gettext_noop(
    "the insurance's policy {policy_id!r} is not shipped: whether the payer asks for prior authorisation is not known"
)
COST_WITHOUT_APPROVAL = gettext_noop(
    "the patient's and the insurer's shares assume the payer pays its part, but no prior authorisation is in force "
    "on {day}, the planned date: {why}"
)
POLICY_KIND_WORDS = {
    PolicyKind.LABEL: gettext_noop("the drug's label"),
    PolicyKind.GUIDELINE: gettext_noop("a guideline"),
    PolicyKind.CONSENSUS: gettext_noop("a consensus statement"),
    PolicyKind.MEDICARE: gettext_noop("a Medicare policy"),
    PolicyKind.COMMERCIAL: gettext_noop("a commercial payer's policy"),
}
"""How ``APPROVAL_NOT_ASKED`` names a policy file's ``kind``."""
SITE_WORDS = {
    SiteOfService.OFFICE: gettext_noop("a physician's office"),
    SiteOfService.HOSPITAL_OUTPATIENT: gettext_noop("a hospital outpatient department"),
}
"""How ``APPROVAL_NOT_ASKED_AT_SITE`` names a clinic's site of service."""

RENEWAL_LEAD_DAYS = 30
"""The clinic's working lead time for asking a payer to renew an approval before it ends (an office routine, not a
payer's rule): the renewal is shown as due this many days before the approval's last day."""

PRICE_LABELS = {
    PriceItem.DRUG_PER_UNIT: gettext_noop("the price per unit (J0585)"),
    PriceItem.ADMINISTRATION: gettext_noop("the administration (CPT 64615)"),
}


class CoverageUnavailableError(ValueError):
    """Coverage or cost cannot be worked out as asked (no policy, no prices); the message says why."""


class UnknownPolicyError(CoverageUnavailableError):
    """The policy asked for by id is none of the shipped ones (the API's refusal points at ``policy``)."""


# --- Policies -----------------------------------------------------------------------------------------------------


def policy_choices() -> list[tuple[str, str]]:
    """(id, title) of every shipped policy, in file-name order."""
    return [(policy_id, policy.title) for policy_id, policy in shipped_policies().items()]


def policy_title(policy_id: str) -> str:
    """A shipped policy's title, or its id when it is no longer shipped."""
    policy = shipped_policies().get(policy_id)
    return policy.title if policy is not None else policy_id


def policy_by_id(policy_id: str) -> CoveragePolicy:
    try:
        return shipped_policy(policy_id)
    except KeyError:
        raise UnknownPolicyError(
            _(UNKNOWN_POLICY).format(policy_id=policy_id, known=", ".join(shipped_policies()))
        ) from None


def insurance_of(patient: Patient) -> PatientInsurance | None:
    return PatientInsurance.objects.filter(patient=patient).first()


def chosen_policy(patient: Patient, policy_id: str | None) -> CoveragePolicy:
    """The policy asked for, else the one in the patient's insurance; ``CoverageUnavailableError`` when neither."""
    if not policy_id:
        insurance = insurance_of(patient)
        if insurance is None:
            raise CoverageUnavailableError(_(NO_POLICY))
        policy_id = insurance.policy_id
    return policy_by_id(policy_id)


# --- Approvals ----------------------------------------------------------------------------------------------------


def prior_authorisations(patient: Patient) -> QuerySet[PriorAuthorisation]:
    return PriorAuthorisation.objects.filter(patient=patient).select_related("recorded_by")


def open_request_twin(
    patient: Patient, *, stage: str, policy_id: str, requested_on: dt.date, exclude: int | None = None
) -> PriorAuthorisation | None:
    """An open request (awaiting the payer) of the patient with this stage, policy and request date, other than the
    row ``exclude`` (by primary key): a second one would be a duplicate (a double submission), and a duplicate left
    open would later pass for a renewal of the approval given to the first."""
    rows = PriorAuthorisation.objects.filter(
        patient=patient,
        stage=stage,
        policy_id=policy_id,
        requested_on=requested_on,
        status=AuthorisationStatus.REQUESTED,
    )
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    return rows.first()


def _renews(request: PriorAuthorisation, current: PriorAuthorisation) -> bool:
    """Whether ``request``, awaiting the payer, asks to renew the approval ``current``: a continuation request made
    after ``current``'s own request (strictly: a copy of the approved request left open after a double submission,
    dated the same day, is not its renewal, or it would hold off the renewal reminder for the whole approval), or
    any request made after ``current`` started. An older request still marked as awaiting the payer is not its
    renewal either."""
    if request.status != AuthorisationStatus.REQUESTED or request.requested_on <= current.requested_on:
        return False
    if request.stage == Stage.CONTINUATION.value:
        return True
    return current.approved_from is not None and request.requested_on > current.approved_from


@dataclass(frozen=True, slots=True)
class ApprovalAnswers:
    """Where many patients' prior-authorisation requests stand, from one query: the worklist's approval seams
    (clinic.selectors.pathway_state's ``approval_pending`` and ``approval_denied_on``)."""

    pending: frozenset[int]
    """The patients (by primary key) with a request still awaiting the payer's answer."""
    denied_on: Mapping[int, dt.date]
    """The patients whose latest request (by request date) was denied, with the day of the answer (the request's day
    when none is recorded); a later request, pending or answered, replaces it."""


def approval_answers(patient_ids: Iterable[int]) -> ApprovalAnswers:
    """Where the patients' prior-authorisation requests stand (``ApprovalAnswers``), in one query: the requests made
    under each patient's insurance now (``requests_under``)."""
    return _answers_under(_requests_by_patient(list(patient_ids)))


@dataclass(frozen=True, slots=True)
class Insured:
    """Whom a session is billed to now: the coverage policy, payer and member id of the patient's insurance, which
    each request is matched against (``requests_under``)."""

    policy_id: str
    payer: str = ""
    member_id: str = ""

    @classmethod
    def of(cls, insurance: PatientInsurance | None) -> Insured | None:
        """The patient's insurance as ``Insured``; None without one."""
        if insurance is None:
            return None
        return cls(insurance.policy_id, insurance.payer, insurance.member_id)


def _requests_by_patient(ids: list[int]) -> dict[int, tuple[list[PriorAuthorisation], Insured | None]]:
    """Each patient's requests, newest first (``PriorAuthorisation.Meta.ordering``), with their insurance now
    (``Insured``; None without one), read in one query."""
    requests: dict[int, list[PriorAuthorisation]] = {pk: [] for pk in ids}
    insured: dict[int, Insured | None] = {}
    rows = (
        PriorAuthorisation.objects.filter(patient_id__in=ids)
        .annotate(
            insured_under=F("patient__insurance__policy_id"),
            insured_payer=F("patient__insurance__payer"),
            insured_member_id=F("patient__insurance__member_id"),
        )
        .order_by("patient_id", "-requested_on", "-created")
    )
    for row in rows:
        requests[row.patient_id].append(row)
        insured[row.patient_id] = (
            None
            if row.insured_under is None
            else Insured(row.insured_under, row.insured_payer or "", row.insured_member_id or "")
        )
    return {pk: (each, insured.get(pk)) for pk, each in requests.items()}


def _answers_under(grouped: Mapping[int, tuple[list[PriorAuthorisation], Insured | None]]) -> ApprovalAnswers:
    """``ApprovalAnswers`` of each patient's requests made under their insurance now (``requests_under``)."""
    return _answers_of(
        (row.patient_id, row.status, row.decided_on, row.requested_on)
        for requests, insured in grouped.values()
        for row in requests_under(requests, insured)[0]
    )


def _answers_of(rows: Iterable[tuple[int, str, dt.date | None, dt.date]]) -> ApprovalAnswers:
    """``ApprovalAnswers`` from (patient id, status, answered on, requested on) rows, each patient's newest first."""
    pending: set[int] = set()
    latest: dict[int, tuple[str, dt.date]] = {}
    for patient_id, status, decided_on, requested_on in rows:
        if status == AuthorisationStatus.REQUESTED:
            pending.add(patient_id)
        latest.setdefault(patient_id, (status, decided_on or requested_on))
    denied = {pk: day for pk, (status, day) in latest.items() if status == AuthorisationStatus.DENIED}
    return ApprovalAnswers(frozenset(pending), denied)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months later (the month's last day when it is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def approval_length(policy_id: str, stage: Stage | str) -> tuple[int | None, bool]:
    """The policy's approval length in months for ``stage`` (None when it sets none), and whether the policy file
    lists that length as unconfirmed (read in no source: not to be presented as the payer's answer)."""
    months, unconfirmed = engine_approval_length(policy_by_id(policy_id), stage)
    return months, bool(unconfirmed)


def approval_end(start: dt.date, months: int) -> dt.date:
    """The last day an approval of ``months`` months starting on ``start`` covers: the day before the same day
    ``months`` later, or that month's last day when it has no such day (one month from 31 January runs to the end
    of February, not to the 27th). An end past the last day a date can hold (a start in year 9999) is that last
    day, so a mistyped year cannot fail the save."""
    try:
        same_day = add_months(start, months)
    except ValueError:  # year 10000: beyond dt.date
        return dt.date.max
    if same_day.day < start.day:  # the month is too short: the approval runs to its end
        return same_day
    return same_day - dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ApprovalState:
    """What the pages say of the patient's approvals on ``today``.

    ``current`` is the approval in force; ``renewal_due`` the day to ask for its renewal (None when it has no end,
    when a later approval already continues it, ``continued_by``, or while a request renewing it awaits the payer,
    ``renewal_pending``: see ``_renews``); ``pending`` a request awaiting the payer (the renewing one when there is
    one);
    ``upcoming`` the earliest approval starting after today; ``ended`` the approval that ended last when none is in
    force; ``denied`` the latest request when the payer denied it."""

    current: PriorAuthorisation | None
    renewal_due: dt.date | None
    renewal_overdue: bool
    pending: PriorAuthorisation | None
    continued_by: PriorAuthorisation | None = None
    renewal_pending: bool = False
    upcoming: PriorAuthorisation | None = None
    ended: PriorAuthorisation | None = None
    denied: PriorAuthorisation | None = None
    earlier_policy: PriorAuthorisation | None = None
    """The latest approval given under another coverage policy than the insurance's now, or under the same policy
    to another payer or member id (the patient changed payer, or the insurance was corrected): it is left out of
    every field above, since it covers nothing under this insurance, and named so the pages can say why it does not
    count (``requests_under``)."""
    earlier_payer: bool = False
    """Whether ``earlier_policy`` was given under the insurance's policy now, to another payer or member id (the
    pages name the payer then, the policy being the same)."""
    week24_ends: dt.date | None = None
    """The last day of week 24's diary period (the engine's ``week24_last_day``) when it falls on or after the
    renewal date and has not passed: a continuation's response is judged on complete periods from week 24 on, so
    until the day after it the continuation letter has no response to give, though the renewal is due (the pages
    say so; whether the payer extends the approval is the payer's rule, not ours)."""
    week24_letter_from: dt.date | None = None
    """The first day a continuation letter can show the week-24 response: the day after ``week24_ends`` (None
    without it)."""
    week24_after_approval: bool = False
    """Whether ``week24_letter_from`` is on or after the last day of the approval in force: the payer cannot have
    the letter's response before the approval ends, so the page advises asking the payer about an extension."""


def _continues(later: PriorAuthorisation, current: PriorAuthorisation) -> bool:
    """Whether ``later`` carries ``current`` on: it starts no later than the day after ``current`` ends and runs
    beyond it."""
    end = current.approved_until
    if later.pk == current.pk or end is None or later.approved_from is None:
        return False
    # (later.approved_from - end) rather than end + 1 day: an approval stored as ending on dt.date.max has no next day
    return (later.approved_from - end).days <= 1 and (later.approved_until is None or later.approved_until > end)


def _same_words(text: str) -> str:
    """A payer's name or member id as compared: spacing and letter case aside ("Northwind  health" is "Northwind
    Health"), so retyping the insurance the same way does not void its approvals."""
    return " ".join(text.split()).casefold()


def made_under(request: PriorAuthorisation, insured: Insured) -> bool:
    """Whether ``request`` was made under the insurance ``insured``: the same coverage policy, and the payer and
    member id stored with the request (``PriorAuthorisation.payer``, ``member_id``) the insurance's now. A policy
    file is a template two employers' plans may share, so a new payer under the same file is another payer. A
    request stored without them (recorded before they were kept, or under another policy than the insurance's then)
    is matched on its policy alone, and each one stored empty matches any (a member id added to the insurance after
    the request keeps its approval)."""
    if request.policy_id != insured.policy_id:
        return False
    return all(
        not _same_words(stored) or _same_words(stored) == _same_words(now)
        for stored, now in ((request.payer, insured.payer), (request.member_id, insured.member_id))
    )


def requests_under(
    requests: Sequence[PriorAuthorisation], insured: Insured | None
) -> tuple[list[PriorAuthorisation], PriorAuthorisation | None]:
    """The ``requests`` made under ``insured`` (the patient's insurance now: ``made_under``), in their order, and
    the latest approval among the others. An approval is the answer of the payer it was asked of: after a change of
    insurance (a patient moving to Medicare at 65, a new employer's plan under the same policy file) it covers no
    session under the new one, which needs its own request. Without insurance recorded (``insured`` None) every
    request is kept: whose they were cannot be told, and the pages say the insurance is missing."""
    if insured is None:
        return list(requests), None
    under = [r for r in requests if made_under(r, insured)]
    others = [r for r in requests if not made_under(r, insured) and r.status == AuthorisationStatus.APPROVED]
    return under, (others[0] if others else None)


def _approval_state_of(
    requests: Sequence[PriorAuthorisation], today: dt.date, *, insured: Insured | None
) -> ApprovalState:
    """The approval state on ``today`` of one patient's ``requests`` (newest request first, as
    ``PriorAuthorisation.Meta.ordering``) under ``insured``, their insurance (``requests_under``: another policy's
    or payer's approval is only named, as ``earlier_policy``), without the week-24 fields (``approval_state`` adds
    them)."""
    requests, earlier_policy = requests_under(requests, insured)
    approved = [r for r in requests if r.status == AuthorisationStatus.APPROVED]
    in_force = [
        r
        for r in approved
        if (r.approved_from is None or r.approved_from <= today)
        and (r.approved_until is None or r.approved_until >= today)
    ]
    current = in_force[0] if in_force else None
    pending = next((r for r in requests if r.status == AuthorisationStatus.REQUESTED), None)
    later = sorted(
        (r for r in approved if r.approved_from is not None and r.approved_from > today), key=lambda r: r.approved_from
    )
    upcoming = later[0] if later else None
    ended = None
    if current is None:
        past = [r for r in approved if r.approved_until is not None and r.approved_until < today]
        ended = max(past, key=lambda r: r.approved_until) if past else None
    denied = requests[0] if requests and requests[0].status == AuthorisationStatus.DENIED else None
    continued_by = None
    renewal = None
    renewal_pending = False
    if current is not None and current.approved_until is not None:
        continued_by = next((r for r in approved if _continues(r, current)), None)
        renewing = None if continued_by is not None else next((r for r in requests if _renews(r, current)), None)
        if renewing is not None:
            renewal_pending, pending = True, renewing
        if continued_by is None and not renewal_pending:
            renewal = current.approved_until - dt.timedelta(days=RENEWAL_LEAD_DAYS)
    return ApprovalState(
        current,
        renewal,
        renewal is not None and renewal <= today,
        pending,
        continued_by=continued_by,
        renewal_pending=renewal_pending,
        upcoming=upcoming,
        ended=ended,
        denied=denied,
        earlier_policy=earlier_policy,
        earlier_payer=earlier_policy is not None
        and insured is not None
        and earlier_policy.policy_id == insured.policy_id,
    )


def approval_state(patient: Patient, today: dt.date) -> ApprovalState:
    insured = Insured.of(insurance_of(patient))
    state = _approval_state_of(list(prior_authorisations(patient)), today, insured=insured)  # newest first
    current, renewal = state.current, state.renewal_due
    week24_ends = None
    if renewal is not None:
        first = (
            InjectionSession.objects.filter(patient=patient, status=SessionStatus.RECORDED, date__lte=today)
            .order_by("date")
            .values_list("date", flat=True)
            .first()
        )
        end = week24_last_day(first) if first is not None else None
        if end is not None and end >= max(renewal, today):
            week24_ends = end
    letter_from = week24_ends + dt.timedelta(days=1) if week24_ends is not None else None
    until = current.approved_until if current is not None else None
    after_approval = letter_from is not None and until is not None and letter_from >= until
    return replace(state, week24_ends=week24_ends, week24_letter_from=letter_from, week24_after_approval=after_approval)


@dataclass(frozen=True, slots=True)
class ApprovalStates:
    """Many patients' approvals on one day, from one query (``approval_states``)."""

    states: Mapping[int, ApprovalState]
    """Each patient's ``ApprovalState`` (by primary key; every patient asked about), as ``approval_state`` says it
    but without the week-24 fields, which read the sessions (None and False here)."""
    answers: ApprovalAnswers
    """The same rows' ``ApprovalAnswers`` (``approval_answers``), for the worklist's pathway seams."""
    requests: Mapping[int, tuple[list[PriorAuthorisation], Insured | None]]
    """Each patient's requests (newest first) and their insurance (``Insured``), as read."""

    def covers(self, patient_id: int, day: dt.date) -> bool:
        """Whether an approval given under the patient's insurance now covers ``day``: ``approval_on``'s rule (an
        approval in force on that day, by ``approval_state``'s rule), on the requests already read."""
        requests, insured = self.requests.get(patient_id, ([], None))
        return _approval_state_of(requests, day, insured=insured).current is not None


def approval_states(patient_ids: Iterable[int], *, today: dt.date) -> ApprovalStates:
    """Where many patients' approvals stand on ``today`` (``ApprovalStates``), in one query: the rule is
    ``approval_state``'s, so the worklist and the patient's coverage page cannot disagree."""
    grouped = _requests_by_patient(list(patient_ids))
    states = {pk: _approval_state_of(requests, today, insured=insured) for pk, (requests, insured) in grouped.items()}
    answers = _answers_under(grouped)
    return ApprovalStates(states, answers, grouped)


class ApprovalNeed(enum.StrEnum):
    """Whether a prior authorisation covers a day (``approval_on``)."""

    IN_FORCE = "in_force"
    """An approval is in force on the day."""
    NOT_ASKED = "not_asked"
    """The patient's policy asks for no approval at the clinic's site of service
    (``CoveragePolicy.asks_prior_authorisation_at``): none at all (the label, NICE TA260, the AHS consensus), or
    only elsewhere (Medicare, in a hospital outpatient department only, for a physician's office)."""
    NOT_KNOWN = "not_known"
    """No insurance recorded, or its policy is no longer shipped: whether one is asked for is not known."""
    MISSING = "missing"
    """The payer's policy asks for one and none is in force on the day."""


@dataclass(frozen=True, slots=True)
class ApprovalOnDay:
    """Whether a prior authorisation covers ``day`` (``approval_on``), and why, in the pages' words: ``reason`` the
    whole sentence; ``why`` (MISSING only) what the approvals say instead: the denial, the end, the start to come,
    the request awaiting the payer, or no request."""

    day: dt.date
    need: ApprovalNeed
    reason: str
    why: str = ""
    state: ApprovalState | None = None
    """``approval_state``'s rule on ``day`` (without its week-24 fields); None when no policy asks for approval."""

    @property
    def missing(self) -> bool:
        return self.need is ApprovalNeed.MISSING


def payer_words(payer: str, member_id: str) -> str:
    """A payer and member id as the pages name them: "Northwind Health, member id M0004"; either alone; "" for none."""
    if payer and member_id:
        return _(PAYER_AND_MEMBER).format(payer=payer, member_id=member_id)
    if member_id:
        return _(MEMBER_ONLY).format(member_id=member_id)
    return payer


def _why_not_in_force(
    state: ApprovalState,
    *,
    any_request: bool,
    policy: CoveragePolicy,
    asked_elsewhere: bool = False,
    insured: Insured | None = None,
) -> str:
    """What ``state`` (none in force under ``policy``, the insurance's, ``insured``) says instead, each day as the
    request's own: an approval given under another policy or to another payer, the denial of the latest request,
    the last approval's end, an approval still to start, and a request awaiting the payer; else no request."""
    clauses = []
    if (earlier := state.earlier_policy) is not None:
        start = earlier.covers_from.isoformat()
        if state.earlier_payer:
            now = payer_words(insured.payer, insured.member_id) if insured is not None else ""
            clauses.append(
                _(WHY_EARLIER_PAYER).format(
                    start=start, payer=payer_words(earlier.payer, earlier.member_id), current=now or _(NO_PAYER_NAMED)
                )
            )
        else:
            clauses.append(
                _(WHY_EARLIER_POLICY).format(start=start, policy=policy_title(earlier.policy_id), current=policy.title)
            )
    if state.denied is not None:
        denied = state.denied
        answered = (denied.decided_on or denied.requested_on).isoformat()
        clauses.append(
            _(WHY_DENIED).format(
                stage=denied.get_stage_display(), requested=denied.requested_on.isoformat(), answered=answered
            )
        )
    if state.ended is not None and state.ended.approved_until is not None:
        clauses.append(_(WHY_ENDED).format(end=state.ended.approved_until.isoformat()))
    if state.upcoming is not None and state.upcoming.approved_from is not None:
        clauses.append(_(WHY_STARTS).format(start=state.upcoming.approved_from.isoformat()))
    if state.pending is not None:
        pending = state.pending
        clauses.append(
            _(WHY_PENDING).format(stage=pending.get_stage_display(), requested=pending.requested_on.isoformat())
        )
    if not clauses:
        if any_request:
            clauses.append(_(WHY_NONE_OPEN))
        elif asked_elsewhere:  # requests to an earlier payer only, none approved (or it would be named above)
            clauses.append(_(WHY_NONE_UNDER_POLICY).format(policy=policy.title))
        else:
            clauses.append(_(WHY_NO_REQUEST))
    return "; ".join(clauses)


def approval_not_asked_reason(policy: CoveragePolicy, site: SiteOfService) -> str:
    """Why ``policy`` asks for no approval at ``site``, in the pages' words: it asks nowhere (``APPROVAL_NOT_ASKED``,
    naming its kind), or only at other sites (``APPROVAL_NOT_ASKED_AT_SITE``, naming them)."""
    rule = policy.prior_authorisation
    if rule is None:
        return _(APPROVAL_NOT_ASKED).format(policy=policy.title, kind=_(POLICY_KIND_WORDS[policy.kind]))
    sites = get_text_list([_(SITE_WORDS[each]) for each in rule.sites])
    return _(APPROVAL_NOT_ASKED_AT_SITE).format(policy=policy.title, site=_(SITE_WORDS[site]), sites=sites)


def _insurance_with_site(patient: Patient) -> PatientInsurance | None:
    """The patient's insurance with their clinic's site of service (``clinic_site``): one query."""
    return (
        PatientInsurance.objects.filter(patient=patient)
        .annotate(clinic_site=F("patient__clinic__site_of_service"))
        .first()
    )


def treatment_stopped(
    patient: Patient, today: dt.date, *, booked: Iterable[dt.date] | None = None
) -> LatestDecision | None:
    """The clinician's decision to stop when it leaves no session ahead: the latest decision on or before ``today``
    is to stop (``outcomes.selectors.stopped_decision``) and no session is booked ahead (``booking_ahead``). A booking
    still held after a stop is the clinic's to cancel (the pathway says so), and until then the approvals stand as
    they are: the worklist's approval line reads the same rule (``clinic.selectors.approval_line``'s ``stopped``).
    ``booked``: the days of the patient's open bookings when the caller has read them (else they are read only
    once the decision is found to be a stop)."""
    if booked is not None and booking_ahead(booked, today=today) is not None:
        return None
    decision = stopped_decision(patient, today)
    if decision is None or booked is not None:
        return decision
    booked = InjectionSession.objects.filter(patient=patient, status=SessionStatus.BOOKED).values_list(
        "date", flat=True
    )
    return None if booking_ahead(booked, today=today) is not None else decision


def approval_quiet(patient: Patient, today: dt.date) -> bool:
    """Whether an approval that ended or falls due for renewal, or a denial, needs nobody's action: the patient's
    policy asks for no approval at the clinic's site of service (``approval_on``'s NOT_ASKED), or treatment has
    stopped with nothing booked (``treatment_stopped``). The coverage page and the documents card show them without
    the alarm then; the worklist's approval line reads the same two rules."""
    insurance = _insurance_with_site(patient)
    policy = shipped_policies().get(insurance.policy_id) if insurance is not None else None
    if policy is not None and not policy.asks_prior_authorisation_at(SiteOfService(insurance.clinic_site)):
        return True
    return treatment_stopped(patient, today) is not None


def approval_on(patient: Patient, day: dt.date) -> ApprovalOnDay:
    """Whether a prior authorisation covers ``day`` for ``patient``: NOT_KNOWN without insurance (or with a policy
    no longer shipped), NOT_ASKED when the policy asks for none at the patient's clinic's site of service
    (``CoveragePolicy.asks_prior_authorisation_at``: the label, NICE TA260 and the AHS consensus ask nowhere,
    Medicare in a hospital outpatient department only), else IN_FORCE or MISSING by ``approval_state``'s rule on
    ``day`` (its ``current``; the coverage page and the worklist read the same rule on today), naming the approval,
    or the denial, the end, the start or "no request". Two queries (the clinic's site comes with the insurance). The
    session screen's prior-authorisation check (``injections.selectors.session_checks``) and the cost's warning
    (``cost_for``) ask it."""
    insurance = _insurance_with_site(patient)
    if insurance is None:
        return ApprovalOnDay(day, ApprovalNeed.NOT_KNOWN, _(APPROVAL_NO_INSURANCE))
    policy = shipped_policies().get(insurance.policy_id)
    if policy is None:
        reason = _(APPROVAL_UNKNOWN_POLICY).format(policy_id=insurance.policy_id)
        return ApprovalOnDay(day, ApprovalNeed.NOT_KNOWN, reason)
    site = SiteOfService(insurance.clinic_site)
    if not policy.asks_prior_authorisation_at(site):
        return ApprovalOnDay(day, ApprovalNeed.NOT_ASKED, approval_not_asked_reason(policy, site))
    requests = list(prior_authorisations(patient))  # newest request first
    insured = Insured.of(insurance)
    state = _approval_state_of(requests, day, insured=insured)
    current = state.current
    if current is not None:
        start = current.covers_from.isoformat()
        if current.approved_until is None:
            reason = _(APPROVAL_IN_FORCE_OPEN).format(day=day.isoformat(), start=start)
        else:
            end = current.approved_until.isoformat()
            reason = _(APPROVAL_IN_FORCE).format(day=day.isoformat(), start=start, end=end)
        return ApprovalOnDay(day, ApprovalNeed.IN_FORCE, reason, state=state)
    asked_under = bool(requests_under(requests, insured)[0])
    why = _why_not_in_force(
        state,
        any_request=asked_under,
        policy=policy,
        asked_elsewhere=bool(requests) and not asked_under,
        insured=insured,
    )
    reason = _(NO_APPROVAL_ON).format(day=day.isoformat(), why=why)
    return ApprovalOnDay(day, ApprovalNeed.MISSING, reason, why, state)


# --- A session's overrides that bear on its claim ----------------------------------------------------------------

CLAIM_CHECKS = (CheckCode.INTERVAL, CheckCode.PRIOR_AUTHORISATION)
"""The pre-session checks whose override a claim turns on: the 12-week interval (the label's retreatment interval;
Medicare's LCDs and the US payers cover sessions no more often than every 12 weeks, clinical-facts.md section 6) and
the prior authorisation the payer asks for. The others (cumulative dose, safety screen, the label's dose and sites)
are the clinician's to weigh; their override stays a clinical note."""


@dataclass(frozen=True, slots=True)
class ClaimOverride:
    """A check overridden when the session was recorded that a claim for it turns on (``CLAIM_CHECKS``): its title
    and the figures behind it as the record stands, read from the record itself (the sessions' days, the approvals),
    never the reason typed for overriding nor the reasons stored with the session (an import may carry its own)."""

    title: str
    figures: tuple[str, ...]


def _interval_figures(session: InjectionSession, days: Iterable[dt.date]) -> tuple[str, ...]:
    """The intervals shorter than the engine's minimum (``interval_check``) from the recorded session before
    ``session`` and to the one after it, their days in ISO form as the engine's reasons give them (the documents put
    them in words with ``letter_words``)."""
    others = [day for day in days if day != session.date]
    previous = max((day for day in others if day < session.date), default=None)
    following = min((day for day in others if day > session.date), default=None)
    figures = []
    if previous is not None and not (check := interval_check(previous, session.date)).allowed:
        days_apart = check.days_since_previous or 0
        figures.append(
            ngettext(
                "given %(days)d day after the session of %(other)s (at least %(min)d days apart)",
                "given %(days)d days after the session of %(other)s (at least %(min)d days apart)",
                days_apart,
            )
            % {"days": days_apart, "other": previous.isoformat(), "min": RETREATMENT_INTERVAL_DAYS}
        )
    if following is not None and not (check := interval_check(session.date, following)).allowed:
        days_apart = check.days_since_previous or 0
        figures.append(
            ngettext(
                "%(days)d day before the session of %(other)s (at least %(min)d days apart)",
                "%(days)d days before the session of %(other)s (at least %(min)d days apart)",
                days_apart,
            )
            % {"days": days_apart, "other": following.isoformat(), "min": RETREATMENT_INTERVAL_DAYS}
        )
    return tuple(figures)


def session_claim_overrides(
    session: InjectionSession, *, recorded_days: Iterable[dt.date] | None = None
) -> list[ClaimOverride]:
    """The checks ``session`` overrode at recording that its claim turns on (``CLAIM_CHECKS``), in the order
    stored, each with its figures: for the 12-week interval, each interval to a recorded session shorter than the
    engine's minimum (none when the sessions it was too close to are no longer recorded); for the prior
    authorisation, whether one covers the session's day as the approvals now stand (``approval_on``'s reason).
    ``recorded_days``: the days of the patient's recorded sessions, when the caller has read them. The billing copy
    of the procedure note and the billing view of a session show these, which the rest of the override (the other
    checks, the reason typed for it) is a clinical note kept from."""
    stored = [code for code in session.overridden_checks.split(",") if code]
    codes = [CheckCode(code) for code in stored if code in set(CLAIM_CHECKS)]
    found = []
    for code in dict.fromkeys(codes):
        if code is CheckCode.INTERVAL:
            if recorded_days is None:
                recorded_days = recorded_sessions(session.patient).values_list("date", flat=True)
            figures = _interval_figures(session, recorded_days)
        else:
            figures = (approval_on(session.patient, session.date).reason,)
        found.append(ClaimOverride(check_title(code), figures))
    return found


# --- Evidence -----------------------------------------------------------------------------------------------------

_CLASS_TO_ENGINE = {"angiotensin": "ace_inhibitor_or_arb", "cgrp_monoclonal_antibody": "cgrp_mab"}
"""Stored preventive classes whose value differs from the engine's PreventiveClass."""


def engine_trial(trial: PreventiveTrial) -> EnginePreventiveTrial:
    return EnginePreventiveTrial(
        drug=trial.drug,
        drug_class=_CLASS_TO_ENGINE.get(trial.drug_class, trial.drug_class),
        dose=trial.dose,
        start=trial.start,
        stop=trial.stop,
        stop_reason=trial.stop_reason,
    )


def _hours_between(diary: PatientDiary, start: dt.date, end: dt.date) -> Decimal:
    return sum((day.headache_hours for day in diary.days if start <= day.date <= end), Decimal(0))


def headache_hours_by_period(diary: PatientDiary, outcomes: Outcomes) -> dict[int, Decimal]:
    """Hours of headache recorded in the baseline (0) and each period after the first injection."""
    hours = {0: _hours_between(diary, outcomes.baseline.start, outcomes.baseline.end)}
    for change in outcomes.periods:
        hours[change.period.index] = _hours_between(diary, change.period.start, change.period.end)
    return hours


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """What the patient's rows say, as engine values, on ``today``."""

    patient: Patient
    today: dt.date
    diary: PatientDiary
    recorded: tuple[InjectionSession, ...]
    booked: InjectionSession | None
    """The open booking on or after ``today`` (``booking_ahead``); a booking whose day passed was missed."""
    assessment: Assessment
    """Eligibility before treatment: on the day before the first session, else on today."""
    outcomes: Outcomes | None
    trials: tuple[PreventiveTrial, ...]
    plan: InjectionPlan
    """The next session's plan: the last recorded session's sites (any fixed site it did not give added back at
    ``UNITS_PER_SITE``, so a partial session is never requested as the regimen), else the PREEMPT fixed-site plan."""
    assumptions: tuple[str, ...]
    stopped: LatestDecision | None = None
    """The clinician's decision to stop when it is the latest and nothing is booked ahead (``treatment_stopped``):
    no next session is planned, so the planned date is only the earliest a further one could be given."""

    @property
    def first_session(self) -> dt.date | None:
        return self.recorded[0].date if self.recorded else None

    @property
    def last_session(self) -> InjectionSession | None:
        return self.recorded[-1] if self.recorded else None

    def stage_due(self, policy: CoveragePolicy) -> Stage:
        """The stage a request under ``policy`` is at: the engine's ``stage_due`` for the sessions recorded (initial
        until the policy's ``continuation.after_cycles`` sessions are given)."""
        return stage_due(policy, len(self.recorded))


def patient_facts(patient: Patient, *, today: dt.date) -> PatientFacts:
    diary = patient_diary(patient, until=today)
    recorded = tuple(
        InjectionSession.objects.filter(patient=patient, status=SessionStatus.RECORDED, date__lte=today)
        .select_related("injector")
        .prefetch_related("sites")  # each session's plan reads its sites
        .order_by("date")
    )
    first = recorded[0].date if recorded else None
    as_of = eligibility_day(first_session=first, today=today, birth_date=patient.birth_date)
    assessment = assess(diary, as_of=as_of, birth_date=patient.birth_date, age_on=first or as_of)
    outcomes = treatment_outcomes(diary, injections=[s.date for s in recorded], as_of=today) if recorded else None
    notes = []
    plan = None
    if recorded:
        plan = session_plan_or_none(recorded[-1])
        if plan is not None and plan.not_given:
            names = ", ".join(str(site) for site in plan.not_given)
            plan = plan.with_sites_not_given()
            notes.append(
                _(ASSUME_UNITS_LAST_RESTORED).format(
                    units=plan.total_units,
                    day=recorded[-1].date.isoformat(),
                    names=names,
                    units_per_site=UNITS_PER_SITE,
                )
            )
        elif plan is not None:
            notes.append(_(ASSUME_UNITS_LAST).format(units=plan.total_units, day=recorded[-1].date.isoformat()))
    if plan is None:
        plan = preempt_plan()
        notes.append(_(ASSUME_UNITS_PREEMPT).format(units=FIXED_DOSE_UNITS))
    trials = tuple(PreventiveTrial.objects.filter(patient=patient).order_by("start"))
    bookings = list(InjectionSession.objects.filter(patient=patient, status=SessionStatus.BOOKED).order_by("date"))
    ahead = booking_ahead((s.date for s in bookings), today=today)
    return PatientFacts(
        patient=patient,
        today=today,
        diary=diary,
        recorded=recorded,
        booked=next((s for s in bookings if s.date == ahead), None),
        assessment=assessment,
        outcomes=outcomes,
        trials=trials,
        plan=plan,
        assumptions=tuple(notes),
        stopped=treatment_stopped(patient, today, booked=[s.date for s in bookings]) if recorded else None,
    )


def booking_ahead(booked: Iterable[dt.date], *, today: dt.date) -> dt.date | None:
    """The open booking on or after ``today`` (the earliest of ``booked``, the days of sessions booked and not yet
    recorded), else None. A booking whose day has passed without a session was missed: it is not the next session.
    The one rule behind the worklist's "booked" (``clinic.selectors.pathway_state``), the planned date of the next
    session and the after-care sheet's next treatment."""
    return min((day for day in booked if day >= today), default=None)


def next_due(recorded: Iterable[dt.date], *, on: dt.date) -> dt.date | None:
    """The engine's next due date (``schedule_status``: ``RETREATMENT_INTERVAL_DAYS`` after the last session) from
    the sessions recorded on or before ``on``; None before the first."""
    return schedule_status(sorted({day for day in recorded if day <= on}), today=on).next_due


class NextSession(enum.StrEnum):
    """What is known of the treatment after a session."""

    GIVEN = "given"
    """A later session is recorded (the sheet of an earlier session, printed afterwards)."""
    BOOKED = "booked"
    DUE = "due"
    """Neither: the earliest date for the next, 12 weeks after the session."""
    DUE_SINCE = "due_since"
    """Due, from a day now past, and not booked: the patient's portal asks them to contact the clinic
    (``diary.selectors.next_treatment_of``) rather than name a day gone by as the earliest."""


@dataclass(frozen=True, slots=True)
class NextTreatment:
    """The treatment after a session: its day and whether it was given, is booked or is only due from then."""

    date: dt.date
    kind: NextSession

    @property
    def interval_weeks(self) -> int:
        """The retreatment interval in weeks, the engine's (the sentence naming a due date states it)."""
        return interval_weeks()


def next_treatment(
    recorded: Iterable[dt.date], booked: Iterable[dt.date], *, today: dt.date, after: dt.date | None = None
) -> NextTreatment | None:
    """The treatment after the session given on ``after`` (None: the latest recorded on or before ``today``): the
    next recorded session, else the open booking (``booking_ahead``: a missed booking is not the next treatment)
    when later, else the earliest date for the next (``next_due``, the engine's next due date after that session:
    ``DUE_SINCE`` once that day is before ``today``, for the patient to contact the clinic rather than be told a
    day gone by as the earliest). None when no session was given and none is booked. ``recorded`` and ``booked``
    are the dates of the patient's recorded and booked sessions. The one rule behind the after-care sheet's next
    treatment and the patient's portal."""
    given = sorted(set(recorded))
    if after is None:
        given = [day for day in given if day <= today]
        after = given[-1] if given else None
    later = next((day for day in given if after is not None and day > after), None)
    if later is not None:
        return NextTreatment(later, NextSession.GIVEN)
    ahead = booking_ahead(booked, today=today)
    if ahead is not None and (after is None or ahead > after):
        return NextTreatment(ahead, NextSession.BOOKED)
    due = next_due(given, on=after) if after is not None else None
    if due is None:
        return None
    return NextTreatment(due, NextSession.DUE_SINCE if due < today else NextSession.DUE)


def planned_date(facts: PatientFacts) -> tuple[dt.date, str]:
    """The next session's date and how it was chosen: the booking on or after today (``booking_ahead``), else the
    earliest day it could still happen (the engine's next due date, or today once that day has passed), else
    today. Never a day gone by: the interval criterion, the letters' safety screen and the prices are all for this
    day. Once treatment has stopped (``PatientFacts.stopped``) no session is planned: the day is the earliest a
    further one could be given, and the note says so instead of naming a due date."""
    booked = booking_ahead([facts.booked.date] if facts.booked else [], today=facts.today)
    if booked is not None:
        return booked, _(ASSUME_PLANNED_DATE_BOOKED).format(day=booked.isoformat())
    due = next_due((s.date for s in facts.recorded), on=facts.today)
    if facts.stopped is not None:
        day = max(due, facts.today) if due is not None else facts.today
        note = _(ASSUME_PLANNED_DATE_STOPPED).format(day=day.isoformat(), stopped=facts.stopped.decided_on.isoformat())
        return day, note
    if due is not None:
        if due < facts.today:
            overdue = _(ASSUME_PLANNED_DATE_OVERDUE)
            return facts.today, overdue.format(day=facts.today.isoformat(), due=due.isoformat(), weeks=interval_weeks())
        return due, _(ASSUME_PLANNED_DATE_DUE).format(day=due.isoformat(), weeks=interval_weeks())
    return facts.today, _(ASSUME_PLANNED_DATE_TODAY).format(day=facts.today.isoformat())


def stage_request(
    patient: Patient, stage: Stage, *, policy_id: str | None, on: dt.date | None = None
) -> PriorAuthorisation | None:
    """The request a ``stage`` request under ``policy_id`` reads: the latest of that stage under that policy (a
    request to another payer attests to that payer's criteria, not to these), else None. The one rule behind the
    evaluation's attestations and diagnosis code (``coverage_evidence``) and the code the letters print, so the two
    cannot differ. ``policy_id`` None: under any policy (the procedure note of a patient with no insurance).

    ``on``, a session's day (its procedure note): the request as it stood for that session, made on or before that
    day, the approval covering the day first, else the latest made by then, so a request recorded after the
    session (another diagnosis code) does not reach its note; the latest of the stage only when none was made by
    then."""
    requests = PriorAuthorisation.objects.filter(patient=patient, stage=stage.value)
    if policy_id is not None:
        requests = requests.filter(policy_id=policy_id)
    if on is not None:
        made = list(requests.filter(requested_on__lte=on))  # newest first, the model's ordering
        covering = next(
            (
                r
                for r in made
                if r.status == AuthorisationStatus.APPROVED
                and r.covers_from <= on
                and (r.approved_until is None or r.approved_until >= on)
            ),
            None,
        )
        if made:
            return covering or made[0]
    return requests.first()


def approval_begun(patient: Patient, *, policy_id: str, today: dt.date) -> dt.date | None:
    """The first day (``PriorAuthorisation.covers_from``) of the latest approval under ``policy_id`` begun on or
    before ``today``: the approval a continuation asked for now renews. None before any."""
    approved = PriorAuthorisation.objects.filter(
        patient=patient, policy_id=policy_id, status=AuthorisationStatus.APPROVED
    ).only("approved_from", "decided_on", "requested_on")
    return max((row.covers_from for row in approved if row.covers_from <= today), default=None)


def coverage_evidence(facts: PatientFacts, stage: Stage, *, policy_id: str) -> tuple[CoverageEvidence, tuple[str, ...]]:
    """The engine's evidence for ``stage`` under the policy ``policy_id`` and the assumptions made in filling it.
    The clinician's attestations and the diagnosis code (the evidence of intractability) are the request's of that
    stage under that policy (``stage_request``). At the continuation stage the prescriber's judgement of benefit
    carries its request's day, and the engine reads it only when made after the approval it would renew began
    (``approval_begun``): the attestation on the request of that approval was for that approval."""
    notes = list(facts.assumptions)
    day, note = planned_date(facts)
    notes.append(note)
    trials: tuple[EnginePreventiveTrial, ...] | None = None
    cgrp: tuple[str, ...] | None = None
    if facts.trials:
        trials = tuple(engine_trial(trial) for trial in facts.trials)
        cgrp = tuple(  # taken now: not stopped before today, and not one never given (contraindicated)
            t.drug
            for t in trials
            if t.drug_class.value == "cgrp_mab"
            and t.stop_reason is not EngineStopReason.CONTRAINDICATED
            and (t.stop is None or t.stop >= facts.today)
        )
    else:
        notes.append(_(ASSUME_NO_TRIALS))
    request = stage_request(facts.patient, stage, policy_id=policy_id)
    if request is None:
        notes.append(_(ASSUME_NO_ATTESTATION).format(stage=stage.value))
    else:
        notes.append(_(ASSUME_ATTESTATION).format(stage=stage.value, day=request.requested_on.isoformat()))
    evidence = CoverageEvidence(
        birth_date=facts.patient.birth_date,
        assessment=facts.assessment,
        outcomes=facts.outcomes,
        preventive_trials=trials,
        current_cgrp_mab=cgrp,
        medication_overuse_managed=None if request is None else request.medication_overuse_managed,
        planned_units=facts.plan.total_units,
        planned_date=day,
        last_session=facts.last_session.date if facts.last_session else None,
        headache_hours=headache_hours_by_period(facts.diary, facts.outcomes) if facts.outcomes else {},
        prescriber_attests_benefit=None if request is None else request.prescriber_attests_benefit,
        diagnosis_code=None if request is None else request.diagnosis_code,
        benefit_attested_on=None if request is None else request.requested_on,
        benefit_needed_after=(
            approval_begun(facts.patient, policy_id=policy_id, today=facts.today)
            if stage is Stage.CONTINUATION and request is not None and request.prescriber_attests_benefit is not None
            else None
        ),
    )
    return evidence, tuple(notes)


@dataclass(frozen=True, slots=True)
class CoverageView:
    """One evaluation, the policy it used, and the assumptions made in gathering the evidence."""

    policy: CoveragePolicy
    evaluation: CoverageEvaluation
    assumptions: tuple[str, ...]


def evaluate(facts: PatientFacts, policy: CoveragePolicy, stage: Stage | None) -> CoverageView:
    """The patient judged against ``policy`` at ``stage``; None: the stage due under it (``PatientFacts.stage_due``)."""
    if stage is None:
        stage = facts.stage_due(policy)
    evidence, notes = coverage_evidence(facts, stage, policy_id=policy.id)
    evaluation = evaluate_coverage(policy, evidence, stage=stage, today=facts.today)
    return CoverageView(policy, evaluation, notes)


def coverage_evaluation(
    *, user: Any, patient: Patient, today: dt.date, policy_id: str | None = None, stage: str | None = None
) -> CoverageView:
    """The patient judged against a shipped policy (the one asked for, else their insurance's) at ``stage`` (by
    default the stage due under that policy, ``PatientFacts.stage_due``: continuation once the policy's
    ``after_cycles`` sessions are recorded, else initial); the read is audited."""
    policy = chosen_policy(patient, policy_id)
    facts = patient_facts(patient, today=today)
    chosen = Stage(stage) if stage else facts.stage_due(policy)
    view = evaluate(facts, policy, chosen)
    audit_record(
        user=user,
        action=Action.READ,
        object_type="coverage",
        object_id=patient.external_id,
        patient_id=patient.external_id,
        detail=f"{policy.id} {chosen.value}: {view.evaluation.status.value}",
    )
    return view


# --- Prices and cost ----------------------------------------------------------------------------------------------


def price_in_force(clinic: Clinic, item: str, on: dt.date) -> ClinicPrice | None:
    """The latest price for ``item`` set on or before ``on`` (the most recently entered on a tie)."""
    return (
        ClinicPrice.objects.filter(clinic=clinic, item=item, set_on__lte=on)
        .order_by("-set_on", "-created", "-id")
        .select_related("set_by")
        .first()
    )


def price_history(clinic: Clinic) -> dict[str, list[ClinicPrice]]:
    """Every price ever set, per item, newest first."""
    history: dict[str, list[ClinicPrice]] = {item: [] for item in PriceItem.values}
    prices = ClinicPrice.objects.filter(clinic=clinic).select_related("set_by").order_by("-set_on", "-created", "-id")
    for price in prices:
        history[price.item].append(price)
    return history


def price_list(clinic: Clinic, on: dt.date, *, history: Mapping[str, list[ClinicPrice]] | None = None) -> PriceList:
    """The engine's price list in force on ``on``; ``CoverageUnavailableError`` naming each price not set.
    ``history`` (``price_history``, read once) prices many days without a query each."""
    if history is None:
        found = {item: price_in_force(clinic, item, on) for item in PriceItem.values}
    else:  # newest first, as price_in_force orders them: the first set on or before the day
        found = {item: next((p for p in history[item] if p.set_on <= on), None) for item in PriceItem.values}
    drug, admin, visit = (found[PriceItem.DRUG_PER_UNIT], found[PriceItem.ADMINISTRATION], found[PriceItem.VISIT])
    if drug is None or admin is None:
        missing = [_(PRICE_LABELS[item]) for item in PRICE_LABELS if found[item] is None]
        raise CoverageUnavailableError(_(NO_PRICE).format(item=get_text_list(missing, _("and")), day=on.isoformat()))
    currencies = sorted({price.currency for price in found.values() if price is not None})
    if len(currencies) > 1:
        raise CoverageUnavailableError(_(MIXED_CURRENCY).format(day=on.isoformat(), currencies=", ".join(currencies)))
    return PriceList(
        currency=currencies[0],
        drug_per_unit=Price(drug.amount, drug.set_on),
        administration=Price(admin.amount, admin.set_on),
        visit=None if visit is None else Price(visit.amount, visit.set_on),
    )


def benefit_terms(insurance: PatientInsurance | None) -> BenefitTerms | None:
    if insurance is None:
        return None
    return BenefitTerms(
        deductible_remaining=insurance.deductible_remaining,
        coinsurance_percent=insurance.coinsurance_percent,
        copay_per_session=insurance.copay_per_session,
        out_of_pocket_remaining=insurance.out_of_pocket_remaining,
        savings_remaining=insurance.savings_remaining,
        savings_programme=insurance.savings_programme,
    )


@dataclass(frozen=True, slots=True)
class RecordedSessionCost:
    """One recorded session at the prices in force on its day (``problem``: why it could not be priced). Its
    patient's share is worked out only for a session given on or after the day the insurance terms were checked,
    from the terms left before it (``cost_for``); ``share_unknown`` says why a priced session has none."""

    session: InjectionSession
    cost: SessionCost | None
    problem: str = ""
    share_unknown: str = ""


@dataclass(frozen=True, slots=True)
class CostView:
    """The next session and a year of sessions at the prices in force on the planned date (``priced_on``: every
    session of the year at those prices, a price change later in the year not foreseen), and each recorded session
    at the prices in force on its own day; ``problem`` says why the planned figures are missing (no prices set)."""

    today: dt.date
    plan: InjectionPlan
    insurance: PatientInsurance | None
    planned: SessionCost | None
    year: YearCost | None
    sessions_per_year: int
    assumptions: tuple[str, ...]
    recorded: tuple[RecordedSessionCost, ...] = field(default_factory=tuple)
    problem: str = ""
    priced_on: dt.date | None = None
    """The planned date, whose prices the next session and every session of the year are worked out with (only a
    recorded session is priced with the prices in force on its own day)."""
    terms_counted: tuple[dt.date, ...] = ()
    """The days of the recorded sessions taken off the insurance terms as checked before the next session and the
    year (those on or after the day the terms were checked, in date order); none: the terms as checked."""
    approval_warning: str = ""
    """``COST_WITHOUT_APPROVAL`` when the patient's payer asks for prior authorisation and none is in force on the
    planned date (``approval_on``), naming the denial or the end: the shares still count the payer's part, which it
    may refuse. Also among ``assumptions`` (the API's words); the page shows it above the figures. Empty once
    treatment has stopped (``stopped_on``): no session is planned to need one."""
    stopped_on: dt.date | None = None
    """The day of the clinician's decision to stop (``PatientFacts.stopped``): the figures are what a further
    session would cost, none being planned."""


def _priced(
    billing: InjectionPlan, prices: PriceList, benefits: BenefitTerms | None, insurance: PatientInsurance | None
) -> SessionCost:
    try:
        return session_cost(
            billing,
            prices=prices,
            benefits=benefits,
            bill_discarded_units=True if insurance is None else insurance.bill_discarded_units,
        )
    except CostError as error:
        raise CoverageUnavailableError("; ".join(str(arg) for arg in error.args)) from None


def _terms_left(
    insurance: PatientInsurance, checked: BenefitTerms, given: Sequence[SessionGiven], unpriced: Sequence[dt.date]
) -> tuple[TermsLeft, list[str]]:
    """The engine's terms left before the next session (``terms_left``) from the sessions recorded since the check,
    and the notes saying which sessions were taken off (and which could not be)."""
    checked_on = insurance.terms_as_of
    # Each session given had its claim lines charged already (its row of the table): the engine cannot refuse them.
    left = terms_left(checked, checked_on=checked_on, given=given, bill_discarded_units=insurance.bill_discarded_units)
    day = checked_on.isoformat()
    days = [counted.isoformat() for counted in left.counted]
    if not days:
        notes = [_(ASSUME_TERMS_AS_OF).format(day=day)]
    elif len(days) == 1:
        notes = [_(ASSUME_TERMS_AFTER_SESSION).format(day=day, session=days[0])]
    else:
        notes = [_(ASSUME_TERMS_AFTER_SESSIONS).format(day=day, sessions=get_text_list(days, _("and")))]
    if checked_on in left.counted:
        notes.append(_(ASSUME_TERMS_CHECK_DAY).format(session=day))
    if days:
        notes.append(_(ASSUME_TERMS_PLAN_YEAR))
    notes.extend(_(ASSUME_TERMS_NOT_TAKEN_OFF).format(session=missed.isoformat()) for missed in sorted(unpriced))
    return left, notes


def _recorded_costs(
    facts: PatientFacts,
    insurance: PatientInsurance | None,
    checked: BenefitTerms | None,
    history: Mapping[str, list[ClinicPrice]],
) -> tuple[list[RecordedSessionCost], list[SessionGiven], list[dt.date]]:
    """Each recorded session priced at its day's prices (newest first, as the page lists them), its patient's share
    from the terms left before it when given on or after the check (``cost_for``), else ``SHARE_BEFORE_CHECK``; the
    sessions priced (for ``terms_left``), and the days of those since the check that could not be priced."""
    patient = facts.patient
    recorded: list[RecordedSessionCost] = []
    given: list[SessionGiven] = []
    unpriced: list[dt.date] = []
    running = checked  # the terms left before the next session since the check, carried in date order
    for session in facts.recorded:  # oldest first: each session since the check starts from what the last left
        # Which sessions are taken off the terms is the engine's rule (``terms_left``): it is given every session
        # priced; this only names a session since the check that could not be priced, so is not taken off.
        since_check = insurance is not None and session.date >= insurance.terms_as_of
        try:
            plan = session_plan(session)
        except PlanError as error:
            recorded.append(RecordedSessionCost(session, None, str(error)))
            if since_check:
                unpriced.append(session.date)
            continue
        if plan is None:
            continue
        try:
            prices = price_list(patient.clinic, session.date, history=history)
            cost = _priced(plan, prices, running if since_check else None, insurance)
        except CoverageUnavailableError as error:
            recorded.append(RecordedSessionCost(session, None, str(error)))
            if since_check:
                unpriced.append(session.date)
            continue
        unknown = ""
        if insurance is not None and not since_check:
            unknown = _(SHARE_BEFORE_CHECK).format(day=insurance.terms_as_of.isoformat())
        recorded.append(RecordedSessionCost(session, cost, share_unknown=unknown))
        spent = SessionGiven(session.date, plan, prices)
        given.append(spent)
        if since_check and running is not None and insurance is not None:
            running = terms_left(
                running, checked_on=session.date, given=[spent], bill_discarded_units=insurance.bill_discarded_units
            ).terms
    recorded.reverse()  # newest first, as the page lists them
    return recorded, given, unpriced


def cost_for(facts: PatientFacts) -> CostView:
    """Cost figures from the facts (no audit: callers record the read). The next session and the whole year are
    priced with the prices in force on the planned date (``planned_date``), every session of the year alike: a price
    set for a later day of the year does not enter it. Each recorded session is priced with the prices in force on
    its own day. Its patient's share: for a session on or after the day the insurance terms were checked, from the
    terms left before it, the sessions since the check one after another in date order, each taking off what it
    used (the engine's ``terms_left``, as the year carries its balances); a session before the check is already
    counted in the terms as checked, so its share is not known (``SHARE_BEFORE_CHECK``), never the full deductible
    charged again. The next session and the year start from the terms left after every session since the check.
    When the payer asks for prior authorisation and none is in force on the planned date (``approval_on``: denied,
    ended, not started, awaiting the payer, or never asked for) the figures are worked out all the same, with
    ``approval_warning`` saying so."""
    patient = facts.patient
    insurance = insurance_of(patient)
    checked = benefit_terms(insurance)
    sessions = insurance.sessions_per_year if insurance is not None else SESSIONS_A_YEAR
    priced_on, planned_note = planned_date(facts)
    stopped_on = facts.stopped.decided_on if facts.stopped is not None else None
    prices_on = _(ASSUME_PRICES_ON) if facts.stopped is None else _(ASSUME_PRICES_ON_STOPPED)
    notes = [*facts.assumptions, planned_note, prices_on.format(day=priced_on.isoformat())]
    approval = approval_on(patient, priced_on)
    approval_warning = ""
    if approval.missing and facts.stopped is None:  # once stopped, no session is planned to need an approval
        approval_warning = _(COST_WITHOUT_APPROVAL).format(day=priced_on.isoformat(), why=approval.why)
        notes.append(approval_warning)
    history = price_history(patient.clinic)  # once, not three queries per recorded session
    recorded, given, unpriced = _recorded_costs(facts, insurance, checked, history)
    benefits = checked
    counted: tuple[dt.date, ...] = ()
    if insurance is None or checked is None:
        notes.append(_(ASSUME_NO_INSURANCE))
    else:
        left, terms_notes = _terms_left(insurance, checked, given, unpriced)
        benefits, counted = left.terms, left.counted
        notes.extend(terms_notes)
    try:
        prices = price_list(patient.clinic, priced_on, history=history)
        planned = _priced(facts.plan, prices, benefits, insurance)
        year = year_cost(
            facts.plan,
            sessions=sessions,
            prices=prices,
            benefits=benefits,
            bill_discarded_units=True if insurance is None else insurance.bill_discarded_units,
        )
    except CoverageUnavailableError as error:
        return CostView(
            facts.today,
            facts.plan,
            insurance,
            None,
            None,
            sessions,
            tuple(notes),
            tuple(recorded),
            str(error),
            priced_on,
            counted,
            approval_warning,
            stopped_on,
        )
    return CostView(
        facts.today,
        facts.plan,
        insurance,
        planned,
        year,
        sessions,
        tuple(notes),
        tuple(recorded),
        "",
        priced_on,
        counted,
        approval_warning,
        stopped_on,
    )


def patient_cost(*, user: Any, patient: Patient, today: dt.date) -> CostView:
    """Cost per session and per year with the patient's share; the read is audited."""
    view = cost_for(patient_facts(patient, today=today))
    audit_record(
        user=user,
        action=Action.READ,
        object_type="cost",
        object_id=patient.external_id,
        patient_id=patient.external_id,
        detail="cost",
    )
    return view


def status_labels() -> Mapping[str, str]:
    """The engine's criterion outcomes and overall statuses as the pages say them."""
    return {
        "met": _("met"),
        "not_met": _("not met"),
        "missing_information": _("information missing"),
        "approvable": _("approvable"),
        "not_approvable": _("not approvable"),
        "information_missing": _("information missing"),
    }


OUTCOME_TONES: Mapping[str, str] = {
    "met": "ok",
    "approvable": "ok",
    "not_met": "bad",
    "not_approvable": "bad",
    "missing_information": "warn",
    "information_missing": "warn",
}


def has_recorded_session(patient: Patient, today: dt.date) -> bool:
    """Whether a session is recorded on or before ``today`` (what the continuation letter and the procedure note
    need; ``patient_facts`` reads the same sessions)."""
    return InjectionSession.objects.filter(patient=patient, status=SessionStatus.RECORDED, date__lte=today).exists()


def request_stage_due(patient: Patient, today: dt.date, insurance: PatientInsurance | None) -> Stage:
    """The stage a new request is at under the policy of ``insurance`` (the patient's, ``insurance_of``): the
    engine's ``stage_due`` for the sessions recorded on or before ``today`` (without insurance, or with a policy no
    longer shipped, no policy says when a continuation is judged: initial)."""
    policy = shipped_policies().get(insurance.policy_id) if insurance is not None else None
    given = InjectionSession.objects.filter(patient=patient, status=SessionStatus.RECORDED, date__lte=today).count()
    return stage_due(policy, given)


def sessions_recorded(patient: Patient) -> Sequence[InjectionSession]:
    return list(InjectionSession.objects.filter(patient=patient, status=SessionStatus.RECORDED).order_by("-date"))


# --- The command line ---------------------------------------------------------------------------------------------

NO_SUCH_PATIENT = gettext_noop("no patient with id or record number {identifier!r}")
AMBIGUOUS_RECORD_NUMBER = gettext_noop(
    "record number {identifier!r} is used in {count} clinics ({clinics}): give the patient's id (UUID) instead"
)


def patient_by_identifier(identifier: str) -> Patient:
    """The patient named on the command line by public id (UUID) or record number, for the server's operator (who
    reads every clinic's data, as a backup does); ``CoverageUnavailableError`` naming the problem otherwise."""
    import uuid

    try:
        key = uuid.UUID(identifier)
    except ValueError:
        key = None
    if key is not None:
        found = Patient.objects.select_related("clinic").filter(external_id=key).first()
        if found is not None:
            return found
    matches = list(Patient.objects.select_related("clinic").filter(record_number=identifier))
    if not matches:
        raise CoverageUnavailableError(_(NO_SUCH_PATIENT).format(identifier=identifier))
    if len(matches) > 1:
        clinics = ", ".join(sorted(patient.clinic.name for patient in matches))
        raise CoverageUnavailableError(
            _(AMBIGUOUS_RECORD_NUMBER).format(identifier=identifier, count=len(matches), clinics=clinics)
        )
    return matches[0]
