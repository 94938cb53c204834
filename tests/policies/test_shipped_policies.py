"""The shipped coverage policies: each loads, and each criterion of each is tested on patients built from the
policy's own thresholds, one at the threshold (met) and one just past it (not met)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from importlib import resources

import pytest

from onaboard.clinical.coverage import (
    CoverageEvidence,
    CoveragePolicy,
    CoverageStatus,
    CriterionOutcome,
    PolicyError,
    PolicyKind,
    SiteOfService,
    SourceStatus,
    Stage,
    evaluate_coverage,
    load_policy,
    stage_due,
)
from onaboard.clinical.outcomes import NiceTa260
from onaboard.policies import UNKNOWN_POLICY, load_policy_file, shipped_policies, shipped_policy
from tests.policies import (
    INTRACTABLE_CODE,
    MODEL,
    NO_ATTACKS,
    NON_RESPONDER,
    NOT_INTRACTABLE_CODE,
    PLANNED,
    RESPONDER,
    TODAY,
    Period,
    continuation_evidence,
    initial_evidence,
    model_trials,
)

SHIPPED = (
    "ahs-2021",
    "botox-label",
    "nice-ta260",
    "us-commercial-a",
    "us-commercial-b",
    "us-commercial-c",
    "us-medicare-a",
)

POLICIES = shipped_policies()

Builder = Callable[[CoveragePolicy, bool], CoverageEvidence]
"""Makes the patient for one criterion: ``passing`` True at the policy's threshold, False just past it."""


def _age(policy: CoveragePolicy, passing: bool) -> CoverageEvidence:
    birthday = TODAY.replace(year=TODAY.year - policy.initial.age.min_years)
    return initial_evidence(birth_date=birthday if passing else birthday + timedelta(days=1))


def _diagnosis(policy: CoveragePolicy, passing: bool) -> CoverageEvidence:
    return initial_evidence() if passing else initial_evidence((NO_ATTACKS,) * policy.initial.frequency.periods)


def _intractable(policy: CoveragePolicy, passing: bool) -> CoverageEvidence:
    return initial_evidence(diagnosis_code=INTRACTABLE_CODE if passing else NOT_INTRACTABLE_CODE)


def _period_2(policy: CoveragePolicy, period: Period) -> CoverageEvidence:
    count = policy.initial.frequency.periods
    return initial_evidence((MODEL, period) + (MODEL,) * (count - 2))


def _headache_days(policy: CoveragePolicy, passing: bool) -> CoverageEvidence:
    days = policy.initial.frequency.min_headache_days - (0 if passing else 1)
    return _period_2(policy, Period(headache=days, migraine=min(MODEL.migraine, days)))


def _migraine_days(policy: CoveragePolicy, passing: bool) -> CoverageEvidence:
    return _period_2(policy, Period(migraine=policy.initial.frequency.min_migraine_days - (0 if passing else 1)))


def _headache_days_4h(policy: CoveragePolicy, passing: bool) -> CoverageEvidence:
    days = policy.initial.frequency.min_headache_days_4h - (0 if passing else 1)
    return _period_2(policy, Period(headache_4h=days))


def _preventives(policy: CoveragePolicy, passing: bool) -> CoverageEvidence:
    rule = policy.initial.prior_preventives
    return initial_evidence(preventive_trials=model_trials(rule.min_trial_days or 90) if passing else ())


def _overuse(policy: CoveragePolicy, passing: bool) -> CoverageEvidence:
    if passing:
        return initial_evidence()
    overusing = Period(triptan_days=10)
    return initial_evidence((overusing,) * policy.initial.frequency.periods, medication_overuse_managed=False)


def _cgrp(policy: CoveragePolicy, passing: bool) -> CoverageEvidence:
    return initial_evidence(current_cgrp_mab=() if passing else ("erenumab",))


def _dose(policy: CoveragePolicy, passing: bool) -> CoverageEvidence:
    return initial_evidence(planned_units=policy.session.max_units + (0 if passing else 1))


def _interval(policy: CoveragePolicy, passing: bool) -> CoverageEvidence:
    days = policy.session.min_interval_days - (0 if passing else 1)
    return initial_evidence(last_session=PLANNED - timedelta(days=days))


def _cycles(policy: CoveragePolicy, passing: bool) -> CoverageEvidence:
    after = policy.continuation.after_cycles
    assert after >= 2, "a patient with one cycle fewer still needs a first injection"
    return continuation_evidence(cycles=after if passing else after - 1)


def _response(policy: CoveragePolicy, passing: bool) -> CoverageEvidence:
    if passing:
        return continuation_evidence()
    return continuation_evidence(NON_RESPONDER, prescriber_attests_benefit=False)


def _stopping(policy: CoveragePolicy, passing: bool) -> CoverageEvidence:
    rule = policy.stopping
    below = Period(rule.episodic_below_headache_days - 1, 6)
    at = Period(rule.episodic_below_headache_days, 6)
    periods = 6
    if passing:
        return continuation_evidence(
            (MODEL,) * (periods - rule.episodic_periods) + (at,) + (below,) * (rule.episodic_periods - 1)
        )
    return continuation_evidence((MODEL,) * (periods - rule.episodic_periods) + (below,) * rule.episodic_periods)


BUILDERS: dict[str, Builder] = {
    "initial.age": _age,
    "initial.diagnosis.chronic_migraine": _diagnosis,
    "initial.diagnosis.label_indication": _diagnosis,
    "initial.diagnosis.intractable": _intractable,
    "initial.frequency.min_headache_days": _headache_days,
    "initial.frequency.min_migraine_days": _migraine_days,
    "initial.frequency.min_headache_days_4h": _headache_days_4h,
    "initial.prior_preventives": _preventives,
    "initial.medication_overuse": _overuse,
    "initial.cgrp_mab": _cgrp,
    "session.max_units": _dose,
    "session.min_interval_days": _interval,
    "continuation.after_cycles": _cycles,
    "continuation.response": _response,
    "stopping.episodic": _stopping,
}


def _stage(key: str) -> Stage:
    return Stage.CONTINUATION if key.startswith(("continuation.", "stopping.")) else Stage.INITIAL


def _criteria(policy: CoveragePolicy) -> list[str]:
    """Every criterion key the policy yields, from evaluating it at both stages."""
    keys = []
    for stage, evidence in ((Stage.INITIAL, initial_evidence()), (Stage.CONTINUATION, continuation_evidence())):
        for result in evaluate_coverage(policy, evidence, stage=stage, today=TODAY).criteria:
            if result.key not in keys:
                keys.append(result.key)
    return keys


def _can_fail(policy: CoveragePolicy, key: str) -> bool:
    """A criterion a patient can fail: an allowed CGRP combination cannot."""
    return not (key == "initial.cgrp_mab" and policy.initial.cgrp_mab.combination_allowed)


CASES = [
    pytest.param(policy_id, key, id=f"{policy_id}:{key}")
    for policy_id, policy in POLICIES.items()
    for key in _criteria(policy)
    if _can_fail(policy, key)
]


def test_every_shipped_policy_loads():
    """The seven shipped policy files load, each under the id its file is named after."""
    assert tuple(POLICIES) == SHIPPED
    assert all(policy.loaded_from == f"{policy_id}.toml" for policy_id, policy in POLICIES.items())


@pytest.mark.parametrize("policy_id", SHIPPED)
def test_every_shipped_policy_cites_its_sources(policy_id):
    """Each policy lists at least one source with a web address, and every criterion names one of them."""
    policy = POLICIES[policy_id]
    assert policy.sources
    assert all(source.url.startswith(("https://", "http://")) for source in policy.sources)
    for stage, evidence in ((Stage.INITIAL, initial_evidence()), (Stage.CONTINUATION, continuation_evidence())):
        for result in evaluate_coverage(policy, evidence, stage=stage, today=TODAY).criteria:
            assert result.source in policy.sources


@pytest.mark.parametrize("policy_id", SHIPPED)
def test_payer_policies_name_the_public_policy_they_follow(policy_id):
    """A commercial or Medicare policy names the public policy it is modelled on; the label, NICE and AHS do not."""
    policy = POLICIES[policy_id]
    payer = policy.kind in (PolicyKind.COMMERCIAL, PolicyKind.MEDICARE)
    assert bool(policy.modelled_on) is payer
    assert payer is policy_id.startswith("us-")


def test_nice_ta260_rests_on_nice_text_alone():
    """NICE TA260's thresholds come from NICE's own recommendations; only the 3-period duration is unconfirmed."""
    policy = POLICIES["nice-ta260"]
    assert [source.status for source in policy.sources] == [SourceStatus.PRIMARY]
    assert policy.unconfirmed == ("initial.frequency.periods",)


def test_ahs_2021_continuation_figures_are_marked_unconfirmed():
    """The AHS response figures, not found in any retrieved text, are marked unconfirmed in the file and the rule."""
    evaluation = evaluate_coverage(POLICIES["ahs-2021"], continuation_evidence(), stage=Stage.CONTINUATION, today=TODAY)
    response = evaluation.criterion("continuation.response")
    assert response.unconfirmed == (
        "continuation.after_cycles",
        "continuation.response.min_headache_day_reduction_percent",
        "continuation.response.min_migraine_day_reduction_percent",
    )
    assert response.rule.endswith(
        "(UNCONFIRMED: continuation.after_cycles, continuation.response.min_headache_day_reduction_percent, "
        "continuation.response.min_migraine_day_reduction_percent)"
    )


def test_the_often_quoted_us_continuation_thresholds_stay_unconfirmed():
    """The 50 % / 7 days / 100 hours continuation alternatives of policy A are each marked unconfirmed."""
    policy = POLICIES["us-commercial-a"]
    response = policy.continuation.response
    assert (response.min_headache_day_reduction_percent, response.min_fewer_headache_days) == (50, 7)
    assert response.min_fewer_headache_hours == 100
    assert {
        "continuation.response.min_headache_day_reduction_percent",
        "continuation.response.min_fewer_headache_days",
        "continuation.response.min_fewer_headache_hours",
    } <= set(policy.unconfirmed)


@pytest.mark.parametrize("policy_id", SHIPPED)
@pytest.mark.parametrize("stage", list(Stage))
def test_the_model_patient_meets_every_criterion(policy_id, stage):
    """A patient meeting every shipped threshold with room to spare is approvable under each policy at each stage."""
    evidence = initial_evidence() if stage is Stage.INITIAL else continuation_evidence()
    evaluation = evaluate_coverage(POLICIES[policy_id], evidence, stage=stage, today=TODAY)
    assert [c.key for c in evaluation.criteria if c.outcome is not CriterionOutcome.MET] == []
    assert evaluation.status is CoverageStatus.APPROVABLE


@pytest.mark.parametrize("policy_id", SHIPPED)
def test_every_criterion_has_a_patient_builder(policy_id):
    """No criterion a shipped policy yields goes without a passing and a failing patient."""
    assert set(_criteria(POLICIES[policy_id])) <= set(BUILDERS)


@pytest.mark.parametrize(("policy_id", "key"), CASES)
def test_a_patient_at_the_threshold_meets_the_criterion(policy_id, key):
    """A patient exactly at the policy's threshold for the criterion meets it."""
    policy = POLICIES[policy_id]
    evaluation = evaluate_coverage(policy, BUILDERS[key](policy, True), stage=_stage(key), today=TODAY)
    assert evaluation.criterion(key).outcome is CriterionOutcome.MET


@pytest.mark.parametrize(("policy_id", "key"), CASES)
def test_a_patient_just_past_the_threshold_fails_the_criterion(policy_id, key):
    """A patient one step past the policy's threshold fails the criterion, and the request is not approvable."""
    policy = POLICIES[policy_id]
    evaluation = evaluate_coverage(policy, BUILDERS[key](policy, False), stage=_stage(key), today=TODAY)
    assert evaluation.criterion(key).outcome is CriterionOutcome.NOT_MET
    assert evaluation.status is CoverageStatus.NOT_APPROVABLE


TRIAL_POLICIES = [policy_id for policy_id, p in POLICIES.items() if p.initial.prior_preventives is not None]


@pytest.mark.parametrize(
    "policy_id", [p for p in TRIAL_POLICIES if POLICIES[p].initial.prior_preventives.min_trial_days]
)
def test_a_trial_one_day_short_of_the_minimum_does_not_count(policy_id):
    """Ineffective trials of exactly the policy's minimum length count; one day shorter, none does."""
    policy = POLICIES[policy_id]
    minimum = policy.initial.prior_preventives.min_trial_days
    at = evaluate_coverage(
        policy, initial_evidence(preventive_trials=model_trials(minimum)), stage="initial", today=TODAY
    )
    short = evaluate_coverage(
        policy, initial_evidence(preventive_trials=model_trials(minimum - 1)), stage="initial", today=TODAY
    )
    assert at.criterion("initial.prior_preventives").outcome is CriterionOutcome.MET
    assert short.criterion("initial.prior_preventives").outcome is CriterionOutcome.NOT_MET
    assert short.criterion("initial.prior_preventives").evidence[0] == (
        f"topiramate 100 mg 2024-01-08..{(model_trials(minimum - 1)[0].stop).isoformat()} ({minimum - 1} days), "
        f"stopped: ineffective; does not count ({minimum - 1} days < the {minimum}-day minimum trial)"
    )


def test_nice_counts_three_medicines_of_any_class():
    """NICE TA260 needs 3 failed preventive medicines whatever their class, intolerance and unsuitability included."""
    policy = POLICIES["nice-ta260"]
    two = initial_evidence(preventive_trials=model_trials()[:2])
    evaluation = evaluate_coverage(policy, two, stage=Stage.INITIAL, today=TODAY)
    assert evaluation.criterion("initial.prior_preventives").evidence == (
        "topiramate 100 mg 2024-01-08..2024-04-06 (90 days), stopped: ineffective; counts (anticonvulsant)",
        "propranolol 80 mg 2024-04-21..2024-07-19 (90 days), stopped: ineffective; counts (beta blocker)",
        "failed medicines: 2 (topiramate, propranolol) of 3 required",
    )
    assert evaluation.criterion("initial.prior_preventives").outcome is CriterionOutcome.NOT_MET


def test_commercial_c_counts_only_a_cgrp_antagonist_failure():
    """Policy C's modelled route counts a failed CGRP antibody, not the oral preventives."""
    policy = POLICIES["us-commercial-c"]
    oral_only = initial_evidence(preventive_trials=model_trials()[:3])
    result = evaluate_coverage(policy, oral_only, stage=Stage.INITIAL, today=TODAY).criterion(
        "initial.prior_preventives"
    )
    assert result.outcome is CriterionOutcome.NOT_MET
    assert result.evidence[-1] == "failed classes: 0 (none) of 1 required"
    assert result.evidence[0].endswith("; does not count (class anticonvulsant is not one this policy counts)")


def test_nice_stopping_agrees_with_the_engine():
    """NICE TA260's file values give the same episodic-reversion decision as the engine's NICE verdict."""
    policy = POLICIES["nice-ta260"]
    for after in ((Period(14, 6),) * 6, (MODEL,) * 3 + (Period(14, 6),) * 3, (Period(14, 6),) * 5 + (MODEL,)):
        evidence = continuation_evidence(after)
        evaluation = evaluate_coverage(policy, evidence, stage=Stage.CONTINUATION, today=TODAY)
        stop = evaluation.criterion("stopping.episodic").outcome is CriterionOutcome.NOT_MET
        assert stop is evidence.outcomes.nice_ta260.reverted_to_episodic


def test_nice_response_agrees_with_the_engine_at_week_24():
    """NICE TA260's 30 % rule read from the file matches the engine's week-24 NICE verdict, responder or not, also
    with a later period that says otherwise: NICE judges "after 2 treatment cycles" (period 6), not the latest
    complete period (a week-24 failure with a better period 7 was approvable beside the engine's "stop")."""
    policy = POLICIES["nice-ta260"]
    week24_failure = (Period(16, 10),) * 5 + (Period(15, 10),) + (Period(12, 8),)
    week24_success = (*RESPONDER, Period(16, 10))
    cases = (continuation_evidence(), continuation_evidence(NON_RESPONDER))
    for evidence in (*cases, continuation_evidence(week24_failure), continuation_evidence(week24_success)):
        evaluation = evaluate_coverage(policy, evidence, stage=Stage.CONTINUATION, today=TODAY)
        met = evaluation.criterion("continuation.response").outcome is CriterionOutcome.MET
        assert met is (evidence.outcomes.nice_ta260.verdict is NiceTa260.CONTINUE)


EVERYWHERE = (SiteOfService.OFFICE, SiteOfService.HOSPITAL_OUTPATIENT)

PRIOR_AUTHORISATION_SITES = {
    "ahs-2021": (),
    "botox-label": (),
    "nice-ta260": (),
    "us-commercial-a": EVERYWHERE,
    "us-commercial-b": EVERYWHERE,
    "us-commercial-c": EVERYWHERE,
    "us-medicare-a": (SiteOfService.HOSPITAL_OUTPATIENT,),
}
"""Where each shipped policy's payer asks for approval before treatment: the label, a guideline and a consensus
statement are no payer's; the commercial payers ask in both settings; Medicare asks in hospital outpatient
departments only (Noridian JE's OPD prior authorisation, clinical-facts 6), not in a physician's office."""


@pytest.mark.parametrize("policy_id", SHIPPED)
def test_each_shipped_policy_asks_for_prior_authorisation_where_its_payer_does(policy_id):
    """Each shipped policy asks for prior authorisation at exactly the sites of service its payer does."""
    policy = POLICIES[policy_id]
    asked = tuple(site for site in SiteOfService if policy.asks_prior_authorisation_at(site))
    assert asked == PRIOR_AUTHORISATION_SITES[policy_id]
    assert (policy.prior_authorisation is None) is (asked == ())


def test_medicare_prior_authorisation_rests_on_the_contractors_opd_program():
    """Medicare's hospital-outpatient prior authorisation cites Noridian JE's page and quotes the J0585 with 64615
    pairing; the commercial policies cite one of their own sources."""
    rule = POLICIES["us-medicare-a"].prior_authorisation
    assert rule.source.id == "noridian-jea"
    assert "J0585" in rule.text
    assert "64615" in rule.text
    assert "hospital outpatient" in rule.text.lower()
    for policy_id in ("us-commercial-a", "us-commercial-b", "us-commercial-c"):
        policy = POLICIES[policy_id]
        assert policy.prior_authorisation.source in policy.sources


def test_a_policy_file_must_be_named_after_its_id():
    """A policy file whose id differs from its file name is refused naming both."""
    text = resources.files("onaboard.policies").joinpath("nice-ta260.toml").read_text(encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        load_policy_file("nice.toml", text)
    assert raised.value.problems == ('nice.toml: id: must match the file name "nice" (got "nice-ta260")',)
    assert load_policy_file("nice-ta260.toml", text) == POLICIES["nice-ta260"]


def test_an_unknown_policy_id_names_the_shipped_ones():
    """Asking for a policy that is not shipped lists the ones that are."""
    with pytest.raises(KeyError) as raised:
        shipped_policy("us-commercial-z")
    assert raised.value.args[0] == UNKNOWN_POLICY.format(policy_id="us-commercial-z", known=", ".join(SHIPPED))


def test_a_shipped_file_with_a_misspelt_table_is_refused():
    """Each shipped file is the policy's only source: the same text with a misspelt table name is refused."""
    for policy_id in SHIPPED:
        text = resources.files("onaboard.policies").joinpath(f"{policy_id}.toml").read_text(encoding="utf-8")
        with pytest.raises(PolicyError) as raised:
            load_policy(text.replace("[[sources]]", "[[source]]"), source=f"{policy_id}.toml")
        assert f"{policy_id}.toml: sources: required field is missing" in raised.value.problems


def test_medicare_requires_intractable_migraine_coded_on_the_request():
    """Medicare LCD L33458 covers intractable chronic migraine: an initial request coded G43.709 (not intractable)
    is not approvable on that criterion alone, the same patient coded G43.719 is approvable, and one with no code is
    missing information; the criterion cites L33458."""
    policy = POLICIES["us-medicare-a"]

    def judged(code: str | None):
        return evaluate_coverage(policy, initial_evidence(diagnosis_code=code), stage=Stage.INITIAL, today=TODAY)

    refused = judged(NOT_INTRACTABLE_CODE)
    assert refused.status is CoverageStatus.NOT_APPROVABLE
    assert [c.key for c in refused.criteria if c.outcome is not CriterionOutcome.MET] == [
        "initial.diagnosis.intractable"
    ]
    assert refused.criterion("initial.diagnosis.intractable").source.id == "lcd-l33458"
    assert judged(INTRACTABLE_CODE).status is CoverageStatus.APPROVABLE
    assert judged(None).status is CoverageStatus.INFORMATION_MISSING
    assert "initial.diagnosis.requires" not in policy.unconfirmed


@pytest.mark.parametrize("policy_id", SHIPPED)
def test_a_patient_with_one_session_is_at_the_initial_stage(policy_id):
    """A patient due their second session is at the initial stage under every shipped policy (the continuation is
    judged after the policy's cycles, two wherever a policy states them), and that evaluation does not refuse them
    for cycles not yet given."""
    policy = POLICIES[policy_id]
    assert stage_due(policy, 1) is Stage.INITIAL
    evaluation = evaluate_coverage(policy, initial_evidence(), stage=stage_due(policy, 1), today=TODAY)
    assert evaluation.status is CoverageStatus.APPROVABLE
