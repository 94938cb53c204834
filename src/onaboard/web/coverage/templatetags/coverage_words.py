"""Filters that put the coverage engine's codes into words on the pages and letters (billing staff and payers read
them): a policy's name for its id, a policy field path's meaning for the path, an acute-medication class's words.

The engine's texts keep naming their rules and field paths (the API and ``onaboard coverage --json`` give them as
they are); only what a person reads is reworded here.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onaboard.training.wording import clinic_words
from onaboard.web.coverage import selectors

register = template.Library()

FIELD_WORDS: dict[str, Promise] = {
    "initial.age": gettext_lazy("the age criterion"),
    "initial.age.min_years": gettext_lazy("minimum age"),
    "initial.diagnosis": gettext_lazy("the diagnosis criterion"),
    "initial.diagnosis.requires": gettext_lazy("the diagnosis required"),
    "initial.frequency": gettext_lazy("the headache-frequency criterion"),
    "initial.frequency.periods": gettext_lazy("how many 28-day periods the frequency must be met in"),
    "initial.frequency.min_headache_days": gettext_lazy("minimum headache days per period"),
    "initial.frequency.min_migraine_days": gettext_lazy("minimum migraine days per period"),
    "initial.frequency.min_headache_days_4h": gettext_lazy(
        "minimum days per period with headache lasting 4 hours or more"
    ),
    "initial.prior_preventives": gettext_lazy("the failed-preventives criterion"),
    "initial.prior_preventives.min_classes": gettext_lazy("how many preventive classes must have failed"),
    "initial.prior_preventives.min_medicines": gettext_lazy("how many preventive medicines must have failed"),
    "initial.prior_preventives.classes": gettext_lazy("which preventive classes count"),
    "initial.prior_preventives.min_trial_days": gettext_lazy("minimum length of a preventive trial"),
    "initial.prior_preventives.intolerance_counts": gettext_lazy("whether intolerance counts as a failed trial"),
    "initial.prior_preventives.contraindication_counts": gettext_lazy(
        "whether a contraindication counts as a failed trial"
    ),
    "initial.medication_overuse": gettext_lazy("the medication-overuse criterion"),
    "initial.medication_overuse.must_be_managed": gettext_lazy("medication overuse managed first"),
    "initial.cgrp_mab": gettext_lazy("the CGRP monoclonal antibody criterion"),
    "initial.cgrp_mab.combination_allowed": gettext_lazy(
        "whether combination with a CGRP monoclonal antibody is allowed"
    ),
    "initial.approval_months": gettext_lazy("initial approval length"),
    "session": gettext_lazy("the per-session limits"),
    "session.max_units": gettext_lazy("maximum units per session"),
    "session.min_interval_days": gettext_lazy("minimum days between sessions"),
    "continuation": gettext_lazy("the continuation criteria"),
    "continuation.after_cycles": gettext_lazy("treatment cycles before the response is judged"),
    "continuation.judged_on": gettext_lazy("which period the response is judged on"),
    "continuation.approval_months": gettext_lazy("continuation approval length"),
    "continuation.response": gettext_lazy("the response criterion"),
    "continuation.response.min_headache_day_reduction_percent": gettext_lazy("minimum fall in headache days (%)"),
    "continuation.response.min_migraine_day_reduction_percent": gettext_lazy("minimum fall in migraine days (%)"),
    "continuation.response.min_fewer_headache_days": gettext_lazy("minimum number of fewer headache days"),
    "continuation.response.min_fewer_headache_hours": gettext_lazy("minimum number of fewer headache hours"),
    "continuation.response.prescriber_attests_benefit": gettext_lazy(
        "whether the prescriber's judgement of benefit counts"
    ),
    "stopping": gettext_lazy("the stopping rule"),
    "stopping.episodic_below_headache_days": gettext_lazy("headache days below which treatment stops"),
    "stopping.episodic_periods": gettext_lazy("consecutive periods below it before treatment stops"),
}
"""Each policy field a file may list as ``unconfirmed`` (docs/policies.md), in words."""

GROUP_PREFIX = "initial.prior_preventives.classes."
GROUP_WORDS = gettext_lazy("the classes counted as %(group)s")


def field_in_words(path: str) -> str:
    """One policy field path in words: ``session.max_units`` is "maximum units per session"; a preventive group
    names its group; a path not listed reads as its last part with spaces."""
    if path in FIELD_WORDS:
        return str(FIELD_WORDS[path])
    if path.startswith(GROUP_PREFIX):
        return str(GROUP_WORDS) % {"group": path.removeprefix(GROUP_PREFIX).replace("_", " ")}
    return path.rsplit(".", 1)[-1].replace("_", " ")


@register.filter
def fields_in_words(paths: Iterable[str]) -> str:
    """Policy field paths in words, comma-separated (``{{ criterion.unconfirmed|fields_in_words }}``)."""
    return ", ".join(field_in_words(path) for path in paths)


@register.filter
def policy_title(policy_id: str) -> str:
    """A shipped policy's name for its id (``nice-ta260``: "NICE TA260 (England)"); an id no policy has, as given."""
    return selectors.policy_title(policy_id)


@register.filter
def payer_of(row: object) -> str:
    """The payer and member id of an insurance or a request (``coverage.selectors.payer_words``): "Northwind Health,
    member id M0004"; "no payer named" for neither."""
    words = selectors.payer_words(getattr(row, "payer", ""), getattr(row, "member_id", ""))
    return words or _(selectors.NO_PAYER_NAMED)


@register.filter
def class_words(text: str) -> str:
    """An engine reason with its coded identifiers in the clinic's words ("simple_analgesic 7": "simple analgesic
    7"), by the training text's one rewriter (``training.wording.clinic_words``). The ICHD-3 reasons are the command
    line's too, so they are reworded here, for reading only."""
    return clinic_words(str(text))


@register.simple_tag
def approval_end_note(authorisation: object) -> str:
    """Why an approval's end date is what it is, when it is not the payer's: "" for a date the payer gave."""
    from onaboard.web.coverage.selectors import CoverageUnavailableError, approval_length

    if not getattr(authorisation, "approved_until_from_policy", False):
        return ""
    try:
        _months, unconfirmed = approval_length(authorisation.policy_id, authorisation.stage)
    except CoverageUnavailableError:  # a policy no longer shipped: its length can no longer be judged
        unconfirmed = False
    if unconfirmed:
        return _("end date from the policy's approval length, not the payer's answer; not confirmed in a source")
    return _("end date from the policy's approval length, not the payer's answer")
