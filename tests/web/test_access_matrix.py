"""The access matrix: every URL of the project and every API operation, for every role, on the user's own patient,
another patient of the same clinic and a patient of another clinic, allowed or denied as the table below says.

The table is the specification, written out from ``patients.access.ROLE_CAPABILITIES`` as the issue states it, not
computed from the code under test:

- clinicians and nurses: everything clinical, on their clinic's patients (they may also keep a patient's diary);
- billing staff and administrators: demographics and billing on their clinic's patients, nothing clinical;
- a patient: their own record only (view, keep the diary, questionnaires, side effects), through the portal;
- trainees: no patient at all;
- anonymous visitors: nothing but signing in (and the API's public schema).

"Allowed" means the request was served (2xx, a redirect other than to sign-in, or for the API 409/422: the request
reached the rules). "Denied" means 401, 403, 404, 405 or a redirect to sign-in; a denied write must change nothing.
Every URL pattern must have an entry here: a new page without one fails ``test_every_url_is_classified``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Max
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from onaboard.web.accounts.models import ApiToken, User
from onaboard.web.config.api import api
from onaboard.web.coverage.models import PriorAuthorisation
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.injections.models import InjectionSession, InjectionSiteRecord, SessionStatus, SideEffect
from onaboard.web.outcomes.models import QuestionnaireResponse, TreatmentDecision
from onaboard.web.patients.models import OtherToxinTreatment, Patient, PreventiveTrial

ROLES = ("anonymous", "clinician", "nurse", "billing", "patient", "trainee", "admin")
TARGETS = ("own", "same_clinic", "other_clinic")
"""``own``: the patient user's record (for staff, simply a patient of their clinic); ``same_clinic``: another
patient of that clinic; ``other_clinic``: a patient of another clinic."""

NOBODY: frozenset[str] = frozenset()
SIGNED_IN = frozenset({"clinician", "nurse", "billing", "patient", "trainee", "admin"})
STAFF = frozenset({"clinician", "nurse", "billing", "admin"})
CLINICAL = frozenset({"clinician", "nurse"})
CLINICIAN = frozenset({"clinician"})
"""Who decides to continue or stop treatment (a prescribing decision: not nurses)."""
PATIENT = frozenset({"patient"})
LEARNERS = frozenset({"clinician", "nurse", "trainee", "admin"})
"""Who takes the injector course: clinicians, nurses, trainees, and administrators (to see what trainees see)."""
TRAINERS = frozenset({"clinician", "admin"})
"""Who schedules live sessions, logs supervised injections and follows trainees' progress."""


@dataclass(frozen=True)
class Rule:
    """Who may use one address. ``scoped`` addresses name a patient and are tried on each target; the others once.

    ``methods`` are those the address serves to allowed users (only they are checked in allowed cells); in denied
    cells both GET and POST must be denied. ``query`` is appended, ``{patient}`` standing for the target's id.
    """

    scoped: bool
    unscoped_roles: frozenset[str] = NOBODY
    by_target: dict[str, frozenset[str]] = field(default_factory=dict)
    methods: tuple[str, ...] = ("GET",)
    query: str = ""

    def allowed(self, role: str, target: str | None) -> bool:
        return role in (self.by_target[target] if self.scoped else self.unscoped_roles)


def page(roles: frozenset[str], *methods: str) -> Rule:
    """An address that names no patient: the listed roles may use it."""
    return Rule(scoped=False, unscoped_roles=roles, methods=methods or ("GET",))


def patient_page(
    own: frozenset[str],
    same_clinic: frozenset[str],
    other_clinic: frozenset[str] = NOBODY,
    *methods: str,
    query: str = "",
) -> Rule:
    """An address that names a patient: who may use it for each target."""
    by_target = {"own": own, "same_clinic": same_clinic, "other_clinic": other_clinic}
    return Rule(scoped=True, by_target=by_target, methods=methods or ("GET",), query=query)


# --- The table: pages ---------------------------------------------------------------------------------------------

OPEN = frozenset(
    {
        "accounts:login",
        "accounts:login_code",
        "accounts:logout",
        "admin:login",
        "admin:logout",
        "api:openapi-json",
        "api:openapi-view",
        "api:api-root",
        # A certificate's public verification page and the FHIR server's capability statement.
        "training:verify",
        "fhir:metadata",
        # The load balancer's health check: "ok" or "database unavailable", nothing else (tests/web/common).
        "healthz",
    }
)
"""Signing in and out, the API's public description and the health check: anyone may ask, no patient data is
involved. They are only required to answer without a server error."""

ADMIN_RULE = page(NOBODY, "GET", "POST")
"""Django's admin (every pattern in the ``admin`` namespace but its sign-in): staff accounts (``is_staff``) only, and
no role makes an account staff by itself, so every role of the world is refused."""

PAGES: dict[str, Rule | tuple[Rule, ...]] = {
    # The front door: each signed-in role lands somewhere (patients on the diary, trainees on their course).
    "clinic:home": page(SIGNED_IN),
    "clinic:worklist": page(STAFF),
    # Everyone signed in changes their own password (no id in the address: only their own).
    "accounts:password_change": page(SIGNED_IN),
    # Two-step sign-in is for staff.
    "accounts:otp_device_detail": page(STAFF, "GET", "POST"),
    "accounts:otp_device_confirm": page(STAFF, "GET"),
    "accounts:otp_device_remove": page(STAFF, "POST"),
    # The patient portal: "my" diary and questionnaires, no id in the address. Staff and trainees who open the
    # portal's front pages are sent to their own home page (no data shown); the others are the patient's only.
    "diary:today": page(SIGNED_IN, "GET", "POST"),
    "diary:history": page(PATIENT),
    "diary:edit": page(PATIENT, "GET", "POST"),
    "outcomes:questionnaires": page(SIGNED_IN),
    "outcomes:hit6": page(PATIENT, "GET", "POST"),
    "outcomes:midas": page(PATIENT, "GET", "POST"),
    # Side effects: a patient reports on their own record; clinical staff report for ?patient=<id> of their clinic
    # (KEEP_DIARY). The patient always reports on their own record, whatever ?patient= says, so no target is
    # "another's" for them.
    "injections:report_side_effect": (
        page(PATIENT, "GET", "POST"),
        patient_page(CLINICAL | PATIENT, CLINICAL | PATIENT, PATIENT, "GET", "POST", query="patient={patient}"),
    ),
    # A patient's diary day kept by staff (or the patient, on their own record): KEEP_DIARY.
    "diary:patient_day": patient_page(CLINICAL | PATIENT, CLINICAL, NOBODY, "GET", "POST"),
    # Staff patient pages: the clinical page (billing staff and administrators are sent to the billing page),
    # the billing page (VIEW_BILLING), and the record's edit pages (EDIT_CLINICAL). Patients use the portal.
    "patients:new": page(CLINICAL, "GET", "POST"),
    "patients:detail": patient_page(STAFF, STAFF),
    "patients:billing": patient_page(STAFF, STAFF),
    "patients:edit": patient_page(CLINICAL, CLINICAL, NOBODY, "GET", "POST"),
    "patients:safety_edit": patient_page(CLINICAL, CLINICAL, NOBODY, "GET", "POST"),
    "patients:other_toxin_new": patient_page(CLINICAL, CLINICAL, NOBODY, "GET", "POST"),
    "patients:preventive_new": patient_page(CLINICAL, CLINICAL, NOBODY, "GET", "POST"),
    "patients:preventive_edit": patient_page(CLINICAL, CLINICAL, NOBODY, "GET", "POST"),
    # Injection sessions: recording and booking (RECORD_SESSION); reading a session (VIEW_CLINICAL, or VIEW_BILLING
    # for its billing facts); a side effect (VIEW_CLINICAL) and its review (EDIT_CLINICAL).
    "injections:session_new": patient_page(CLINICAL, CLINICAL, NOBODY, "GET", "POST"),
    "injections:session_record": patient_page(CLINICAL, CLINICAL, NOBODY, "GET", "POST"),
    "injections:session_book": patient_page(CLINICAL, CLINICAL, NOBODY, "GET", "POST"),
    "injections:first_session_book": patient_page(CLINICAL, CLINICAL, NOBODY, "GET", "POST"),
    "injections:session_cancel": patient_page(CLINICAL, CLINICAL, NOBODY, "GET", "POST"),
    # marking a recorded session entered in error: reached with RECORD_SESSION (a nurse is told it is a clinician's
    # to do: injections.services.injection_session_mark_in_error asks DECIDE_TREATMENT)
    "injections:session_in_error": patient_page(CLINICAL, CLINICAL, NOBODY, "GET", "POST"),
    "injections:session_detail": patient_page(STAFF | PATIENT, STAFF),
    "injections:side_effect_detail": patient_page(CLINICAL | PATIENT, CLINICAL),
    "injections:side_effect_review": patient_page(CLINICAL, CLINICAL, NOBODY, "GET", "POST"),
    # A patient's questionnaires as staff (or the patient) read them: VIEW_CLINICAL.
    "outcomes:patient_questionnaires": patient_page(CLINICAL | PATIENT, CLINICAL),
    # Entering a patient's HIT-6 and MIDAS from the paper form: clinical staff (KEEP_DIARY); patients use their own.
    "outcomes:patient_hit6": patient_page(CLINICAL, CLINICAL, NOBODY, "GET", "POST"),
    "outcomes:patient_midas": patient_page(CLINICAL, CLINICAL, NOBODY, "GET", "POST"),
    # Continue or stop treatment: clinical staff read the engine's verdict and the decisions (VIEW_CLINICAL, a staff
    # page); only a clinician records one (DECIDE_TREATMENT), by POST.
    "outcomes:treatment_decisions": patient_page(CLINICAL, CLINICAL),
    "outcomes:treatment_decision_record": patient_page(CLINICIAN, CLINICIAN, NOBODY, "POST"),
    # Portal accounts: the patient closes their own; clinical staff close a patient's on their behalf.
    "accounts:portal_close": page(PATIENT, "GET"),
    "accounts:patient_portal_close": patient_page(CLINICAL, CLINICAL, NOBODY, "GET", "POST"),
    # Coverage: every staff role reads a patient's coverage and cost and keeps insurance terms and prior
    # authorisations (VIEW_BILLING); the clinic's prices are read by all staff (billing and admins set them).
    "coverage:prices": page(STAFF),  # who may add a price: tests/web/coverage
    "coverage:patient": patient_page(STAFF, STAFF),
    "coverage:insurance_edit": patient_page(STAFF, STAFF, NOBODY, "GET", "POST"),
    "coverage:authorisation_new": patient_page(STAFF, STAFF, NOBODY, "GET", "POST"),
    "coverage:authorisation_edit": patient_page(STAFF, STAFF, NOBODY, "GET", "POST"),
    "coverage:document": patient_page(STAFF, STAFF),
    # Data exchange: clinical staff export and import a patient's record (VIEW_CLINICAL / EDIT_CLINICAL) on the
    # exchange page, which is staff's; a patient downloads their own, from the portal's "my data" addresses or their
    # record's download addresses; calendar feeds are clinical.
    "interop:patient": patient_page(CLINICAL, CLINICAL, NOBODY, "GET", "POST"),
    "interop:patient_fhir": patient_page(CLINICAL | PATIENT, CLINICAL),
    "interop:patient_diary_csv": patient_page(CLINICAL | PATIENT, CLINICAL),
    "interop:patient_csv": patient_page(CLINICAL | PATIENT, CLINICAL),
    "interop:my_data": page(PATIENT, "GET"),
    "interop:my_fhir": page(PATIENT),
    "interop:my_diary_csv": page(PATIENT),
    "interop:my_csv": page(PATIENT),
    "interop:calendar": page(CLINICAL, "GET", "POST"),
    "interop:feed": page(NOBODY),  # an unknown secret is nobody's feed; the feed itself is tested in tests/web/interop
    "fhir_base": page(CLINICAL, "POST"),
    "fhir:transaction": page(CLINICAL, "POST"),
    "fhir:everything": patient_page(CLINICAL | PATIENT, CLINICAL),
    # Training: learners take the course; trainers schedule sessions and follow trainees. Addresses naming an
    # attempt, a live session or a certificate are tried with an id nobody has (their owners: tests/web/training).
    "training:course": page(LEARNERS),
    "training:module": page(LEARNERS),
    "training:quiz_start": page(LEARNERS, "POST"),
    "training:site_trainer": page(LEARNERS, "GET", "POST"),
    "training:cases": page(LEARNERS, "GET", "POST"),
    "training:certificate": page(LEARNERS, "GET", "POST"),
    "training:sessions": page(LEARNERS),
    "training:trainees": page(TRAINERS),
    "training:trainee": page(TRAINERS),
    "training:session_create": page(TRAINERS, "GET", "POST"),
    "training:supervised_log": page(CLINICIAN, "GET", "POST"),  # a clinician signs off an injection
    "training:quiz": page(NOBODY),
    "training:site_attempt": page(NOBODY),
    "training:case": page(NOBODY),
    "training:session": page(NOBODY),
    "training:session_enrol": page(NOBODY),
    "training:session_leave": page(NOBODY),
    "training:session_attendance": page(NOBODY),
    "training:session_edit": page(NOBODY),
    "training:session_cancel": page(NOBODY),
    "training:certificate_pdf": page(NOBODY),
    # The clinic's cohort analytics: clinical staff only (in a small clinic its figures are named patients' values).
    "analytics:cohort": page(CLINICAL),
    "analytics:cohort_html": page(CLINICAL),
    "analytics:cohort_pdf": page(CLINICAL),
}

# --- The table: API operations ------------------------------------------------------------------------------------

DEMOGRAPHICS = patient_page(STAFF | PATIENT, STAFF)
CLINICAL_READ = patient_page(CLINICAL | PATIENT, CLINICAL)
KEEP_DIARY = patient_page(CLINICAL | PATIENT, CLINICAL)
CLINICAL_WRITE = patient_page(CLINICAL, CLINICAL)
SESSION_READ = patient_page(STAFF | PATIENT, STAFF)

API: dict[str, Rule] = {
    "GET /api/patients": page(SIGNED_IN),
    "GET /api/patients/{patient_id}": DEMOGRAPHICS,
    "GET /api/patients/{patient_id}/diary": CLINICAL_READ,
    "PUT /api/patients/{patient_id}/diary/{day}": KEEP_DIARY,
    # the eligibility verdicts, as the staff's patient page shows them (the portal shows the patient their counts)
    "GET /api/patients/{patient_id}/assessment": patient_page(CLINICAL, CLINICAL),
    # the worklist's state, as the staff pages show it ("stop suggested", a clinician's stop reason): staff only
    "GET /api/patients/{patient_id}/pathway": patient_page(CLINICAL, CLINICAL),
    "GET /api/patients/{patient_id}/outcomes": CLINICAL_READ,
    "GET /api/patients/{patient_id}/questionnaires": CLINICAL_READ,
    "POST /api/patients/{patient_id}/questionnaires": KEEP_DIARY,
    "GET /api/plan": page(SIGNED_IN),
    "GET /api/worklist": page(STAFF),
    "GET /api/patients/{patient_id}/sessions": SESSION_READ,
    "POST /api/patients/{patient_id}/sessions": CLINICAL_WRITE,
    "GET /api/sessions/{session_id}": SESSION_READ,
    "PUT /api/sessions/{session_id}/booking": CLINICAL_WRITE,
    "POST /api/sessions/{session_id}/cancel": CLINICAL_WRITE,
    "POST /api/sessions/{session_id}/entered-in-error": CLINICAL_WRITE,
    "GET /api/patients/{patient_id}/side-effects": CLINICAL_READ,
    "POST /api/patients/{patient_id}/side-effects": KEEP_DIARY,
    "GET /api/side-effects/{side_effect_id}": CLINICAL_READ,
    "POST /api/side-effects/{side_effect_id}/review": CLINICAL_WRITE,
    "GET /api/coverage/policies": page(SIGNED_IN),
    "GET /api/patients/{patient_id}/coverage": patient_page(STAFF, STAFF),
    "GET /api/patients/{patient_id}/cost": patient_page(STAFF, STAFF),
    "GET /api/patients/{patient_id}/documents/{kind}": patient_page(STAFF, STAFF),
    "GET /api/training/modules": page(LEARNERS),
    "GET /api/training/sessions": page(LEARNERS),
    "POST /api/training/sessions/{live_session_id}/enrolments": page(NOBODY),
    "GET /api/training/certificates/{code}": page(SIGNED_IN | {"anonymous"}),
    "GET /api/analytics/cohort": page(CLINICAL),
}


def api_bodies(today: Any) -> dict[str, dict[str, Any]]:
    """A valid body for each write, so a refusal is the access rule's and not the body's validation."""
    return {
        "PUT /api/patients/{patient_id}/diary/{day}": {"headache_hours": 0},
        "POST /api/patients/{patient_id}/questionnaires": {
            "instrument": "hit6",
            "date": today.isoformat(),
            "answers": ["never", "rarely", "sometimes", "very often", "always", "never"],
        },
        "POST /api/patients/{patient_id}/sessions": {
            "date": today.isoformat(),
            "sites": [{"muscle": "procerus", "side": "midline", "units": 5}],
            "product_lot": "LOT1",
            "product_expiry": (today + timedelta(days=90)).isoformat(),
        },
        "PUT /api/sessions/{session_id}/booking": {"date": (today + timedelta(days=60)).isoformat()},
        "POST /api/sessions/{session_id}/cancel": {},
        "POST /api/sessions/{session_id}/entered-in-error": {"reason": "recorded for the wrong patient"},
        "POST /api/patients/{patient_id}/side-effects": {
            "kind": "neck_pain",
            "onset": today.isoformat(),
            "severity": "mild",
        },
        "POST /api/side-effects/{side_effect_id}/review": {"grade": "mild", "related_to_treatment": None},
        "POST /api/training/sessions/{live_session_id}/enrolments": {},
    }


# --- Walking the project's addresses ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str
    """``namespace:name``, or ``namespace:<route>`` for an unnamed pattern."""
    route: str
    namespace: str


def _routes(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = (
                ":".join(part for part in (namespace, pattern.namespace) if part) if pattern.namespace else namespace
            )
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            name = pattern.name or f"<{route}>"
            yield Route(f"{namespace}:{name}" if namespace else name, route, namespace)


ROUTES: tuple[Route, ...] = tuple(_routes(get_resolver().url_patterns))
SCHEMA = api.get_openapi_schema()
OPERATIONS: tuple[str, ...] = tuple(
    f"{method.upper()} {path}"
    for path, operations in SCHEMA["paths"].items()
    for method in operations
    if method in {"get", "post", "put", "patch", "delete"}
)
PAGE_ROUTES = tuple(route for route in ROUTES if route.namespace not in {"api", "admin"} and route.key not in OPEN)
ADMIN_ROUTES = tuple(route for route in ROUTES if route.namespace == "admin" and route.key not in OPEN)
API_ROUTES = tuple(route for route in ROUTES if route.namespace == "api" and route.key not in OPEN)

ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
CONVERTER_VALUES = {"csv_kind": "sessions"}
"""Parameters whose value follows from their converter rather than their name (a CSV kind, not a document kind)."""
REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")
SCHEMA_PARAMETER = re.compile(r"\{(?P<name>\w+)\}")

ADMIN_VALUES = {"app_label": "accounts", "object_id": "1", "content_type_id": "1", "pk": "1", "id": "1", "url": "x/"}


class UnknownParameterError(LookupError):
    """An address has a parameter this test does not know how to fill: add it to ``_values``."""


def concrete(route: str, values: dict[str, str]) -> str:
    """The address for a route pattern (``<uuid:patient_id>``, ``(?P<url>.*)``, ``{patient_id}``) and values."""

    def fill(match: re.Match[str]) -> str:
        name = match["name"]
        converter = match.groupdict().get("converter")
        if converter in CONVERTER_VALUES:
            return CONVERTER_VALUES[converter]
        if name not in values:
            raise UnknownParameterError(f"no value for <{name}> in {route!r}")
        return values[name]

    address = SCHEMA_PARAMETER.sub(fill, REGEX_GROUP.sub(fill, ROUTE_PARAMETER.sub(fill, route)))
    address = address.removeprefix("^").removesuffix("$")
    return address if address.startswith("/") else "/" + address


def _api_route_as_schema_path(route: str) -> str:
    return "/" + ROUTE_PARAMETER.sub(lambda m: "{" + m["name"] + "}", route)


# --- The world's records ------------------------------------------------------------------------------------------


@dataclass
class Records:
    """One target patient and a record of each kind an address can name."""

    patient: Patient
    recorded: InjectionSession
    booking: InjectionSession
    side_effect: SideEffect
    trial: PreventiveTrial
    authorisation: PriorAuthorisation


def _records(patient: Patient, today: Any) -> Records:
    recorded = InjectionSession.objects.create(
        patient=patient, date=today - timedelta(days=30), status=SessionStatus.RECORDED, total_units=155
    )
    booking = InjectionSession.objects.create(patient=patient, date=today + timedelta(days=54))
    side_effect = SideEffect.objects.create(
        patient=patient, session=recorded, kind="neck_pain", onset=today - timedelta(days=2), severity="mild"
    )
    trial = PreventiveTrial.objects.create(
        patient=patient,
        drug="propranolol",
        drug_class="beta_blocker",
        start=today - timedelta(days=400),
        stop=today - timedelta(days=300),
        stop_reason="ineffective",
    )
    DiaryEntry.objects.create(patient=patient, date=today - timedelta(days=1), headache_hours=0)
    authorisation = PriorAuthorisation.objects.create(
        patient=patient, policy_id="botox-label", diagnosis_code="G43.709", requested_on=today
    )
    return Records(patient, recorded, booking, side_effect, trial, authorisation)


@pytest.fixture
def records(world) -> dict[str, Records]:
    today = timezone.localdate()
    return {
        "own": _records(world.own_patient, today),
        "same_clinic": _records(world.same_clinic_patient, today),
        "other_clinic": _records(world.other_clinic_patient, today),
    }


RECORD_IDS = ("patient_id", "external_id", "trial_id", "session_id", "side_effect_id", "authorisation_id")
"""The parameters that name a patient's record (the others name a module, a kind, an attempt of one's own ...)."""

NOBODYS_ID = "00000000-0000-4000-8000-000000000000"
"""An attempt, live session or certificate id that no record has."""


def _values(target: Records | None, trainee: User | None = None) -> dict[str, str]:
    today = timezone.localdate().isoformat()
    unscoped = {
        "day": today,
        "module_id": "diagnosis-and-diary",
        "attempt_id": NOBODYS_ID,
        "live_session_id": NOBODYS_ID,
        "certificate_id": NOBODYS_ID,
        "trainee_id": str(trainee.external_id) if trainee else NOBODYS_ID,
        "code": "AAAA-AAAA-AAAA",
        "secret": "not-a-feed-secret",
        "kind": "sessions",
    }
    if target is None:
        return unscoped
    return {
        **unscoped,
        "authorisation_id": str(target.authorisation.external_id),
        "kind": "procedure",
        "patient_id": str(target.patient.external_id),
        "external_id": str(target.patient.external_id),
        "trial_id": str(target.trial.external_id),
        "session_id": str(target.booking.external_id),
        "side_effect_id": str(target.side_effect.external_id),
        "day": today,
    }


def fingerprint() -> tuple[Any, ...]:
    """What a write could change: row counts and latest modification of every patient-data table."""
    tables = (
        Patient,
        DiaryEntry,
        InjectionSession,
        SideEffect,
        QuestionnaireResponse,
        PreventiveTrial,
        TreatmentDecision,
    )
    shape = [
        (model.__name__, model.objects.count(), model.objects.aggregate(m=Max("modified"))["m"]) for model in tables
    ]
    shape.append(("sites", InjectionSiteRecord.objects.count(), None))
    shape.append(("toxins", OtherToxinTreatment.objects.count(), None))
    return tuple(shape)


# --- Classifying answers ------------------------------------------------------------------------------------------

SIGN_IN_PREFIXES = ("/accounts/login/", "/admin/login/")


def page_denied(response: Any) -> bool:
    if response.status_code in {401, 403, 404, 405}:
        return True
    return response.status_code in {301, 302} and response.url.startswith(SIGN_IN_PREFIXES)


def page_served(response: Any) -> bool:
    return response.status_code < 500 and not page_denied(response)


def api_denied(response: Any) -> bool:
    return response.status_code in {401, 403, 404, 405}


def api_served(response: Any) -> bool:
    return 200 <= response.status_code < 300 or response.status_code in {409, 422}


# --- Completeness -------------------------------------------------------------------------------------------------


def test_every_url_is_classified():
    """Every URL pattern of the project has an entry in the table: a new page without one is an unclassified URL."""
    unclassified = [f"{route.key} ({route.route})" for route in PAGE_ROUTES if route.key not in PAGES]
    assert unclassified == [], "unclassified URL(s): add each to PAGES with who may use it"


def test_the_table_names_no_url_that_is_gone():
    """Every page in the table still exists, so the table cannot silently test nothing."""
    keys = {route.key for route in ROUTES}
    assert sorted(set(PAGES) - keys) == []
    assert sorted(OPEN - keys) == []


def test_every_api_url_is_an_operation_of_the_schema():
    """Each API URL pattern is documented in the OpenAPI schema, so the API half of the matrix sees it."""
    paths = set(SCHEMA["paths"])
    assert sorted(r.route for r in API_ROUTES if _api_route_as_schema_path(r.route) not in paths) == []


def test_every_api_operation_is_classified():
    """Every operation of the schema has an entry in the table, and every entry is an operation."""
    assert sorted(set(OPERATIONS) - set(API)) == [], "unclassified API operation(s): add each to API"
    assert sorted(set(API) - set(OPERATIONS)) == []


def test_every_api_write_has_a_valid_body():
    """Each write is tried with a valid body, so a refusal is the access rule's."""
    writes = {op for op in OPERATIONS if not op.startswith("GET ")}
    assert writes == set(api_bodies(timezone.localdate()))


# --- The matrix: pages --------------------------------------------------------------------------------------------


def _client_for(world: Any, role: str) -> Client:
    client = Client(raise_request_exception=False)
    if role != "anonymous":
        client.force_login(world.users[role])
    return client


def _check(
    problems: list[str],
    client: Client,
    url: str,
    allowed: bool,
    methods: tuple[str, ...],
    label: str,
    *,
    served: Any = page_served,
    denied: Any = page_denied,
    body: dict[str, Any] | None = None,
    only_methods: bool = False,
) -> None:
    """Allowed: each of ``methods`` is served. Denied: GET and POST are denied, or only ``methods`` when
    ``only_methods`` (an API operation: the path's other methods are other operations); a write changes nothing."""
    tried = methods if allowed or only_methods else ("GET", "POST")
    for method in tried:
        before = fingerprint() if method != "GET" and not allowed else None
        if method == "GET":
            response = client.get(url)
        else:
            payload = json.dumps(body) if body is not None else None
            send = client.put if method == "PUT" else client.post
            response = send(url, payload, content_type="application/json") if payload else send(url, {})
        where = f"{label} {method} {url} -> {response.status_code}"
        if response.status_code >= 500:
            problems.append(f"{where}: server error")
        elif allowed and not served(response):
            problems.append(f"{where}: expected allowed")
        elif not allowed and not denied(response):
            problems.append(f"{where}: expected denied")
        elif before is not None and fingerprint() != before:
            problems.append(f"{where}: denied but data changed")


def _rules(entry: Rule | tuple[Rule, ...]) -> tuple[Rule, ...]:
    return entry if isinstance(entry, tuple) else (entry,)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", PAGE_ROUTES, ids=lambda route: route.key)
def test_page_access(world, records, route, role):
    """Each page is served to the roles the table allows, for the patients it allows, and denied to the rest."""
    if route.key not in PAGES:
        pytest.fail(f"unclassified URL {route.key} ({route.route})")
    client = _client_for(world, role)
    problems: list[str] = []
    for rule in _rules(PAGES[route.key]):
        targets = TARGETS if rule.scoped else (None,)
        for target in targets:
            found = records[target] if target else None
            url = concrete(route.route, _values(found, world.users["trainee"]))
            if rule.query:
                patient = str(found.patient.external_id) if found else ""
                url += "?" + rule.query.format(patient=patient)
            _check(problems, client, url, rule.allowed(role, target), rule.methods, f"{role} on {target or '-'}")
    assert problems == []


@pytest.mark.parametrize("role", ROLES)
def test_admin_access(world, records, role):
    """Every page of Django's admin is refused to every role of the world (none of them is a staff account)."""
    client = _client_for(world, role)
    problems: list[str] = []
    for route in ADMIN_ROUTES:
        url = concrete(route.route, ADMIN_VALUES)
        _check(problems, client, url, ADMIN_RULE.allowed(role, None), ADMIN_RULE.methods, f"{role} {route.key}")
    assert problems == []


def test_a_staff_account_reaches_the_admin(world):
    """The admin's refusals above are about the account, not a broken admin: a superuser reaches its index."""
    admin = world.users["admin"]
    type(admin).objects.filter(pk=admin.pk).update(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    assert client.get(reverse("admin:index")).status_code == 200


@pytest.mark.parametrize("route", sorted(OPEN))
def test_open_addresses_answer_everyone(world, route):
    """Signing in and out and the API's description answer every role (and anonymous visitors) without error."""
    found = next(r for r in ROUTES if r.key == route)
    for role in ROLES:
        client = _client_for(world, role)
        url = concrete(found.route, {})
        assert client.get(url).status_code < 500
        assert client.post(url, {}).status_code < 500


# --- The matrix: API operations -----------------------------------------------------------------------------------


def _api_client_for(world: Any, role: str) -> Client:
    if role == "anonymous":
        return Client(raise_request_exception=False)
    _token, raw = ApiToken.issue(world.users[role], "access matrix")
    return Client(headers={"Authorization": f"Bearer {raw}"}, raise_request_exception=False)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_api_access(world, records, operation, role):
    """Each API operation serves the roles the table allows, for the patients it allows, and refuses the rest."""
    if operation not in API:
        pytest.fail(f"unclassified API operation {operation}")
    rule = API[operation]
    method, path = operation.split(" ", 1)
    client = _api_client_for(world, role)
    body = api_bodies(timezone.localdate()).get(operation)
    problems: list[str] = []
    for target in TARGETS if rule.scoped else (None,):
        url = concrete(path, _values(records[target] if target else None))
        _check(
            problems,
            client,
            url,
            rule.allowed(role, target),
            (method,),
            f"{role} on {target or '-'}",
            served=api_served,
            denied=api_denied,
            body=body,
            only_methods=True,
        )
    assert problems == []


# --- No patient reaches another's data by any id ------------------------------------------------------------------


def test_no_patient_reaches_another_patients_records_by_any_id(world, records):
    """The patient user asks for every other patient's record of every kind, on every page and operation, by GET and
    by a write: each is denied and nothing changes."""
    pages = _client_for(world, "patient")
    api_client = _api_client_for(world, "patient")
    bodies = api_bodies(timezone.localdate())
    problems: list[str] = []
    for target in ("same_clinic", "other_clinic"):
        values = _values(records[target])
        for route in PAGE_ROUTES:
            if any(f"<{name}>" in route.route or f":{name}>" in route.route for name in RECORD_IDS):
                _check(problems, pages, concrete(route.route, values), False, (), f"patient {route.key}")
        for operation in OPERATIONS:
            method, path = operation.split(" ", 1)
            if any(f"{{{name}}}" in path for name in RECORD_IDS):
                _check(
                    problems,
                    api_client,
                    concrete(path, values),
                    False,
                    (method,),
                    f"patient {operation}",
                    served=api_served,
                    denied=api_denied,
                    body=bodies.get(operation),
                    only_methods=True,
                )
    assert problems == []
