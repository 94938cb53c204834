"""Reading questionnaire answers, each read audited. The reasons shown are the engine's, recomputed from the answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from onaboard.clinical import Hit6Change, PromError, hit6_change, hit6_score, midas_score
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record
from onaboard.web.outcomes.models import Instrument, QuestionnaireResponse
from onaboard.web.patients.models import Patient


@dataclass(frozen=True, slots=True)
class ScoredResponse:
    """A stored response with the engine's reason for its band (e.g. ``HIT-6 total 62: >= 60 severe impact``)."""

    response: QuestionnaireResponse
    reason: str


@dataclass(frozen=True, slots=True)
class InstrumentHistory:
    """One instrument's responses, newest first, and for HIT-6 the engine's change from the first to the latest."""

    instrument: Instrument
    responses: tuple[ScoredResponse, ...]
    change: Hit6Change | None

    @property
    def latest(self) -> ScoredResponse | None:
        return self.responses[0] if self.responses else None


def engine_reason(response: QuestionnaireResponse) -> str:
    """The engine's reason for the stored answers' band; the stored total and category if it refuses them."""
    try:
        if response.instrument == Instrument.HIT6:
            return hit6_score(response.answers).reason
        return midas_score(**response.answers).reason
    except (PromError, TypeError):
        return f"{response.get_instrument_display()} {response.total} ({response.category})"


def questionnaire_history(*, user: Any, patient: Patient) -> dict[str, InstrumentHistory]:
    """Every HIT-6 and MIDAS response of the patient, by instrument; the read is audited."""
    responses = list(QuestionnaireResponse.objects.filter(patient=patient).order_by("-date", "-created"))
    audit_record(
        user=user,
        action=Action.READ,
        object_type="questionnaires",
        object_id=patient.external_id,
        patient_id=patient.external_id,
        detail=f"{len(responses)} responses",
    )
    history: dict[str, InstrumentHistory] = {}
    for instrument in Instrument:
        mine = tuple(ScoredResponse(r, engine_reason(r)) for r in responses if r.instrument == instrument)
        change = None
        if instrument == Instrument.HIT6 and len(mine) > 1:
            change = hit6_change(mine[-1].response.total, mine[0].response.total)
        history[instrument.value] = InstrumentHistory(instrument, mine, change)
    return history


def questionnaire_response_on(
    *, user: Any, patient: Patient, instrument: Instrument, day: date
) -> QuestionnaireResponse | None:
    """The patient's response to ``instrument`` on ``day``, if any; the read is audited."""
    response = QuestionnaireResponse.objects.filter(patient=patient, instrument=instrument, date=day).first()
    audit_record(
        user=user,
        action=Action.READ,
        object_type=f"questionnaire_{instrument.value}",
        object_id=response.external_id if response else "",
        patient_id=patient.external_id,
        detail=day.isoformat(),
    )
    return response
