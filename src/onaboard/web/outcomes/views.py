"""Questionnaire pages: the patient's HIT-6 and MIDAS (list, trend and forms), and staff reading a patient's; the
clinician's decision to continue or stop treatment, beside the engine's NICE TA260 verdict.

Thin: reach the patient through patients/access.py, call one selector or service, render. Scores, bands and
reasons are the engine's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from onaboard.clinical import (
    HIT6_MAX_TOTAL,
    HIT6_MIN_TOTAL,
    HIT6_RECALL_DAYS,
    HIT6_RESPONDER_DROP,
    HIT6_SEVERE_MIN,
    HIT6_SOME_MIN,
    HIT6_SUBSTANTIAL_MIN,
    MIDAS_GRADE_II_MIN,
    MIDAS_GRADE_III_MIN,
    MIDAS_GRADE_IV_MIN,
    PROM_WINDOW_DAYS,
    Hit6Change,
)
from onaboard.web.accounts.models import STAFF_ROLES, Role
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record
from onaboard.web.common.charts import ScorePoint, ScoreTrendChart, score_trend_chart
from onaboard.web.diary.services import first_treatment_day
from onaboard.web.outcomes import services
from onaboard.web.outcomes.forms import Hit6Form, MidasForm, TreatmentDecisionForm
from onaboard.web.outcomes.models import Decision, Instrument, QuestionnaireResponse
from onaboard.web.outcomes.selectors import (
    BaselineAndLatest,
    InstrumentHistory,
    baseline_for_staff,
    questionnaire_history,
    questionnaire_response_on,
    treatment_decision_history,
)
from onaboard.web.outcomes.services import (
    QuestionnaireChangedError,
    QuestionnaireDateError,
    QuestionnaireInvalidError,
    TreatmentDecisionAlreadySentError,
    TreatmentDecisionRefusedError,
    answer_token,
    day_of_token,
    questionnaire_answers_stored_as,
    questionnaire_response_record,
    questionnaire_response_remove,
)
from onaboard.web.patients.access import (
    Capability,
    can,
    own_patient,
    patient_for,
    refusal_audited,
    staff_patient_for,
)
from onaboard.web.patients.models import Patient

SAVED = _("%(instrument)s saved for %(day)s: total %(total)d, %(band)s.")
ANSWERED_TODAY = _("Answered today")
ANSWERED_ON = _("Answered on %(day)s")
REPLACES_TODAYS = _("Sending your answers again replaces today's.")
NOT_SAVED_REPLACES = _(
    "Not saved yet: you already answered %(instrument)s for %(day)s (total %(total)d). Sending your answers again "
    "replaces that answer; to keep it, change the date."
)
"""One answer per questionnaire a day, a second replacing the first: the form says so before anything is replaced,
for today's answer when it opens and for any other day when the answers are sent."""


@dataclass(frozen=True, slots=True)
class Notice:
    """A status line above a form: a badge, the words beside it, and the badge's colour."""

    badge: str
    text: str
    tone: str


BAND_LABELS = {
    "little_or_no_impact": (_("little or no impact"), "ok"),
    "some_impact": (_("some impact"), ""),
    "substantial_impact": (_("substantial impact"), "warn"),
    "severe_impact": (_("severe impact"), "bad"),
    "I": (_("grade I: little or no disability"), "ok"),
    "II": (_("grade II: mild disability"), ""),
    "III": (_("grade III: moderate disability"), "warn"),
    "IV": (_("grade IV: severe disability"), "bad"),
}
"""The engine's HIT-6 impact bands and MIDAS grades in words, with the badge colour each is shown in."""


def band_label(category: str) -> str:
    return str(BAND_LABELS.get(category, (category, ""))[0])


def band_tone(category: str) -> str:
    return BAND_LABELS.get(category, ("", ""))[1]


def _trend(history: InstrumentHistory) -> ScoreTrendChart:
    points = [
        ScorePoint(scored.response.date, scored.response.total, band_label(scored.response.category))
        for scored in history.responses
    ]
    if history.instrument == Instrument.HIT6:
        return score_trend_chart(
            points,
            title=str(_("HIT-6 totals over time")),
            low=HIT6_MIN_TOTAL,
            high=HIT6_MAX_TOTAL,
            cut_points=(HIT6_SOME_MIN, HIT6_SUBSTANTIAL_MIN, HIT6_SEVERE_MIN),
        )
    return score_trend_chart(
        points,
        title=str(_("MIDAS scores over time")),
        low=0,
        high=MIDAS_GRADE_IV_MIN + 9,
        cut_points=(MIDAS_GRADE_II_MIN, MIDAS_GRADE_III_MIN, MIDAS_GRADE_IV_MIN),
    )


CHANGE_UP_SINCE_TREATMENT = _("Your score has gone up from %(baseline)d before treatment to %(latest)d.")
CHANGE_SAME_SINCE_TREATMENT = _("Your score is the same as before treatment (%(baseline)d).")
CHANGE_CLEAR_FALL_SINCE_TREATMENT = _(
    "Your score has come down from %(baseline)d before treatment to %(latest)d. A fall of %(threshold)d "
    "points or more means headaches are getting in the way of your life less."
)
CHANGE_SMALL_FALL_SINCE_TREATMENT = _(
    "Your score has come down from %(baseline)d before treatment to %(latest)d, less than the %(threshold)d "
    "points that show a clear change."
)
CHANGE_UP_SINCE_FIRST = _("Your score has gone up from %(baseline)d on %(day)s to %(latest)d.")
CHANGE_SAME_SINCE_FIRST = _("Your score is the same as on %(day)s (%(baseline)d).")
CHANGE_CLEAR_FALL_SINCE_FIRST = _(
    "Your score has come down from %(baseline)d on %(day)s to %(latest)d. A fall of %(threshold)d "
    "points or more means headaches are getting in the way of your life less."
)
CHANGE_SMALL_FALL_SINCE_FIRST = _(
    "Your score has come down from %(baseline)d on %(day)s to %(latest)d, less than the %(threshold)d "
    "points that show a clear change."
)
CHANGE_TOO_SOON = _(
    "Your score was %(baseline)d before treatment and %(latest)d on %(latest_day)s. The questions ask about the "
    "last 4 weeks, and on that day those still went back to before your first treatment, so this does not yet "
    "show how treatment is working. An answer given on or after %(judged_from)s will."
)
"""The patient's HIT-6 change: "before treatment" only when the baseline answer is dated on or before the first
recorded session (``BaselineAndLatest.before_treatment``); otherwise from the first answer, by its date. From
before treatment to an answer given less than ``HIT6_RECALL_DAYS`` days after the first session
(``BaselineAndLatest.latest_too_soon``): the two scores, no "come down", and why (``CHANGE_TOO_SOON``)."""


def change_for_patient(change: Hit6Change, compared: BaselineAndLatest) -> str:
    """The engine's HIT-6 change (``hit6_change``) in the patient's words: the same numbers and threshold, without
    the clinic's shorthand ("69 -> 58: drop of 11 points (>= 5: responder)"). Worded from "before treatment" only
    when ``compared`` says the baseline is; otherwise from the first answer and its date. Not worded as a change at
    all while the latest answer's 4 weeks still reach back to the first session (``CHANGE_TOO_SOON``)."""
    if compared.before_treatment and compared.latest_too_soon and compared.first_session is not None:
        return str(CHANGE_TOO_SOON) % {
            "baseline": change.baseline,
            "latest": change.follow_up,
            "latest_day": date_format(compared.latest.date, "j F Y"),
            "judged_from": date_format(compared.first_session + timedelta(days=HIT6_RECALL_DAYS), "j F Y"),
        }
    numbers = {
        "baseline": change.baseline,
        "latest": change.follow_up,
        "threshold": HIT6_RESPONDER_DROP,
        "day": date_format(compared.baseline.date, "j F Y"),
    }
    since_treatment = compared.before_treatment
    if change.drop < 0:
        words = CHANGE_UP_SINCE_TREATMENT if since_treatment else CHANGE_UP_SINCE_FIRST
    elif change.drop == 0:
        words = CHANGE_SAME_SINCE_TREATMENT if since_treatment else CHANGE_SAME_SINCE_FIRST
    elif change.responder:
        words = CHANGE_CLEAR_FALL_SINCE_TREATMENT if since_treatment else CHANGE_CLEAR_FALL_SINCE_FIRST
    else:
        words = CHANGE_SMALL_FALL_SINCE_TREATMENT if since_treatment else CHANGE_SMALL_FALL_SINCE_FIRST
    return str(words) % numbers


def _section(history: InstrumentHistory) -> dict[str, object]:
    rows = [
        {"scored": scored, "band": band_label(scored.response.category), "tone": band_tone(scored.response.category)}
        for scored in history.responses
    ]
    return {
        "history": history,
        "trend": _trend(history) if history.responses else None,
        "rows": rows,
        "change_for_patient": change_for_patient(history.change.engine, history.compared)
        if history.change and history.compared
        else "",
        "baseline_for_staff": baseline_for_staff(history.compared) if history.change and history.compared else "",
    }


def _list_page(request: HttpRequest, patient: Patient, *, own: bool) -> HttpResponse:
    history = questionnaire_history(user=request.user, patient=patient)
    sections = [_section(item) for item in history.values()]
    if not own and can(request.user, Capability.KEEP_DIARY):  # staff enter and correct answers from the paper form
        for section in sections:
            instrument = section["history"].instrument  # type: ignore[attr-defined]
            section["enter_url"] = reverse(f"outcomes:patient_{instrument.value}", args=[patient.external_id])
    context = {"patient": patient, "own": own, "sections": sections}
    return render(request, "outcomes/questionnaire_list.html", context)


@login_required
@require_http_methods(["GET"])
def questionnaires(request: HttpRequest) -> HttpResponse:
    """The patient's own HIT-6 and MIDAS answers over time, with links to answer them again."""
    if request.user.role != Role.PATIENT:
        return redirect("clinic:home")
    return _list_page(request, own_patient(request.user, need=Capability.VIEW_CLINICAL), own=True)


@login_required
@require_http_methods(["GET"])
def patient_questionnaires(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    """A patient's HIT-6 and MIDAS answers for staff who may see clinical data."""
    patient = patient_for(request.user, patient_id, need=Capability.VIEW_CLINICAL)
    return _list_page(request, patient, own=request.user.role == Role.PATIENT)


STAFF_REPLACES = _("Saving replaces this answer.")
STAFF_NOT_SAVED_REPLACES = _(
    "Not saved yet: the patient's %(instrument)s answer of %(day)s is already recorded (total %(total)d). Saving "
    "again replaces it; to keep it, change the date."
)
"""The same notices on the page where clinical staff enter a patient's answers from the paper form."""
CHANGED_SINCE = _(
    "Not saved yet: the %(instrument)s answer of %(day)s was changed by someone else after this form was opened "
    "(its total is now %(total)d). Saving again replaces it with the answers below."
)
REMOVED_SINCE = _(
    "Not saved yet: the %(instrument)s answer of %(day)s was removed by someone else after this form was opened. "
    "Saving again records the answers below for that day."
)
REMOVED_BADGE = _("Removed since")
REMOVE_CONFIRM = _(
    "Remove the %(instrument)s answer of %(day)s (total %(total)d)? Do this only for an answer entered in error: "
    "the wrong patient, the wrong day or a form entered twice. The record keeps what it was, and who removed it."
)
REMOVED = _("%(instrument)s answer of %(day)s removed.")
REMOVE_STALE = _(
    "Nothing was removed: the %(instrument)s answer of that day was changed or removed by someone else since it was "
    "shown. Here is the list as it is now."
)


def _replace_notice(
    instrument: Instrument, existing: QuestionnaireResponse, today: date, *, sent: bool, own: bool, changed: bool
) -> Notice:
    """The notice above the form when ``existing`` is the answer of the chosen day: on opening the form (today's
    answer for the patient, the day asked for by staff; shown in the form) it says sending replaces it; after a
    send for a day already answered it says nothing was saved yet, and, when the sender had been shown another
    answer of that day (``changed``: saved by someone else since), that it changed."""
    badge = ANSWERED_TODAY if existing.date == today else ANSWERED_ON
    words_day = {"instrument": instrument.label, "day": date_format(existing.date, "j F Y"), "total": existing.total}
    if not sent:
        return Notice(str(badge) % words_day, str(REPLACES_TODAYS if own else STAFF_REPLACES), "ok")
    words = CHANGED_SINCE if changed else NOT_SAVED_REPLACES if own else STAFF_NOT_SAVED_REPLACES
    return Notice(str(badge) % words_day, str(words) % words_day, "warn")


def _say_saved(
    request: HttpRequest, instrument: Instrument, response: QuestionnaireResponse, *, own: bool
) -> HttpResponse:
    """The list of answers, with ``SAVED`` for ``response``: where every send that saved (or had saved) ends."""
    words = {
        "instrument": instrument.label,
        "day": date_format(response.date, "j F Y"),
        "total": response.total,
        "band": band_label(response.category),
    }
    messages.success(request, str(SAVED) % words)
    return redirect(_list_url(response.patient, own=own))


def _list_url(patient: Patient, *, own: bool) -> str:
    if own:
        return reverse("outcomes:questionnaires")
    return reverse("outcomes:patient_questionnaires", args=[patient.external_id])


def _day_asked(request: HttpRequest) -> date | None:
    """The day whose answer a staff form opens on (``?date=``, from a row's "Correct" link); else none: staff give
    the day the patient filled the form in, so an old paper form is never saved as today's by default."""
    try:
        return date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return None


def _remove_answer(request: HttpRequest, patient: Patient, instrument: Instrument) -> HttpResponse:
    """Staff removing an answer entered in error: a first send (from the form opened on that answer) asks to
    confirm, naming the answer; the confirmed send removes it (``questionnaire_response_remove``, audited), unless
    it changed since it was shown."""
    token = request.POST.get("replaces", "")
    day = day_of_token(token)
    shown = (
        questionnaire_response_on(user=request.user, patient=patient, instrument=instrument, day=day)
        if day is not None
        else None
    )
    words = {"instrument": instrument.label, "day": date_format(day, "j F Y") if day else ""}
    if shown is None or answer_token(shown) != token:
        messages.error(request, str(REMOVE_STALE) % words)
        return redirect(_list_url(patient, own=False))
    if request.POST.get("confirm") != "yes":
        context = {
            "patient": patient,
            "instrument": instrument,
            "answer": shown,
            "token": token,
            "question": str(REMOVE_CONFIRM) % {**words, "total": shown.total},
            "back_url": f"{request.path}?date={shown.date.isoformat()}",
        }
        return render(request, "outcomes/answer_remove.html", context)
    try:
        questionnaire_response_remove(user=request.user, patient=patient, token=token, instrument=instrument)
    except QuestionnaireChangedError:
        messages.error(request, str(REMOVE_STALE) % words)
    else:
        messages.success(request, str(REMOVED) % words)
    return redirect(_list_url(patient, own=False))


def _answer_page(
    request: HttpRequest,
    patient: Patient,
    *,
    own: bool,
    instrument: Instrument,
    form_class: type[Hit6Form] | type[MidasForm],
    template: str,
) -> HttpResponse:
    """The answer form, for the patient's own answers (``own``) or for clinical staff entering a patient's from the
    paper form. The same form, the same service and the same rules: the baseline lock is the service's, for the
    patient only (``diary.services.before_treatment_problem``); staff writing a baseline answer are told what it
    moves, and the write is audited as every other. A send replaces a day's answer only once the sender has been
    shown it, and only while it is still the one saved (``services.answer_token``); staff may also remove an answer
    entered in error."""
    today = timezone.localdate()
    context: dict[str, object] = {
        "patient": patient,
        "own": own,
        "today": today,
        "notice": None,
        "first_treatment": None if own else first_treatment_day(patient),
        "prom_window_days": PROM_WINDOW_DAYS,
        "list_url": _list_url(patient, own=own),
    }
    if request.method == "POST" and not own and request.POST.get("action") == "remove":
        return _remove_answer(request, patient, instrument)
    if request.method == "POST":
        form = form_class(request.POST, today=today, patient=patient, user=request.user)
        if form.is_valid():
            day = form.cleaned_data["date"]
            earlier = questionnaire_response_on(user=request.user, patient=patient, instrument=instrument, day=day)
            if earlier is not None and questionnaire_answers_stored_as(earlier, form.answers()):
                # The same answers again (a double tap on "Save"): already saved, nothing to replace.
                return _say_saved(request, instrument, earlier, own=own)
            try:
                if earlier is not None and not form.confirms_replacing(earlier):
                    raise QuestionnaireChangedError(earlier)
                if earlier is None and form.saw_another_answer(day):  # the answer shown was removed since
                    raise QuestionnaireChangedError(None)
                response = questionnaire_response_record(
                    user=request.user,
                    patient=patient,
                    instrument=instrument,
                    answers=form.answers(),
                    date=day,
                    today=today,
                    expected=answer_token(earlier),
                )
            except QuestionnaireChangedError as changed:
                # Not saved: say which answer a second send replaces (or that the one shown went), and let that
                # send through.
                data = request.POST.copy()
                data["replaces"] = answer_token(changed.current)
                seen_another = form.saw_another_answer(day)
                form = form_class(data, today=today, patient=patient, user=request.user)
                if changed.current is None:
                    words = {"instrument": instrument.label, "day": date_format(day, "j F Y")}
                    context["notice"] = Notice(str(REMOVED_BADGE), str(REMOVED_SINCE) % words, "warn")
                else:
                    context["notice"] = _replace_notice(
                        instrument, changed.current, today, sent=True, own=own, changed=seen_another
                    )
                return render(request, template, {**context, "form": form})
            except QuestionnaireInvalidError as invalid:
                form.add_engine_problems(invalid.problems)
            except QuestionnaireDateError as refused:  # the date passed the form, not the lock (a session since)
                form.add_error("date", str(refused))
            else:
                return _say_saved(request, instrument, response, own=own)
        elif not own:  # the page sent back shows the patient's name again: a read of the record
            _audit_form_read(request, patient, instrument)
        # The refused answers: the page opens on its error summary (common/_error_summary.html).
    else:
        day = today if own else _day_asked(request)
        existing = (
            questionnaire_response_on(user=request.user, patient=patient, instrument=instrument, day=day)
            if day is not None
            else None
        )
        if day is None:  # staff opening an empty form: the page names the patient, a read of the record
            _audit_form_read(request, patient, instrument)
        initial = {**form_class.initial_for(existing, day), "correcting": not own and existing is not None}
        form = form_class(initial=initial, today=today, patient=patient, user=request.user)
        if existing is not None:
            context["notice"] = _replace_notice(instrument, existing, today, sent=False, own=own, changed=False)
    return render(request, template, {**context, "form": form})


def _audit_form_read(request: HttpRequest, patient: Patient, instrument: Instrument) -> None:
    audit_record(
        user=request.user,
        action=Action.READ,
        object_type=f"questionnaire_{instrument.value}_form",
        patient_id=patient.external_id,
    )


ANSWER_PAGES = {
    Instrument.HIT6: (Hit6Form, "outcomes/hit6_record.html"),
    Instrument.MIDAS: (MidasForm, "outcomes/midas_record.html"),
}


@login_required
@require_http_methods(["GET", "POST"])
def hit6(request: HttpRequest) -> HttpResponse:
    """Answer HIT-6: six items, five answers each; scored by the engine, one response a day (a second replaces)."""
    patient = own_patient(request.user, need=Capability.KEEP_DIARY)
    form_class, template = ANSWER_PAGES[Instrument.HIT6]
    return _answer_page(
        request, patient, own=True, instrument=Instrument.HIT6, form_class=form_class, template=template
    )


@login_required
@require_http_methods(["GET", "POST"])
def midas(request: HttpRequest) -> HttpResponse:
    """Answer MIDAS: days affected in the last 3 months; scored by the engine, one response a day."""
    patient = own_patient(request.user, need=Capability.KEEP_DIARY)
    form_class, template = ANSWER_PAGES[Instrument.MIDAS]
    return _answer_page(
        request, patient, own=True, instrument=Instrument.MIDAS, form_class=form_class, template=template
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_answers(request: HttpRequest, patient_id: UUID, instrument: str) -> HttpResponse:
    """Clinical staff enter (or correct) a patient's HIT-6 or MIDAS answers from the paper form the patient filled
    in (KEEP_DIARY, as for diary days kept on the patient's behalf): the same form, scored by the same engine. The
    baseline answers, closed to the patient once the first session has passed, stay open here, as the messages
    the patient reads tell them ("tell the clinic: they can correct it")."""
    patient = staff_patient_for(request.user, patient_id, need=Capability.KEEP_DIARY)
    chosen = Instrument(instrument)
    form_class, template = ANSWER_PAGES[chosen]
    return _answer_page(request, patient, own=False, instrument=chosen, form_class=form_class, template=template)


# --- Continue or stop treatment -------------------------------------------------------------------------------------

DECISION_SAVED = {
    Decision.CONTINUE: _("Decision recorded: treatment continues."),
    Decision.STOP: _("Decision recorded: treatment stops."),
}


NEXT_BOOKED = _(
    "The next session is booked for {day}: move it on the session screen to the day agreed with the patient."
)
MISSED_BOOKING_KEPT = _(
    "The booking of {day} was missed and is still open, so no new session was booked: move that booking to the day "
    "agreed with the patient."
)


def _say_booking_after_continuing(request: HttpRequest, patient: Patient, today: date) -> None:
    """What a decision to continue leaves booked (``services.treatment_decision_record`` books the next session when
    none is open): the open booking and where to move it, or, when its day has passed, that this missed booking
    kept a new one from being made. Nothing is said when no session is booked."""
    # injections.selectors reads this app's selectors, so it is imported when a decision is recorded
    from onaboard.web.injections.selectors import open_booking as open_booking_of

    open_booking = open_booking_of(patient)
    if open_booking is None:
        return
    day = date_format(open_booking.date, "j M Y")
    if open_booking.date < today:
        messages.warning(request, str(MISSED_BOOKING_KEPT).format(day=day))
    else:
        messages.info(request, str(NEXT_BOOKED).format(day=day))


def _decision_patient(request: HttpRequest, patient_id: UUID, need: Capability) -> Patient:
    """The patient of a continue-or-stop page: a staff page (patients are "not found", as on the patient page);
    staff without ``need`` are refused (403, audited: a nurse trying to record a decision); a patient they may not
    see is "not found" (``patient_for``)."""
    if request.user.role in STAFF_ROLES and not can(request.user, need):
        refusal_audited(request.user, patient_id, need=need)
        raise PermissionDenied
    return staff_patient_for(request.user, patient_id, need=need)


def _decision_page(request: HttpRequest, patient: Patient, form: TreatmentDecisionForm | None) -> HttpResponse:
    """The continue-or-stop page; beside the verdict, what the reason is asked to weigh: each questionnaire as the
    questionnaires page shows it to staff (``_section``: the latest answer with the engine's reason, and HIT-6's
    change from its baseline), with links to the headache days per period and the side effects."""
    page = treatment_decision_history(user=request.user, patient=patient, today=timezone.localdate())
    questionnaires = [_section(item) for item in questionnaire_history(user=request.user, patient=patient).values()]
    context = {"patient": patient, "page": page, "form": form, "questionnaires": questionnaires}
    return render(request, "outcomes/treatment_decision.html", context)


@login_required
@require_http_methods(["GET"])
def treatment_decisions(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    """NICE TA260's verdict today with the engine's reasons, the pathway state, every decision recorded, and for a
    clinician the form to record theirs (continue or stop, and why). Nurses read it without the form."""
    patient = _decision_patient(request, patient_id, Capability.VIEW_CLINICAL)
    form = TreatmentDecisionForm() if can(request.user, Capability.DECIDE_TREATMENT) else None
    return _decision_page(request, patient, form)


@login_required
@require_http_methods(["POST"])
def treatment_decision_record(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    """Record the clinician's decision, dated the clinic's today (``services.treatment_decision_record``): saved,
    back to the page with the decision at the top of the history; refused, the page again with the answers kept and
    each error beside its field. The form's token makes a second send of the same form land on the first."""
    patient = _decision_patient(request, patient_id, Capability.DECIDE_TREATMENT)
    form = TreatmentDecisionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        today = timezone.localdate()
        booked = list(services.bookings_ahead(patient, today).values_list("date", flat=True))  # a stop cancels them
        try:
            decision = services.treatment_decision_record(
                user=request.user,
                patient=patient,
                decision=data["decision"],
                reason=data["reason"],
                decided_on=today,
                today=today,
                submission=data["submission"],
            )
        except TreatmentDecisionAlreadySentError as error:  # changed after sending: send again as another
            form.renew_submission()
            for _field, message in error.problems:
                form.add_error(None, message)
        except TreatmentDecisionRefusedError as error:
            for field, message in error.problems:
                form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, DECISION_SAVED[Decision(decision.decision)])
            if decision.decision == Decision.STOP and booked:
                days = ", ".join(date_format(day, "j M Y") for day in booked)
                cancelled = ngettext(
                    "The session booked for {days} was cancelled: treatment has stopped.",
                    "The sessions booked for {days} were cancelled: treatment has stopped.",
                    len(booked),
                )
                messages.info(request, cancelled.format(days=days))
            if decision.decision == Decision.CONTINUE:
                _say_booking_after_continuing(request, patient, today)
            return redirect("outcomes:treatment_decisions", patient.external_id)
    return _decision_page(request, patient, form)
