"""The FHIR endpoints (onaboard/web/interop/fhir_views.py): metadata, $everything and transaction Bundles."""

from __future__ import annotations

import datetime as dt
import json
from unittest import mock

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from onaboard.interop.fhir import read as fhir_read
from onaboard.web.accounts.models import BEARER_CHALLENGE, INVALID_TOKEN_CHALLENGE
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.interop import fhir_views
from onaboard.web.patients.models import Patient

FHIR_JSON = "application/fhir+json; charset=utf-8"


def _everything(client: Client, patient: Patient):
    return client.get(f"/fhir/Patient/{patient.external_id}/$everything")


def _post(client: Client, document: dict):
    return client.post("/fhir/", data=json.dumps(document), content_type="application/fhir+json")


def test_metadata_is_a_capability_statement_anyone_may_read(db):
    """GET /fhir/metadata answers a CapabilityStatement (R4B, JSON, $everything, transaction) without sign-in."""
    response = Client().get("/fhir/metadata")
    assert response.status_code == 200
    assert response["Content-Type"] == FHIR_JSON
    statement = response.json()
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.3.0"
    assert statement["rest"][0]["interaction"] == [{"code": "transaction"}]
    patient = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Patient")
    assert patient["operation"][0]["name"] == "everything"


def test_metadata_is_dated_the_clinics_day(db, settings):
    """The CapabilityStatement's date is the clinic's calendar day (timezone.localdate), not the day in UTC: at 12:30
    UTC on 30 June it is already 1 July in Auckland."""
    settings.TIME_ZONE = "Pacific/Auckland"
    with mock.patch("django.utils.timezone.now", return_value=dt.datetime(2026, 6, 30, 12, 30, tzinfo=dt.UTC)):
        statement = Client().get("/fhir/metadata").json()
    assert statement["date"] == "2026-07-01"


def test_everything_returns_the_patients_bundle_and_audits_it(world, charted, fhir_as):
    """A nurse's $everything is a searchset Bundle of the patient's resources, recorded as an export."""
    response = _everything(fhir_as("nurse"), charted)
    assert response.status_code == 200
    assert response["Content-Type"] == FHIR_JSON
    document = response.json()
    assert document["type"] == "searchset"
    kinds = [entry["resource"]["resourceType"] for entry in document["entry"]]
    assert kinds.count("Observation") == 3
    assert kinds.count("QuestionnaireResponse") == 1
    assert kinds.count("Appointment") == 1
    assert AuditEvent.objects.filter(
        action=Action.EXPORT, patient_id=charted.external_id, username="nurse", detail="fhir $everything"
    ).exists()


def test_everything_is_404_for_a_patient_the_caller_may_not_see(world, fhir_as):
    """Another clinic's patient, or a billing user without the clinical view, get a not-found OperationOutcome."""
    far = _everything(fhir_as("nurse"), world.other_clinic_patient)
    billing = _everything(fhir_as("billing"), world.same_clinic_patient)
    for response in (far, billing):
        assert response.status_code == 404
        assert response.json()["issue"][0] == {
            "severity": "error",
            "code": "not-found",
            "diagnostics": fhir_views.NOT_FOUND,
        }
    assert AuditEvent.objects.filter(action=Action.DENIED, object_id=str(world.other_clinic_patient.external_id))


def test_everything_needs_authentication(world):
    """Without a token or session the answer is 401 with an OperationOutcome and the ``WWW-Authenticate: Bearer``
    challenge HTTP requires of a 401 (RFC 6750: ``error="invalid_token"`` when a refused token was sent), as the
    API's 401s have it; a transaction's 401 likewise."""
    response = _everything(Client(), world.own_patient)
    assert response.status_code == 401
    assert response.json()["issue"][0]["diagnostics"] == fhir_views.NOT_AUTHENTICATED
    assert response["WWW-Authenticate"] == BEARER_CHALLENGE
    refused = _everything(Client(headers={"Authorization": "Bearer onb_not_a_token"}), world.own_patient)
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == INVALID_TOKEN_CHALLENGE
    posted = _post(Client(), {"resourceType": "Bundle", "type": "transaction"})
    assert posted.status_code == 401
    assert posted["WWW-Authenticate"] == BEARER_CHALLENGE


def test_a_patient_may_read_their_own_everything_with_a_session(world, charted, client):
    """The signed-in patient reads their own record through $everything, like the portal."""
    client.force_login(world.users["patient"])
    assert _everything(client, charted).status_code == 200
    assert _everything(client, world.same_clinic_patient).status_code == 404


def test_a_transaction_posts_back_what_everything_gave(world, charted, fhir_as):
    """A Bundle exported and posted back changes nothing; with a day changed it updates that day only."""
    nurse = fhir_as("nurse")
    document = _everything(nurse, charted).json()
    document["type"] = "transaction"
    for entry in document["entry"]:
        del entry["search"]
    response = _post(nurse, document)
    assert response.status_code == 200, response.content
    assert response.json()["type"] == "transaction-response"
    observation = next(e for e in document["entry"] if e["resource"]["resourceType"] == "Observation")
    observation["resource"]["note"] = [{"text": "written on the phone"}]
    assert _post(nurse, document).status_code == 200
    assert DiaryEntry.objects.filter(patient=charted, notes="written on the phone").count() == 1


def test_a_transaction_with_problems_saves_nothing_and_locates_each(world, charted, fhir_as):
    """Two bad entries give 422 and an OperationOutcome naming each one's place; no row is written."""
    nurse = fhir_as("nurse")
    document = _everything(nurse, charted).json()
    document["type"] = "transaction"
    observations = [i for i, e in enumerate(document["entry"]) if e["resource"]["resourceType"] == "Observation"]
    first, second = observations[0], observations[1]
    document["entry"][first]["resource"]["component"][0]["valueQuantity"]["value"] = 30
    document["entry"][second]["resource"]["effectiveDateTime"] = "2999-01-01"
    document["entry"][second]["resource"]["note"] = [{"text": "never stored"}]
    before = DiaryEntry.objects.count()
    response = _post(nurse, document)
    assert response.status_code == 422
    issues = response.json()["issue"]
    today = timezone.localdate().isoformat()
    assert [(i["expression"], i["diagnostics"]) for i in issues] == [
        (
            [f"Bundle.entry[{first}].resource.component[0]"],
            "headache_hours: headache hours must be a number from 0 to 24 (got '30')",
        ),
        ([f"Bundle.entry[{second}].resource.effectiveDateTime"], f"date: date 2999-01-01 is after today ({today})"),
    ]
    assert DiaryEntry.objects.count() == before
    assert not DiaryEntry.objects.filter(notes="never stored").exists()


def test_a_transaction_that_is_not_fhir_is_refused_with_its_location(world, fhir_as):
    """A wrong birthDate is located by the fhir.resources validation; a collection Bundle is not a transaction."""
    nurse = fhir_as("nurse")
    patient = {"resourceType": "Patient", "birthDate": "1984-13-01"}
    response = _post(nurse, {"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": patient}]})
    assert response.status_code == 422
    assert response.json()["issue"] == [
        {
            "severity": "error",
            "code": "invalid",
            "diagnostics": "Date value string does not match spec regex.",
            "expression": ["Bundle.entry[0].resource.birthDate"],
        }
    ]
    collection = _post(nurse, {"resourceType": "Bundle", "type": "collection"})
    assert collection.json()["issue"][0]["diagnostics"] == fhir_read.BUNDLE_TYPE.format(
        expected="transaction", found="collection"
    )
    assert _post(nurse, {"resourceType": "Patient"}).json()["issue"][0]["diagnostics"] == fhir_read.NOT_A_BUNDLE
    garbage = nurse.post("/fhir/", data="{", content_type="application/fhir+json")
    assert garbage.status_code == 400


def test_only_clinical_staff_may_post_a_transaction(world, fhir_as):
    """Billing staff and patients get 403; nobody signed in gets 401."""
    document = {"resourceType": "Bundle", "type": "transaction"}
    assert _post(fhir_as("billing"), document).status_code == 403
    assert _post(fhir_as("patient"), document).status_code == 403
    assert _post(Client(), document).status_code == 401
    assert _post(fhir_as("clinician"), document).status_code == 200


def test_a_session_post_needs_its_csrf_token(world, client):
    """A signed-in browser session without the CSRF token is refused, so another site cannot post for it."""
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.users["nurse"])
    response = _post(strict, {"resourceType": "Bundle", "type": "transaction"})
    assert response.status_code == 403
    assert response.json()["issue"][0]["diagnostics"] == fhir_views.CSRF_FAILED


def test_a_transaction_is_also_taken_at_the_base_address_without_a_slash(world, fhir_as):
    """POST /fhir (the FHIR base itself, as clients send a transaction) is the same endpoint as /fhir/."""
    nurse = fhir_as("nurse")
    response = nurse.post("/fhir", data=json.dumps({"resourceType": "Patient"}), content_type="application/fhir+json")
    assert response.status_code == 422
    assert response.json()["issue"][0]["diagnostics"] == fhir_read.NOT_A_BUNDLE


def test_json_nested_too_deeply_is_refused_not_a_server_error(world, fhir_as):
    """Arrays nested 100,000 deep (past json's recursion) are a 400 and an extension nested 300 deep a 422, each
    an OperationOutcome saying the JSON is nested too deeply (both were RecursionErrors: a 500)."""
    nurse = fhir_as("nurse")
    arrays = nurse.post("/fhir/", data="[" * 100_000 + "]" * 100_000, content_type="application/fhir+json")
    assert arrays.status_code == 400
    assert arrays.json()["issue"][0]["diagnostics"] == fhir_read.NESTED_TOO_DEEPLY
    levels = 300  # read by json, but past the validation's recursion; built as text like the arrays
    extension = '{"url":"x","extension":[' * levels + '{"url":"x","valueString":"a"}' + "]}" * levels
    document = (
        '{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:1","resource":'
        '{"resourceType":"Patient","extension":[' + extension + "]}}]}"
    )
    deep = nurse.post("/fhir/", data=document, content_type="application/fhir+json")
    assert deep.status_code == 422
    assert deep.json()["issue"][0]["diagnostics"] == fhir_read.NESTED_TOO_DEEPLY


def test_the_safety_questions_a_bundle_may_answer_are_the_patient_records(db):
    """The reader's safety questions (the engine's SafetyInput) are the patient's SAFETY_FLAGS, in order, so every
    answer read has a field to go to."""
    from onaboard.interop.fhir.records import SAFETY_QUESTIONS
    from onaboard.web.patients.models import SAFETY_FLAGS

    assert SAFETY_QUESTIONS == SAFETY_FLAGS


def test_an_unknown_safety_question_is_a_422_not_a_server_error(world, charted, fhir_as):
    """A Patient answering a safety question onaboard does not ask is refused at its place (it was a 500)."""
    nurse = fhir_as("nurse")
    document = _everything(nurse, charted).json()
    document["type"] = "transaction"
    question = {"url": "https://example.org/new-question", "valueBoolean": True}
    document["entry"][0]["resource"]["extension"].insert(
        0, {"url": "https://onaboard.org/fhir/StructureDefinition/safety-screen", "extension": [question]}
    )
    response = _post(nurse, document)
    assert response.status_code == 422
    (issue,) = response.json()["issue"]
    assert issue["expression"] == ["Bundle.entry[0].resource.extension[0].extension[0].url"]


def _transaction(client: Client, patient: Patient) -> dict:
    """The patient's $everything as a transaction Bundle to post back."""
    document = _everything(client, patient).json()
    document["type"] = "transaction"
    for entry in document["entry"]:
        del entry["search"]
    return document


def _outcome_lines(response) -> list[str]:
    return [issue["diagnostics"] for issue in response.json()["entry"][0]["response"]["outcome"]["issue"]]


def test_a_patient_without_gender_or_safety_answers_keeps_the_stored_ones(world, charted, fhir_as):
    """A transaction holding only a Patient with no gender and no extensions changes nothing of the record (it
    set every safety answer to "not asked", other toxins to not asked and the sex to unknown); a new patient so
    given starts from the defaults and is counted as created."""
    from onaboard.web.patients.models import SAFETY_FLAGS

    nurse = fhir_as("nurse")
    answers = {flag: index % 2 == 0 for index, flag in enumerate(SAFETY_FLAGS)}
    Patient.objects.filter(pk=charted.pk).update(sex="female", other_toxin_asked=True, **answers)
    patient = _transaction(nurse, charted)["entry"][0]["resource"]
    minimal = {key: patient[key] for key in ("resourceType", "id", "identifier", "name", "birthDate")}
    entry = {"fullUrl": f"urn:uuid:{patient['id']}", "resource": minimal, "request": {"method": "PUT", "url": "x"}}
    response = _post(nurse, {"resourceType": "Bundle", "type": "transaction", "entry": [entry]})
    assert response.status_code == 200, response.content
    assert "patients: 0 created, 0 updated, 1 unchanged" in _outcome_lines(response)
    stored = Patient.objects.get(pk=charted.pk)
    assert (stored.sex, stored.other_toxin_asked) == ("female", True)
    assert {flag: getattr(stored, flag) for flag in SAFETY_FLAGS} == answers
    minimal["identifier"] = [{**minimal["identifier"][0], "value": "NEW-0001"}]
    minimal["id"] = "6b1f1f64-0d3e-4f57-9d1e-000000000001"
    entry["fullUrl"] = f"urn:uuid:{minimal['id']}"
    created = _post(nurse, {"resourceType": "Bundle", "type": "transaction", "entry": [entry]})
    assert "patients: 1 created, 0 updated, 0 unchanged" in _outcome_lines(created)
    new = Patient.objects.get(record_number="NEW-0001")
    assert (new.sex, new.other_toxin_asked) == ("unknown", False)
    assert {getattr(new, flag) for flag in SAFETY_FLAGS} == {None}


def test_every_stage_s_problems_are_reported_at_their_entries(world, charted, fhir_as):
    """A diary day and a booking before the birth date are both refused, each at its own entry (only the diary
    day was named, at the Patient), and nothing is written."""
    from onaboard.web.diary.services import day_before_birth_problem
    from onaboard.web.injections.models import InjectionSession
    from onaboard.web.injections.selectors import BEFORE_BIRTH

    nurse = fhir_as("nurse")
    document = _transaction(nurse, charted)
    kinds = [entry["resource"]["resourceType"] for entry in document["entry"]]
    observation, appointment = kinds.index("Observation"), kinds.index("Appointment")
    early = charted.birth_date.replace(year=charted.birth_date.year - 1)
    document["entry"][observation]["resource"]["effectiveDateTime"] = early.isoformat()
    booking = document["entry"][appointment]["resource"]
    booking["requestedPeriod"] = [{"start": early.isoformat(), "end": early.isoformat()}]
    booking.pop("start", None)
    booking.pop("end", None)
    booking["status"] = "proposed"
    before = DiaryEntry.objects.count(), InjectionSession.objects.count()
    response = _post(nurse, document)
    assert response.status_code == 422, response.content
    rn = charted.record_number
    assert [(issue["expression"], issue["diagnostics"]) for issue in response.json()["issue"]] == [
        (
            [f"Bundle.entry[{observation}].resource.effectiveDateTime"],
            f"patient {rn}: {day_before_birth_problem(charted, early)}",
        ),
        (
            [f"Bundle.entry[{appointment}].resource"],
            f"patient {rn}: {BEFORE_BIRTH.format(date=early, birth=charted.birth_date)}",
        ),
    ]
    assert (DiaryEntry.objects.count(), InjectionSession.objects.count()) == before


def test_a_transaction_over_the_size_limit_is_an_operation_outcome(world, fhir_as, settings):
    """A Bundle over the request size limit is refused with 413 and an OperationOutcome saying the limit (it was
    an HTML page a FHIR client cannot read) and the command that imports a record that large."""
    from onaboard.web.common.security import FHIR_IMPORT_COMMAND, REQUEST_TOO_LARGE_FHIR, request_too_large_message

    settings.MAX_REQUEST_BYTES = 1000
    body = json.dumps({"resourceType": "Bundle", "type": "transaction", "id": "x" * 2000})
    response = fhir_as("nurse").post("/fhir", data=body, content_type="application/fhir+json")
    assert response.status_code == 413
    assert response["Content-Type"] == FHIR_JSON
    assert response.json() == {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "too-long",
                "diagnostics": f"{request_too_large_message(len(body.encode()), 1000)} "
                f"{REQUEST_TOO_LARGE_FHIR.format(command=' '.join(FHIR_IMPORT_COMMAND))}",
            }
        ],
    }


def _transaction_put_by_id(client: Client, patient: Patient) -> dict:
    """The patient's $everything as a transaction Bundle whose entries are PUT by id (as a file export writes)."""
    document = _everything(client, patient).json()
    document["type"] = "transaction"
    for entry in document["entry"]:
        del entry["search"]
        entry["request"] = {"method": "PUT", "url": f"{entry['resource']['resourceType']}/{entry['resource']['id']}"}
    return document


def test_a_transaction_answers_201_for_an_entry_it_created_and_200_for_the_others(world, charted, fhir_as):
    """A diary day the transaction adds is answered 201 Created, every entry it updated or left unchanged 200 OK
    (every entry was answered 200 OK)."""
    import copy
    import datetime as dt
    import uuid

    nurse = fhir_as("nurse")
    document = _transaction_put_by_id(nurse, charted)
    observation = next(e for e in document["entry"] if e["resource"]["resourceType"] == "Observation")
    added = copy.deepcopy(observation)
    new_id = str(uuid.uuid4())
    added["fullUrl"], added["resource"]["id"] = f"urn:uuid:{new_id}", new_id
    new_day = DiaryEntry.objects.filter(patient=charted).order_by("date").first().date - dt.timedelta(days=1)
    added["resource"]["effectiveDateTime"] = new_day.isoformat()
    added["request"]["url"] = f"Observation/{new_id}"
    document["entry"].append(added)
    response = _post(nurse, document)
    assert response.status_code == 200, response.content
    statuses = [entry["response"]["status"] for entry in response.json()["entry"]]
    assert statuses == ["200 OK"] * (len(document["entry"]) - 1) + ["201 Created"]
    assert DiaryEntry.objects.filter(patient=charted, date=new_day).exists()


def test_a_transaction_entry_asking_to_delete_is_refused_at_its_method(world, charted, fhir_as):
    """An entry whose request.method is DELETE is refused naming Bundle.entry[i].request.method, and nothing is
    written (it created the resource and answered 200 OK)."""
    nurse = fhir_as("nurse")
    document = _transaction_put_by_id(nurse, charted)
    at = next(i for i, e in enumerate(document["entry"]) if e["resource"]["resourceType"] == "Observation")
    document["entry"][at]["request"]["method"] = "DELETE"
    document["entry"][at]["resource"]["note"] = [{"text": "never stored"}]
    response = _post(nurse, document)
    assert response.status_code == 422
    message = fhir_read.METHOD_NOT_IMPORTED.format(method="DELETE", methods="PUT, POST")
    assert [(i["expression"], i["diagnostics"]) for i in response.json()["issue"]] == [
        ([f"Bundle.entry[{at}].request.method"], message)
    ]
    assert not DiaryEntry.objects.filter(notes="never stored").exists()


def test_a_token_is_looked_up_once_and_a_malformed_one_never(world, fhir_as):
    """$everything with a good token reads the token table once (the rate-limit middleware's lookup is used, not
    repeated); a token no ``ApiToken.issue`` could make is refused 401 without reading the table at all."""
    table = "accounts_apitoken"

    def token_reads(client: Client) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            status = _everything(client, world.own_patient).status_code
        reads = [q for q in queries.captured_queries if q["sql"].startswith("SELECT") and table in q["sql"]]
        return status, len(reads)

    assert token_reads(fhir_as("clinician")) == (200, 1)
    assert token_reads(Client(headers={"Authorization": "Bearer not-a-token"})) == (401, 0)
