"""The diary API's bounds on what it writes out for the engine (onaboard/web/diary/api.py, schemas.py); the rest of
the diary API is tested in tests/web/api/test_diary.py."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from onaboard.clinical.diary import BAD_HOURS
from onaboard.web.accounts.models import ApiToken
from onaboard.web.common.errors import problem_place
from onaboard.web.common.schema_types import ISO_DATE_ERROR_TYPE, NOT_AN_ISO_DATE
from onaboard.web.diary.api import _contract_fields
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.diary.schemas import HOURS_MAX_DECIMAL_PLACES, HOURS_MAX_DIGITS, DiaryDayIn

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinician_api(world) -> Client:
    """A client sending the clinician's bearer token."""
    _token, raw = ApiToken.issue(world.users["clinician"], "diary tests")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _put(client: Client, world, body: dict) -> object:
    url = f"/api/patients/{world.same_clinic_patient.external_id}/diary/{timezone.localdate().isoformat()}"
    return client.put(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("hours", ["1e1000000", "1e-1000000", "1" * 23, 1e300])
def test_hours_too_long_to_write_out_are_refused_at_the_schema_in_a_short_answer(world, clinician_api, hours):
    """Hours of more than 22 digits (a huge or tiny exponent among them) are 422 at ``headache_hours`` in a short
    answer, never written out digit by digit; nothing is saved."""
    response = _put(clinician_api, world, {"headache_hours": hours, "intensity": "mild"})
    assert response.status_code == 422
    assert len(response.content) < 500
    (problem,) = response.json()["detail"]
    assert problem_place(problem["loc"]) == ["body", "headache_hours"]
    assert problem["msg"] == f"Decimal input should have no more than {HOURS_MAX_DIGITS} digits in total"
    assert not DiaryEntry.objects.exists()


def test_more_than_20_decimals_are_refused_at_the_schema(world, clinician_api):
    """Hours with 21 decimals are 422 at ``headache_hours``; 20 decimals and any trailing zeros are taken."""
    response = _put(clinician_api, world, {"headache_hours": "0.000000000000000000001", "intensity": "mild"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == (
        f"Decimal input should have no more than {HOURS_MAX_DECIMAL_PLACES} decimal places"
    )
    assert _put(clinician_api, world, {"headache_hours": "0.00000000000000000001", "intensity": "mild"}).json()[
        "headache_hours"
    ] == pytest.approx(0.01)
    assert _put(clinician_api, world, {"headache_hours": "2.5" + "0" * 1000, "intensity": "mild"}).status_code == 200


@pytest.mark.parametrize(
    ("hours", "stored", "four_hours"),
    [("2.25", "2.25", False), (2.25, "2.25", False), ("3.999", "3.99", False), (0.30000000000000004, "0.30", False)],
)
def test_hours_the_diary_contract_takes_are_still_taken(world, clinician_api, hours, stored, four_hours):
    """Hours as precise as a client computes them are saved (to the hundredth) and classified as given."""
    response = _put(clinician_api, world, {"headache_hours": hours, "intensity": "mild"})
    assert response.status_code == 200
    assert response.json()["counts_as"]["headache_4h"] is four_hours
    assert DiaryEntry.objects.get().headache_hours == Decimal(stored)


def test_zero_with_a_huge_negative_exponent_is_a_headache_free_day(world, clinician_api):
    """``0E-1000000`` is zero, given to the engine as "0" (its million trailing zeros are not written out: the
    schema counts significant digits only), and saved as a headache-free day; "2.500" is given as "2.5"."""
    day = timezone.localdate()
    assert _contract_fields(day, DiaryDayIn(headache_hours="0E-1000000"))["headache_hours"] == "0"
    assert _contract_fields(day, DiaryDayIn(headache_hours="2.500", intensity="mild"))["headache_hours"] == "2.5"
    response = _put(clinician_api, world, {"headache_hours": "0E-1000000"})
    assert response.status_code == 200
    assert DiaryEntry.objects.get().headache_hours == 0


def test_hours_above_24_keep_the_engines_words(world, clinician_api):
    """Hours above 24 but short enough to read are still refused by the engine's rule, in its words."""
    response = _put(clinician_api, world, {"headache_hours": "99.5", "intensity": "mild"})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["body", "headache_hours"], "msg": BAD_HOURS.format(value="99.5"), "type": "value_error"}
    ]


@pytest.mark.parametrize("day", ["1764288000", "20251128", "2025-W48-5", "2025-11-28T00:00:00", "0"])
def test_a_day_in_the_address_that_is_not_yyyy_mm_dd_is_422_at_the_day(world, clinician_api, day):
    """Only an ISO date names a day: a Unix timestamp (it wrote 2025-11-28), a date without dashes, a week date or a
    datetime is 422 at the path's ``day``, nothing saved."""
    url = f"/api/patients/{world.same_clinic_patient.external_id}/diary/{day}"
    response = clinician_api.put(url, json.dumps({"headache_hours": 0}), content_type="application/json")
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert (problem["loc"][0], problem["loc"][-1], problem["type"]) == ("path", "day", ISO_DATE_ERROR_TYPE)
    assert problem["msg"] == NOT_AN_ISO_DATE
    assert not DiaryEntry.objects.exists()


@pytest.mark.parametrize(
    ("address", "parameter"),
    [("diary", "end"), ("diary", "start"), ("assessment", "as_of")],
)
@pytest.mark.parametrize("value", ["0", "1764288000"])
def test_a_date_in_the_query_that_is_not_yyyy_mm_dd_is_422_at_the_parameter(
    world, clinician_api, address, parameter, value
):
    """``?end=0`` was 1970-01-01 and ``?as_of=1764288000`` 2025-11-28: a number is 422 at the query parameter."""
    url = f"/api/patients/{world.same_clinic_patient.external_id}/{address}"
    response = clinician_api.get(url, {parameter: value})
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert (problem["loc"][0], problem["loc"][-1], problem["type"]) == ("query", parameter, ISO_DATE_ERROR_TYPE)


@pytest.mark.parametrize("answer", [0, 1, "yes", "true", None])
def test_a_yes_no_answer_is_true_or_false_only(world, clinician_api, answer):
    """``"believed_migraine": 0`` was taken as false and ``"yes"`` as true: anything but a JSON boolean is 422 at
    the field, nothing saved."""
    response = _put(clinician_api, world, {"headache_hours": 0, "believed_migraine": answer})
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert (problem["loc"][0], problem["loc"][-1], problem["type"]) == ("body", "believed_migraine", "bool_type")
    assert not DiaryEntry.objects.exists()


def test_a_framework_problem_names_the_body_field_without_the_payload_parameter(world, clinician_api):
    """django-ninja's own 422 (a body field of the wrong type) is at ["body", <field>], the place the operations' own
    problems use and the schema documents, not at ["body", "payload", <field>]."""
    response = _put(clinician_api, world, {"headache_hours": 2, "intensity": "mild", "believed_migraine": "maybe"})
    assert response.status_code == 422
    assert [problem["loc"] for problem in response.json()["detail"]] == [["body", "believed_migraine"]]
