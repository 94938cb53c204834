"""Coverage policies: the schema refuses a bad file naming each field and why; the evaluation says, per criterion,
met / not met / missing information with the evidence it saw."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from onaboard.clinical.coverage import (
    CYCLE_PERIODS,
    ICD10_INTRACTABLE,
    CoverageEvidence,
    CoverageStatus,
    CriterionOutcome,
    Diagnosis,
    EvidenceError,
    PolicyError,
    PolicyKind,
    PreventiveClass,
    PreventiveTrial,
    SiteOfService,
    SourceStatus,
    Stage,
    StopReason,
    approval_length,
    evaluate_coverage,
    load_policy,
    medicine_key,
    stage_due,
)
from onaboard.clinical.outcomes import WEEK24_PERIOD
from onaboard.policies import shipped_policies
from tests.policies import (
    MODEL,
    NON_RESPONDER,
    PLANNED,
    RESPONDER,
    TODAY,
    Period,
    continuation_evidence,
    initial_evidence,
    trial,
)

CLINIC = """
id = "clinic-test"
title = "A clinic's test policy"
jurisdiction = "Testland"
kind = "commercial"
modelled_on = "A public medical policy"
reviewed = 2026-11-28
notes = "For tests."
unconfirmed = ["continuation.response.min_fewer_headache_hours"]

[[sources]]
id = "policy"
citation = "The policy."
url = "https://example.org/policy"
status = "primary"

[[sources]]
id = "summary"
citation = "A summary of the policy."
url = "https://example.org/summary"
status = "secondary"

[initial]
approval_months = 6

[initial.age]
min_years = 18

[initial.diagnosis]
requires = ["chronic_migraine", "label_indication"]

[initial.frequency]
periods = 3
min_headache_days = 15
min_migraine_days = 8
min_headache_days_4h = 15
source = "summary"
text = "At least 15 headache days a month."

[initial.prior_preventives]
min_classes = 2
min_trial_days = 60
intolerance_counts = true
contraindication_counts = false

[initial.prior_preventives.classes]
antidepressant = ["tricyclic_antidepressant", "snri"]
anticonvulsant = ["anticonvulsant"]
beta_blocker = ["beta_blocker"]

[initial.medication_overuse]
must_be_managed = true

[initial.cgrp_mab]
combination_allowed = false

[session]
max_units = 195
min_interval_days = 84

[continuation]
after_cycles = 2
approval_months = 12

[continuation.response]
min_headache_day_reduction_percent = 50
min_migraine_day_reduction_percent = 50
min_fewer_headache_days = 7
min_fewer_headache_hours = 100
prescriber_attests_benefit = true

[stopping]
episodic_below_headache_days = 15
episodic_periods = 3

[prior_authorisation]
sites = ["office", "hospital_outpatient"]
source = "summary"
text = "Precertification is required."
"""

POLICY = load_policy(CLINIC, source="clinic.toml")


def edited(old: str, new: str) -> str:
    """The clinic file with one passage changed."""
    assert old in CLINIC
    return CLINIC.replace(old, new, 1)


def problems(text: str) -> tuple[str, ...]:
    """The problems with which load_policy refuses ``text``."""
    with pytest.raises(PolicyError) as raised:
        load_policy(text, source="clinic.toml")
    return raised.value.problems


def judge(evidence: CoverageEvidence, stage: Stage = Stage.INITIAL, policy=POLICY):
    return evaluate_coverage(policy, evidence, stage=stage, today=TODAY)


# --- Loading ----------------------------------------------------------------------------------------------------


def test_a_valid_file_loads_every_field():
    """Each field of the clinic file lands in the policy, sources resolved and unconfirmed paths kept."""
    assert (POLICY.id, POLICY.kind, POLICY.reviewed) == ("clinic-test", PolicyKind.COMMERCIAL, date(2026, 11, 28))
    assert [(s.id, s.status) for s in POLICY.sources] == [
        ("policy", SourceStatus.PRIMARY),
        ("summary", SourceStatus.SECONDARY),
    ]
    initial = POLICY.initial
    assert initial.diagnosis.requires == (Diagnosis.CHRONIC_MIGRAINE, Diagnosis.LABEL_INDICATION)
    assert initial.frequency.source.id == "summary"
    assert initial.age.source.id == "policy"
    assert dict(initial.prior_preventives.classes) == {
        "antidepressant": (PreventiveClass.TRICYCLIC_ANTIDEPRESSANT, PreventiveClass.SNRI),
        "anticonvulsant": (PreventiveClass.ANTICONVULSANT,),
        "beta_blocker": (PreventiveClass.BETA_BLOCKER,),
    }
    assert (POLICY.continuation.after_cycles, POLICY.continuation.response.min_fewer_headache_hours) == (2, 100)
    assert POLICY.unconfirmed == ("continuation.response.min_fewer_headache_hours",)
    assert POLICY.loaded_from == "clinic.toml"


def test_a_word_for_a_number_is_refused_naming_the_field():
    """A threshold written as a word is refused with its field path, the rule and the value given."""
    text = edited("min_classes = 2", 'min_classes = "two"')
    assert problems(text) == (
        'clinic.toml: initial.prior_preventives.min_classes: must be a whole number >= 0 (got "two")',
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "min_classes = 2",
            "min_classes = -1",
            "initial.prior_preventives.min_classes: must be a whole number >= 0 (got -1)",
        ),
        ("min_years = 18", "min_years = -18", "initial.age.min_years: must be a whole number >= 0 (got -18)"),
        (
            "min_trial_days = 60",
            "min_trial_days = 0",
            "initial.prior_preventives.min_trial_days: must be a whole number >= 1 (got 0)",
        ),
        (
            "min_headache_days = 15",
            "min_headache_days = 29",
            "initial.frequency.min_headache_days: must be a whole number from 1 to 28 (got 29)",
        ),
        (
            "min_headache_day_reduction_percent = 50",
            "min_headache_day_reduction_percent = 150",
            "continuation.response.min_headache_day_reduction_percent: must be a whole number from 1 to 100 (got 150)",
        ),
        ("max_units = 195", "max_units = 195.0", "session.max_units: must be a whole number >= 1 (got 195.0)"),
        ("periods = 3", "periods = true", "initial.frequency.periods: must be a whole number >= 1 (got true)"),
        (
            "combination_allowed = false",
            'combination_allowed = "no"',
            'initial.cgrp_mab.combination_allowed: must be true or false (got "no")',
        ),
        (
            'kind = "commercial"',
            'kind = "insurer"',
            'kind: must be one of label, guideline, consensus, medicare, commercial (got "insurer")',
        ),
        (
            "reviewed = 2026-11-28",
            'reviewed = "2026-11-28"',
            'reviewed: must be a date such as 2026-01-31 (got "2026-11-28")',
        ),
        (
            'url = "https://example.org/policy"',
            'url = "example.org"',
            'sources[0].url: must be an http:// or https:// address (got "example.org")',
        ),
        (
            'id = "clinic-test"',
            'id = "Clinic Test"',
            'id: must be lower-case letters, digits and hyphens (got "Clinic Test")',
        ),
        (
            'requires = ["chronic_migraine", "label_indication"]',
            'requires = ["migraine"]',
            (
                "initial.diagnosis.requires[0]: must be one of chronic_migraine, label_indication, intractable "
                '(got "migraine")'
            ),
        ),
        (
            'requires = ["chronic_migraine", "label_indication"]',
            "requires = []",
            "initial.diagnosis.requires: must list at least one value",
        ),
        (
            'beta_blocker = ["beta_blocker"]',
            'beta_blocker = ["beta_blockers"]',
            (
                "initial.prior_preventives.classes.beta_blocker[0]: must be one of beta_blocker, anticonvulsant, "
                "tricyclic_antidepressant, snri, calcium_channel_blocker, ace_inhibitor_or_arb, cgrp_mab, gepant, "
                'other (got "beta_blockers")'
            ),
        ),
        (
            'source = "summary"',
            'source = "nice"',
            'initial.frequency.source: names no source in [[sources]] (got "nice"; sources: policy, summary)',
        ),
        (
            'unconfirmed = ["continuation.response.min_fewer_headache_hours"]',
            'unconfirmed = ["continuation.response.hours"]',
            'unconfirmed[0]: names no field present in this policy (got "continuation.response.hours")',
        ),
        (
            "[initial.medication_overuse]",
            "[initial.medication_overuse]\nmanaged = true",
            "initial.medication_overuse.managed: unknown key (allowed here: must_be_managed, source, text)",
        ),
        (
            'notes = "For tests."',
            'notes = "For tests."\ncountry = "Testland"',
            (
                "country: unknown key (allowed here: continuation, id, initial, jurisdiction, kind, modelled_on, "
                "notes, prior_authorisation, reviewed, session, sources, stopping, title, unconfirmed)"
            ),
        ),
        (
            "min_years = 18",
            "min_years = 18\nmax_years = 65",
            "initial.age.max_years: unknown key (allowed here: min_years, source, text)",
        ),
        ('modelled_on = "A public medical policy"\n', "", "modelled_on: required when kind is commercial"),
        ("after_cycles = 2\n", "", "continuation.after_cycles: required field is missing"),
        ("[initial.age]\nmin_years = 18\n", "", "initial.age: required field is missing"),
        ("min_years = 18", "", "initial.age.min_years: required field is missing"),
        ("episodic_periods = 3", "", "stopping.episodic_periods: required field is missing"),
        (
            "min_classes = 2",
            "min_classes = 0",
            "initial.prior_preventives: needs at least one of min_classes >= 1, min_medicines >= 1",
        ),
        (
            "max_units = 195\nmin_interval_days = 84",
            'text = "none"',
            "session: needs at least one of max_units, min_interval_days",
        ),
        (
            'beta_blocker = ["beta_blocker"]',
            'Beta = ["beta_blocker"]',
            (
                "initial.prior_preventives.classes.Beta: group names must be lower-case letters, digits and "
                'underscores (got "Beta")'
            ),
        ),
        (
            'sites = ["office", "hospital_outpatient"]',
            'sites = ["clinic"]',
            'prior_authorisation.sites[0]: must be one of office, hospital_outpatient (got "clinic")',
        ),
        (
            'sites = ["office", "hospital_outpatient"]',
            "sites = []",
            "prior_authorisation.sites: must list at least one value",
        ),
        (
            'sites = ["office", "hospital_outpatient"]',
            'sites = ["office", "office"]',
            'prior_authorisation.sites[1]: is listed twice (got "office")',
        ),
        (
            'sites = ["office", "hospital_outpatient"]',
            'sites = "office"',
            'prior_authorisation.sites: must be a list (got "office")',
        ),
        (
            'sites = ["office", "hospital_outpatient"]\n',
            "",
            "prior_authorisation.sites: required field is missing",
        ),
        (
            'sites = ["office", "hospital_outpatient"]',
            'sites = ["office", "hospital_outpatient"]\nrequired = true',
            "prior_authorisation.required: unknown key (allowed here: sites, source, text)",
        ),
        (
            'source = "summary"\ntext = "Precertification is required."',
            'source = "noridian"\ntext = "Precertification is required."',
            ('prior_authorisation.source: names no source in [[sources]] (got "noridian"; sources: policy, summary)'),
        ),
    ],
)
def test_a_bad_field_is_refused_with_its_path_and_reason(old, new, expected):
    """Each kind of bad field (wrong type, negative or out-of-range threshold, unknown key, missing field, unknown
    source) is refused with its field path and why."""
    assert problems(edited(old, new)) == (f"clinic.toml: {expected}",)


def test_a_prior_authorisation_table_names_the_sites_where_the_payer_asks():
    """``[prior_authorisation]`` lands in the policy with its sites, source and text; the policy asks at each listed
    site of service."""
    rule = POLICY.prior_authorisation
    assert rule.sites == (SiteOfService.OFFICE, SiteOfService.HOSPITAL_OUTPATIENT)
    assert (rule.source.id, rule.text) == ("summary", "Precertification is required.")
    assert [POLICY.asks_prior_authorisation_at(site) for site in SiteOfService] == [True, True]


def test_a_policy_asking_in_hospital_outpatient_departments_only_asks_nowhere_else():
    """A payer asking for approval in hospital outpatient departments alone (Medicare's OPD program, Noridian JE)
    asks for none in a physician's office; a site may be given as its text value."""
    policy = load_policy(
        edited('sites = ["office", "hospital_outpatient"]', 'sites = ["hospital_outpatient"]'), source="clinic.toml"
    )
    assert policy.prior_authorisation.sites == (SiteOfService.HOSPITAL_OUTPATIENT,)
    assert policy.prior_authorisation.asks_at("hospital_outpatient") is True
    assert policy.prior_authorisation.asks_at(SiteOfService.OFFICE) is False
    assert policy.asks_prior_authorisation_at(SiteOfService.OFFICE) is False


def test_without_the_table_a_policy_asks_for_no_prior_authorisation():
    """A policy without ``[prior_authorisation]`` asks for approval at no site of service."""
    text = CLINIC[: CLINIC.index("[prior_authorisation]")]
    policy = load_policy(text, source="clinic.toml")
    assert policy.prior_authorisation is None
    assert [policy.asks_prior_authorisation_at(site) for site in SiteOfService] == [False, False]


def test_a_site_of_service_that_is_no_site_is_refused_when_asked():
    """Asking a policy about a site of service it cannot name is refused, not answered no."""
    with pytest.raises(ValueError, match="'home'"):
        POLICY.asks_prior_authorisation_at("home")


def test_the_prior_authorisation_sites_may_be_marked_unconfirmed():
    """``unconfirmed`` may name the new table's field, as any other field present in the file."""
    text = edited(
        'unconfirmed = ["continuation.response.min_fewer_headache_hours"]',
        'unconfirmed = ["prior_authorisation.sites"]',
    )
    assert load_policy(text, source="clinic.toml").unconfirmed == ("prior_authorisation.sites",)


def test_a_source_id_used_twice_is_refused():
    """Two sources with one id are refused; a criterion citing the lost id is refused with it."""
    assert problems(edited('id = "summary"', 'id = "policy"')) == (
        'clinic.toml: sources[1].id: source id "policy" is used twice',
        'clinic.toml: initial.frequency.source: names no source in [[sources]] (got "summary"; sources: policy)',
        'clinic.toml: prior_authorisation.source: names no source in [[sources]] (got "summary"; sources: policy)',
    )


def test_every_problem_in_a_file_is_listed():
    """A file with several problems is refused once, listing each of them in reading order."""
    text = edited("min_years = 18", "min_years = -1").replace("min_trial_days = 60", 'min_trial_days = "60"')
    text = text.replace("[stopping]", "[stoping]")
    assert problems(text) == (
        "clinic.toml: initial.age.min_years: must be a whole number >= 0 (got -1)",
        'clinic.toml: initial.prior_preventives.min_trial_days: must be a whole number >= 1 (got "60")',
        (
            "clinic.toml: stoping: unknown key (allowed here: continuation, id, initial, jurisdiction, kind, "
            "modelled_on, notes, prior_authorisation, reviewed, session, sources, stopping, title, unconfirmed)"
        ),
    )


def test_text_that_is_not_toml_is_refused():
    """Broken TOML is refused with the parser's own message and place."""
    assert problems("id = \n") == ("clinic.toml: not valid TOML: Invalid value (at line 1, column 6)",)


def test_a_policy_without_sources_or_initial_criteria_is_refused():
    """The sources and the initial criteria are required parts of every policy."""
    text = CLINIC[: CLINIC.index("[[sources]]")]
    assert problems(text) == (
        "clinic.toml: sources: required field is missing",
        "clinic.toml: initial: required field is missing",
        (
            "clinic.toml: unconfirmed[0]: names no field present in this policy (got "
            '"continuation.response.min_fewer_headache_hours")'
        ),
    )


def test_a_criterion_without_source_cites_the_first_source():
    """A criterion table that names no source rests on the policy's first source."""
    assert POLICY.initial.age.source.id == "policy"


def test_overuse_not_required_yields_no_criterion():
    """``must_be_managed = false`` states the policy does not ask for it: no medication-overuse criterion."""
    policy = load_policy(edited("must_be_managed = true", "must_be_managed = false"), source="clinic.toml")
    assert policy.initial.medication_overuse is None
    keys = [c.key for c in judge(initial_evidence(), policy=policy).criteria]
    assert "initial.medication_overuse" not in keys


# --- Evidence texts ---------------------------------------------------------------------------------------------


def test_a_trial_is_described_with_drug_dose_dates_length_and_reason():
    """A stopped trial reads like ``topiramate 100 mg 2025-03-01..2025-06-02 (94 days), stopped: ineffective``."""
    topiramate = PreventiveTrial(
        "topiramate",
        PreventiveClass.ANTICONVULSANT,
        "100 mg",
        date(2025, 3, 1),
        date(2025, 6, 2),
        StopReason.INEFFECTIVE,
    )
    assert topiramate.describe(TODAY) == "topiramate 100 mg 2025-03-01..2025-06-02 (94 days), stopped: ineffective"
    assert topiramate.days(TODAY) == 94


def test_a_trials_length_counts_its_start_and_its_stop_day():
    """The stop date is the last day taken, so a trial's length counts both days: stopped the day it started, 1 day;
    1 January to 1 March 2025, 60 days, enough for a 60-day minimum; to 28 February, 59 days, not enough."""
    one_day = PreventiveTrial(
        "topiramate", PreventiveClass.ANTICONVULSANT, "", date(2025, 1, 1), date(2025, 1, 1), StopReason.NOT_TOLERATED
    )
    assert one_day.days(TODAY) == 1
    sixty = PreventiveTrial(
        "topiramate", PreventiveClass.ANTICONVULSANT, "", date(2025, 1, 1), date(2025, 3, 1), StopReason.INEFFECTIVE
    )
    fifty_nine = replace(sixty, stop=date(2025, 2, 28))
    assert (sixty.days(TODAY), fifty_nine.days(TODAY)) == (60, 59)
    counted = judge(initial_evidence(preventive_trials=(sixty,))).criterion("initial.prior_preventives")
    assert (
        counted.evidence[0]
        == "topiramate 2025-01-01..2025-03-01 (60 days), stopped: ineffective; counts (anticonvulsant)"
    )
    short = judge(initial_evidence(preventive_trials=(fifty_nine,))).criterion("initial.prior_preventives")
    assert short.evidence[0].endswith("does not count (59 days < the 60-day minimum trial)")


def test_an_ongoing_and_a_never_started_trial_are_described():
    """An ongoing trial counts its days to today; a contraindicated drug never started has no dates."""
    ongoing = PreventiveTrial(
        "candesartan", PreventiveClass.ACE_INHIBITOR_OR_ARB, "16 mg", date(2026, 9, 1), None, StopReason.ONGOING
    )
    never = PreventiveTrial("propranolol", PreventiveClass.BETA_BLOCKER, "", None, None, StopReason.CONTRAINDICATED)
    assert ongoing.describe(TODAY) == "candesartan 16 mg 2026-09-01..ongoing (89 days so far)"
    assert never.describe(TODAY) == "propranolol, contraindicated"
    assert never.days(TODAY) is None


def test_a_trial_stopping_before_it_starts_is_refused():
    """A trial whose stop date precedes its start date is refused; class and reason may be given as text."""
    with pytest.raises(EvidenceError) as raised:
        PreventiveTrial("topiramate", "anticonvulsant", "100 mg", date(2025, 6, 2), date(2025, 3, 1), "ineffective")
    assert raised.value.problems == (
        "preventive trial topiramate: stop date 2025-03-01 is before its start date 2025-06-02",
    )
    text = PreventiveTrial("topiramate", "anticonvulsant", "100 mg", date(2025, 3, 1), None, "ongoing")
    assert (text.drug_class, text.stop_reason) == (PreventiveClass.ANTICONVULSANT, StopReason.ONGOING)


def test_prior_preventives_evidence_lists_each_trial_and_the_count():
    """The evidence names each trial, whether it counts and why, then the classes counted against the minimum."""
    trials = (
        trial(
            "amitriptyline",
            PreventiveClass.TRICYCLIC_ANTIDEPRESSANT,
            "25 mg",
            date(2025, 1, 6),
            90,
            StopReason.INEFFECTIVE,
        ),
        trial("venlafaxine", PreventiveClass.SNRI, "75 mg", date(2025, 4, 7), 30, StopReason.NOT_TOLERATED),
        trial("topiramate", PreventiveClass.ANTICONVULSANT, "100 mg", date(2025, 3, 1), 93, StopReason.INEFFECTIVE),
        trial("valproate", PreventiveClass.ANTICONVULSANT, "500 mg", date(2025, 6, 9), 59, StopReason.INEFFECTIVE),
        PreventiveTrial("propranolol", PreventiveClass.BETA_BLOCKER, "", None, None, StopReason.CONTRAINDICATED),
        trial(
            "candesartan", PreventiveClass.ACE_INHIBITOR_OR_ARB, "16 mg", date(2025, 9, 1), 90, StopReason.INEFFECTIVE
        ),
        trial("lisinopril", PreventiveClass.ACE_INHIBITOR_OR_ARB, "10 mg", date(2025, 12, 1), 90, StopReason.OTHER),
    )
    result = judge(initial_evidence(preventive_trials=trials)).criterion("initial.prior_preventives")
    assert result.evidence == (
        "amitriptyline 25 mg 2025-01-06..2025-04-05 (90 days), stopped: ineffective; counts (antidepressant)",
        "venlafaxine 75 mg 2025-04-07..2025-05-06 (30 days), stopped: not tolerated; counts (antidepressant)",
        "topiramate 100 mg 2025-03-01..2025-06-01 (93 days), stopped: ineffective; counts (anticonvulsant)",
        (
            "valproate 500 mg 2025-06-09..2025-08-06 (59 days), stopped: ineffective; does not count (59 days < "
            "the 60-day minimum trial)"
        ),
        "propranolol, contraindicated; does not count (contraindication does not count under this policy)",
        (
            "candesartan 16 mg 2025-09-01..2025-11-29 (90 days), stopped: ineffective; does not count (class "
            "ACE inhibitor or ARB is not one this policy counts)"
        ),
        (
            "lisinopril 10 mg 2025-12-01..2026-02-28 (90 days), stopped: other; does not count (class "
            "ACE inhibitor or ARB is not one this policy counts)"
        ),
        "failed classes: 2 (antidepressant, anticonvulsant) of 2 required",
    )
    assert result.outcome is CriterionOutcome.MET


def test_preventive_classes_and_groups_are_named_in_words_not_codes():
    """A counted trial names its group in words (a group named after a class in the class's words: "beta blocker"),
    and the rule lists the groups and their classes in words ("SNRI", "tricyclic antidepressant"), never the file's
    codes."""
    trials = (
        trial("propranolol", PreventiveClass.BETA_BLOCKER, "80 mg", date(2025, 1, 6), 90, StopReason.INEFFECTIVE),
        trial("topiramate", PreventiveClass.ANTICONVULSANT, "100 mg", date(2025, 4, 7), 90, StopReason.INEFFECTIVE),
    )
    result = judge(initial_evidence(preventive_trials=trials)).criterion("initial.prior_preventives")
    assert result.evidence == (
        "propranolol 80 mg 2025-01-06..2025-04-05 (90 days), stopped: ineffective; counts (beta blocker)",
        "topiramate 100 mg 2025-04-07..2025-07-05 (90 days), stopped: ineffective; counts (anticonvulsant)",
        "failed classes: 2 (beta blocker, anticonvulsant) of 2 required",
    )
    assert result.rule.startswith(
        ">= 2 classes failed, counting antidepressant (tricyclic antidepressant, SNRI); anticonvulsant "
        "(anticonvulsant); beta blocker (beta blocker);"
    )
    assert "_" not in result.rule
    assert PreventiveClass.ACE_INHIBITOR_OR_ARB.label == "ACE inhibitor or ARB"
    assert PreventiveClass.CGRP_MAB.label == "CGRP monoclonal antibody"


def test_headache_hours_are_shown_as_the_diary_writes_them():
    """Hours stored with two decimal places read 281 -> 46.5, never 281.00 -> 46.50."""
    hours = {0: Decimal("281.00"), 6: Decimal("46.50")}
    result = judge(continuation_evidence(headache_hours=hours), Stage.CONTINUATION).criterion("continuation.response")
    assert "headache hours 281 -> 46.5: 234.5 fewer (>= 100)" in result.evidence
    more = {0: Decimal("40.00"), 6: Decimal("60.00")}
    worse = judge(continuation_evidence(headache_hours=more), Stage.CONTINUATION).criterion("continuation.response")
    assert "headache hours 40 -> 60: 20 more (< 100)" in worse.evidence


def test_two_drugs_of_one_group_count_as_one_class():
    """Amitriptyline and venlafaxine are one antidepressant class when the policy groups them, so one class fails."""
    trials = (
        trial(
            "amitriptyline",
            PreventiveClass.TRICYCLIC_ANTIDEPRESSANT,
            "25 mg",
            date(2025, 1, 6),
            90,
            StopReason.INEFFECTIVE,
        ),
        trial("venlafaxine", PreventiveClass.SNRI, "75 mg", date(2025, 4, 7), 90, StopReason.INEFFECTIVE),
    )
    result = judge(initial_evidence(preventive_trials=trials)).criterion("initial.prior_preventives")
    assert result.evidence[-1] == "failed classes: 1 (antidepressant) of 2 required"
    assert result.outcome is CriterionOutcome.NOT_MET


def test_intolerance_counts_only_where_the_policy_says_so():
    """A trial stopped for intolerance counts under a policy that says so, and not under one that does not."""
    trials = (
        trial("topiramate", PreventiveClass.ANTICONVULSANT, "50 mg", date(2025, 1, 6), 10, StopReason.NOT_TOLERATED),
        trial("propranolol", PreventiveClass.BETA_BLOCKER, "80 mg", date(2025, 3, 3), 90, StopReason.INEFFECTIVE),
    )
    strict = load_policy(edited("intolerance_counts = true", "intolerance_counts = false"), source="clinic.toml")
    evidence = initial_evidence(preventive_trials=trials)
    assert judge(evidence).criterion("initial.prior_preventives").outcome is CriterionOutcome.MET
    refused = judge(evidence, policy=strict).criterion("initial.prior_preventives")
    assert refused.outcome is CriterionOutcome.NOT_MET
    assert refused.evidence[0] == (
        "topiramate 50 mg 2025-01-06..2025-01-15 (10 days), stopped: not tolerated; "
        "does not count (intolerance does not count under this policy)"
    )


def test_a_trial_without_a_start_date_leaves_information_missing():
    """An ineffective trial with no start date cannot be measured, so a count it could complete is missing."""
    trials = (
        trial("topiramate", PreventiveClass.ANTICONVULSANT, "100 mg", date(2025, 1, 6), 90, StopReason.INEFFECTIVE),
        PreventiveTrial(
            "propranolol", PreventiveClass.BETA_BLOCKER, "80 mg", None, date(2025, 6, 1), StopReason.INEFFECTIVE
        ),
    )
    result = judge(initial_evidence(preventive_trials=trials)).criterion("initial.prior_preventives")
    assert result.outcome is CriterionOutcome.MISSING_INFORMATION
    assert result.evidence[1] == "propranolol 80 mg, ineffective; cannot be judged (start date not recorded)"


NO_STOP_DATE = (
    "no stop date recorded: only a medicine that stopped can count as failed, so record the day it stopped or mark "
    "it still taken"
)


def test_a_trial_marked_stopped_without_a_stop_date_never_counts():
    """A trial marked ineffective or not tolerated with no stop date (stored before the form asked for one) is never
    a failed trial: the record cannot tell a failure from a medicine still taken, so a count it could complete is
    missing information, and the evidence says why."""
    trials = (
        trial("amitriptyline", PreventiveClass.TRICYCLIC_ANTIDEPRESSANT, "25 mg", date(2025, 1, 6), 90, "ineffective"),
        PreventiveTrial("topiramate", "anticonvulsant", "100 mg", date(2025, 3, 1), None, "ineffective"),
        PreventiveTrial("propranolol", "beta_blocker", "80 mg", date(2025, 6, 9), None, "not_tolerated"),
    )
    result = judge(initial_evidence(preventive_trials=trials)).criterion("initial.prior_preventives")
    assert result.evidence == (
        "amitriptyline 25 mg 2025-01-06..2025-04-05 (90 days), stopped: ineffective; counts (antidepressant)",
        f"topiramate 100 mg from 2025-03-01 (no stop date), stopped: ineffective; cannot be judged ({NO_STOP_DATE})",
        f"propranolol 80 mg from 2025-06-09 (no stop date), stopped: not tolerated; cannot be judged ({NO_STOP_DATE})",
        "failed classes: 1 (antidepressant) of 2 required",
    )
    assert result.outcome is CriterionOutcome.MISSING_INFORMATION


def test_the_reported_erenumab_without_a_stop_date_is_not_a_failure_under_a_policy_asking_no_length():
    """The reported case, under shipped policy B (any 2 medicines, no minimum length): erenumab marked ineffective
    from 2025-06-01 with no stop date counted as failed "2025-06-01..ongoing (547 days so far)"; it now cannot be
    judged, so one failed medicine leaves the criterion missing information, never met. A trial stopped for another
    reason with no stop date does not count either way."""
    policy = shipped_policies()["us-commercial-b"]
    trials = (
        trial("topiramate", PreventiveClass.ANTICONVULSANT, "100 mg", date(2025, 1, 6), 90, StopReason.INEFFECTIVE),
        PreventiveTrial("erenumab", "cgrp_mab", "140 mg", date(2025, 6, 1), None, "ineffective"),
        PreventiveTrial("lisinopril", "ace_inhibitor_or_arb", "10 mg", date(2025, 12, 1), None, "other"),
    )
    result = judge(initial_evidence(preventive_trials=trials), policy=policy).criterion("initial.prior_preventives")
    assert result.evidence == (
        "topiramate 100 mg 2025-01-06..2025-04-05 (90 days), stopped: ineffective; counts (anticonvulsant)",
        f"erenumab 140 mg from 2025-06-01 (no stop date), stopped: ineffective; cannot be judged ({NO_STOP_DATE})",
        (
            "lisinopril 10 mg from 2025-12-01 (no stop date), stopped: other; does not count (stopped for another "
            "reason)"
        ),
        "failed medicines: 1 (topiramate) of 2 required",
    )
    assert result.outcome is CriterionOutcome.MISSING_INFORMATION
    stopped = replace(trials[1], stop=date(2025, 9, 1))
    evidence = initial_evidence(preventive_trials=(trials[0], stopped))
    met = judge(evidence, policy=policy).criterion("initial.prior_preventives")
    assert met.outcome is CriterionOutcome.MET


def test_one_medicine_in_two_spellings_is_one_failed_medicine():
    """ "Topiramate" and "topiramate" are one medicine (``medicine_key``: letter case aside), so two trials of it are
    one failed medicine of the two shipped policy B asks, the first spelling named; another drug is another."""
    assert medicine_key("Topiramate") == medicine_key("topiramate") == medicine_key("TOPIRAMATE")
    assert medicine_key("Topiramate") != medicine_key("propranolol")
    policy = shipped_policies()["us-commercial-b"]
    first = trial("Topiramate", PreventiveClass.ANTICONVULSANT, "50 mg", date(2024, 1, 8), 90, StopReason.INEFFECTIVE)
    again = replace(first, drug="topiramate", start=date(2025, 1, 6), stop=date(2025, 4, 6))
    result = judge(initial_evidence(preventive_trials=(first, again)), policy=policy).criterion(
        "initial.prior_preventives"
    )
    assert result.evidence[-1] == "failed medicines: 1 (Topiramate) of 2 required"
    assert result.outcome is CriterionOutcome.NOT_MET


def test_a_contraindicated_drug_needs_no_stop_date_to_count():
    """A drug never started because it is contraindicated has nothing to stop: it counts without a stop date where
    the policy counts contraindications (shipped policy B)."""
    policy = shipped_policies()["us-commercial-b"]
    trials = (
        trial("topiramate", PreventiveClass.ANTICONVULSANT, "100 mg", date(2025, 1, 6), 90, StopReason.INEFFECTIVE),
        PreventiveTrial("propranolol", "beta_blocker", "", date(2025, 6, 1), None, "contraindicated"),
    )
    result = judge(initial_evidence(preventive_trials=trials), policy=policy).criterion("initial.prior_preventives")
    assert result.evidence[1] == "propranolol, contraindicated; counts (beta blocker)"
    assert result.outcome is CriterionOutcome.MET


def test_without_a_minimum_length_a_trial_needs_no_start_date():
    """A policy that asks no minimum trial length (NICE names none) counts an ineffective trial without dates; only a
    policy that asks one needs the start date to measure it."""
    no_minimum = load_policy(edited("min_trial_days = 60\n", ""), source="clinic.toml")
    trials = (
        trial("topiramate", PreventiveClass.ANTICONVULSANT, "100 mg", date(2025, 1, 6), 90, StopReason.INEFFECTIVE),
        PreventiveTrial(
            "propranolol", PreventiveClass.BETA_BLOCKER, "80 mg", None, date(2025, 6, 1), StopReason.INEFFECTIVE
        ),
    )
    result = judge(initial_evidence(preventive_trials=trials), policy=no_minimum).criterion("initial.prior_preventives")
    assert result.outcome is CriterionOutcome.MET
    assert result.evidence[1].startswith("propranolol 80 mg, ineffective; counts")


def test_no_preventive_history_is_missing_not_failed():
    """Without a recorded preventive history the criterion lacks information; an empty history fails it."""
    unrecorded = judge(initial_evidence(preventive_trials=None)).criterion("initial.prior_preventives")
    assert (unrecorded.outcome, unrecorded.evidence) == (
        CriterionOutcome.MISSING_INFORMATION,
        ("no preventive history recorded",),
    )
    assert judge(initial_evidence(preventive_trials=())).criterion("initial.prior_preventives").outcome is (
        CriterionOutcome.NOT_MET
    )


def test_age_evidence_and_a_missing_birth_date():
    """Age is given in completed years on the request date; without a birth date it is missing information."""
    assert judge(initial_evidence()).criterion("initial.age").evidence == ("age 46 on 2026-11-28 (>= 18)",)
    missing = judge(initial_evidence(birth_date=None)).criterion("initial.age")
    assert (missing.outcome, missing.evidence) == (CriterionOutcome.MISSING_INFORMATION, ("no birth date recorded",))


def test_frequency_evidence_names_each_period_and_its_count():
    """Each period is named with its dates, its count and the comparison with the policy's threshold."""
    evidence = initial_evidence((MODEL, Period(headache=14, migraine=12), MODEL))
    result = judge(evidence).criterion("initial.frequency.min_headache_days")
    assert result.evidence == (
        "period 1 (2026-10-31..2026-11-27): 20 headache days (>= 15)",
        "period 2 (2026-10-03..2026-10-30): 14 headache days (< 15)",
        "period 3 (2026-09-05..2026-10-02): 20 headache days (>= 15)",
    )
    assert result.outcome is CriterionOutcome.NOT_MET
    assert result.rule == "each of the last 3 periods of 28 days has >= 15 headache days"
    assert (result.source.id, result.policy_text) == ("summary", "At least 15 headache days a month.")


def test_an_incomplete_period_leaves_frequency_missing():
    """A period with fewer than 20 recorded days makes the counts missing information, not a failure."""
    evidence = initial_evidence((MODEL, MODEL, Period(headache=15, migraine=12, recorded=19)))
    result = judge(evidence).criterion("initial.frequency.min_migraine_days")
    assert result.outcome is CriterionOutcome.MISSING_INFORMATION
    assert result.evidence[-1] == "period 3 (2026-09-05..2026-10-02): 19 of 28 days recorded (< 20): incomplete"


def test_an_assessment_shorter_than_the_policy_asks_is_missing_information():
    """An assessment over fewer periods than the policy needs says how many to assess."""
    result = judge(initial_evidence((MODEL, MODEL))).criterion("initial.frequency.min_headache_days")
    assert (result.outcome, result.evidence) == (
        CriterionOutcome.MISSING_INFORMATION,
        ("the assessment covers 2 periods; the policy asks for 3 (assess with periods=3)",),
    )


def test_the_diagnosis_evidence_is_the_engines_verdict():
    """The diagnosis criteria carry the engine's ICHD-3 and label reasons unchanged."""
    evidence = initial_evidence()
    result = judge(evidence).criterion("initial.diagnosis.chronic_migraine")
    assert result.evidence == evidence.assessment.chronic_migraine.reasons
    assert judge(evidence).criterion("initial.diagnosis.label_indication").evidence == (
        evidence.assessment.label_criteria.reasons
    )
    assert judge(replace(evidence, assessment=None)).criterion("initial.diagnosis.chronic_migraine").evidence == (
        "no eligibility assessment (assess the baseline diary)",
    )


def test_medication_overuse_managed_or_not():
    """Suspected overuse meets the criterion once the clinician records it managed, fails while not, lacks
    information while unrecorded; no overuse meets it outright."""
    overusing = (Period(triptan_days=10),) * 3
    managed = judge(initial_evidence(overusing, medication_overuse_managed=True)).criterion(
        "initial.medication_overuse"
    )
    not_managed = judge(initial_evidence(overusing, medication_overuse_managed=False)).criterion(
        "initial.medication_overuse"
    )
    unknown = judge(initial_evidence(overusing)).criterion("initial.medication_overuse")
    assert [r.outcome for r in (managed, not_managed, unknown)] == [
        CriterionOutcome.MET,
        CriterionOutcome.NOT_MET,
        CriterionOutcome.MISSING_INFORMATION,
    ]
    assert managed.evidence[0] == "ICHD-3 8.2.2: period 1 (2026-10-31..2026-11-27) has triptan on 10 days (>= 10)"
    assert managed.evidence[-1] == "medication overuse managed (clinician's record)"


def test_overuse_in_a_recent_period_is_the_clinicians_to_answer():
    """A period at an overuse threshold leaves the criterion to the clinician's record even though ICHD-3 8.2 B
    (regular overuse for > 3 months) fails; a record of overuse not yet managed fails it whatever the diary shows."""
    recent = (Period(triptan_days=20), Period(triptan_days=15), Period())  # period 3 has no overuse
    unknown = judge(initial_evidence(recent)).criterion("initial.medication_overuse")
    assert unknown.outcome is CriterionOutcome.MISSING_INFORMATION
    assert "ICHD-3 8.2.2: period 1 (2026-10-31..2026-11-27) has triptan on 20 days (>= 10)" in unknown.evidence
    assert unknown.evidence[-1] == "whether medication overuse has been managed is not recorded"
    managed = judge(initial_evidence(recent, medication_overuse_managed=True)).criterion("initial.medication_overuse")
    assert (managed.outcome, managed.evidence[-1]) == (
        CriterionOutcome.MET,
        "medication overuse managed (clinician's record)",
    )
    for periods in (recent, (Period(),) * 3, (Period(10, 6, recorded=10),) * 3):  # the last: not enough diary
        not_managed = judge(initial_evidence(periods, medication_overuse_managed=False)).criterion(
            "initial.medication_overuse"
        )
        assert (not_managed.outcome, not_managed.evidence[-1]) == (
            CriterionOutcome.NOT_MET,
            "medication overuse not yet managed (clinician's record)",
        )
    assert not_managed.evidence[-1] == "medication overuse not yet managed (clinician's record)"
    assert unknown.evidence[-1] == "whether medication overuse has been managed is not recorded"
    assert judge(initial_evidence()).criterion("initial.medication_overuse").outcome is CriterionOutcome.MET


def test_a_current_cgrp_antibody_blocks_a_policy_forbidding_the_combination():
    """A current CGRP monoclonal antibody fails a policy that forbids the combination; unrecorded use is missing."""
    on_it = judge(initial_evidence(current_cgrp_mab=("erenumab",))).criterion("initial.cgrp_mab")
    assert (on_it.outcome, on_it.evidence) == (
        CriterionOutcome.NOT_MET,
        ("current CGRP monoclonal antibody: erenumab",),
    )
    allowed = load_policy(edited("combination_allowed = false", "combination_allowed = true"), source="clinic.toml")
    assert judge(initial_evidence(current_cgrp_mab=("erenumab",)), policy=allowed).criterion(
        "initial.cgrp_mab"
    ).evidence == ("current CGRP monoclonal antibody: erenumab (combination allowed)",)
    unknown = judge(initial_evidence(current_cgrp_mab=None)).criterion("initial.cgrp_mab")
    assert unknown.evidence == ("current CGRP monoclonal antibody use not recorded",)


def test_dose_and_interval_evidence():
    """The planned dose is compared with the cap and the planned date with the previous session."""
    evidence = initial_evidence(planned_units=200, last_session=PLANNED - timedelta(days=83))
    evaluation = judge(evidence)
    assert evaluation.criterion("session.max_units").evidence == ("planned dose 200 U (> 195 U)",)
    assert evaluation.criterion("session.min_interval_days").evidence == (
        "planned 2026-12-01 is 83 days after the previous session of 2026-09-09 (< 84)",
    )
    before = judge(replace(evidence, last_session=PLANNED + timedelta(days=1)))
    assert before.criterion("session.min_interval_days").evidence == (
        "planned 2026-12-01 is before the previous session of 2026-12-02",
    )
    unplanned = judge(replace(evidence, planned_units=None, planned_date=None))
    assert unplanned.criterion("session.max_units").evidence == ("no planned dose recorded",)
    assert unplanned.criterion("session.min_interval_days").evidence == ("no planned session date recorded",)


def test_a_continuation_interval_runs_from_the_last_injection():
    """At continuation the previous session is the last injection of the outcomes unless one is recorded; with
    neither, a continuation request lacks information (no previous session is recorded: it continues a treatment the
    record does not show), while an initial request's planned session starts treatment."""
    evidence = continuation_evidence(planned_date=date(2026, 10, 1))
    result = judge(evidence, Stage.CONTINUATION).criterion("session.min_interval_days")
    assert result.evidence == ("planned 2026-10-01 is 52 days after the previous session of 2026-08-10 (< 84)",)
    untreated = replace(evidence, outcomes=None)
    continued = judge(untreated, Stage.CONTINUATION).criterion("session.min_interval_days")
    assert (continued.outcome, continued.evidence) == (
        CriterionOutcome.MISSING_INFORMATION,
        ("no previous session is recorded for a continuation request",),
    )
    assert judge(untreated, Stage.INITIAL).criterion("session.min_interval_days").evidence == (
        "no previous session: 2026-10-01 starts treatment",
    )


# --- Continuation and stopping ----------------------------------------------------------------------------------


def test_a_responder_meets_the_any_of_response_with_each_alternative_shown():
    """The response evidence names the period judged, then each alternative with its comparison."""
    result = judge(continuation_evidence(), Stage.CONTINUATION).criterion("continuation.response")
    assert result.evidence == (
        "judged on period 6 (2026-10-05..2026-11-01) against the baseline (2026-04-20..2026-05-17)",
        "headache days 20 -> 10: 50.0 % fewer (>= 50 %)",
        "migraine days 12 -> 6: 50.0 % fewer (>= 50 %)",
        "headache days 20 -> 10: 10 fewer (>= 7)",
        "headache hours 200 -> 60: 140 fewer (>= 100)",
        "prescriber reports clinical benefit",
    )
    assert result.outcome is CriterionOutcome.MET
    assert result.rule == (
        "in the latest complete period from period 6 (week 24) on, any of: >= 50 % fewer headache days than the "
        "baseline; >= 50 % fewer migraine days than the baseline; >= 7 fewer headache days than the baseline; "
        ">= 100 fewer headache hours than the baseline; clinical benefit as judged by the prescriber (UNCONFIRMED: "
        "continuation.response.min_fewer_headache_hours)"
    )
    assert result.unconfirmed == ("continuation.response.min_fewer_headache_hours",)


def test_one_alternative_is_enough():
    """Seven fewer headache days alone (35 %) meets an any-of response that also offers 50 %."""
    after = (*RESPONDER[:5], Period(13, 12, hours=10))
    evidence = continuation_evidence(after, prescriber_attests_benefit=False)
    result = judge(evidence, Stage.CONTINUATION).criterion("continuation.response")
    assert result.evidence[1:4] == (
        "headache days 20 -> 13: 35.0 % fewer (< 50 %)",
        "migraine days 12 -> 12: 0.0 % fewer (< 50 %)",
        "headache days 20 -> 13: 7 fewer (>= 7)",
    )
    assert result.outcome is CriterionOutcome.MET


def test_no_alternative_met_fails_and_an_unjudged_one_leaves_it_missing():
    """A non-responder fails the response; if an alternative cannot be judged, the response lacks information."""
    failed = judge(continuation_evidence(NON_RESPONDER, prescriber_attests_benefit=False), Stage.CONTINUATION)
    result = failed.criterion("continuation.response")
    assert result.outcome is CriterionOutcome.NOT_MET
    assert result.evidence[1:] == (
        "headache days 20 -> 19: 5.0 % fewer (< 50 %)",
        "migraine days 12 -> 12: 0.0 % fewer (< 50 %)",
        "headache days 20 -> 19: 1 fewer (< 7)",
        "headache hours 200 -> 190: 10 fewer (< 100)",
        "prescriber reports no clinical benefit",
    )
    unjudged = continuation_evidence(NON_RESPONDER, prescriber_attests_benefit=None, headache_hours={})
    missing = judge(unjudged, Stage.CONTINUATION).criterion("continuation.response")
    assert missing.outcome is CriterionOutcome.MISSING_INFORMATION
    assert missing.evidence[-2:] == (
        "headache hours for the baseline and period 6 not both recorded",
        "prescriber's judgement of benefit not recorded",
    )


def test_the_prescribers_judgement_of_benefit_names_the_day_it_was_attested():
    """A judgement of benefit given with its request's day says that day: "prescriber reports clinical benefit
    (attested on the request of 2026-11-02)"."""
    evidence = continuation_evidence(NON_RESPONDER, benefit_attested_on=date(2026, 11, 2))
    result = judge(evidence, Stage.CONTINUATION).criterion("continuation.response")
    assert result.evidence[-1] == "prescriber reports clinical benefit (attested on the request of 2026-11-02)"
    assert result.outcome is CriterionOutcome.MET


@pytest.mark.parametrize("attested", [date(2026, 2, 1), date(2026, 1, 10)])
def test_a_judgement_of_benefit_attested_before_the_approval_it_would_renew_began_is_not_read(attested):
    """An attestation made on or before the first day of the approval a continuation renews was made for that
    approval, not for its renewal: it is not read, the response is missing information, and the evidence names both
    days; one made the day after that approval began is read."""
    stale = continuation_evidence(
        NON_RESPONDER, benefit_attested_on=attested, benefit_needed_after=date(2026, 2, 1), headache_hours={}
    )
    result = judge(stale, Stage.CONTINUATION).criterion("continuation.response")
    assert result.outcome is CriterionOutcome.MISSING_INFORMATION
    assert result.evidence[-1] == (
        "prescriber's judgement of benefit not recorded since the approval from 2026-02-01 began: the attestation on "
        f"the request of {attested.isoformat()} was made for that approval, not for its renewal"
    )
    fresh = replace(stale, benefit_attested_on=date(2026, 2, 2))
    result = judge(fresh, Stage.CONTINUATION).criterion("continuation.response")
    assert result.outcome is CriterionOutcome.MET
    assert result.evidence[-1] == "prescriber reports clinical benefit (attested on the request of 2026-02-02)"


def test_more_headache_days_than_baseline_read_as_more():
    """A worsening is shown as more days, never as a negative reduction."""
    after = (*RESPONDER[:5], Period(24, 12, hours=10))
    result = judge(continuation_evidence(after), Stage.CONTINUATION).criterion("continuation.response")
    assert result.evidence[1] == "headache days 20 -> 24: 20.0 % more (< 50 %)"
    assert result.evidence[3] == "headache days 20 -> 24: 4 more (< 7)"


def test_the_response_waits_for_the_period_after_the_cycles():
    """Before period 6 is complete the response lacks information; the period judged is 3 x after_cycles."""
    result = judge(continuation_evidence(RESPONDER[:5]), Stage.CONTINUATION).criterion("continuation.response")
    assert (result.outcome, result.evidence) == (
        CriterionOutcome.MISSING_INFORMATION,
        ("no complete period from period 6 (week 24) on yet",),
    )
    assert CYCLE_PERIODS * POLICY.continuation.after_cycles == WEEK24_PERIOD


def test_the_latest_complete_period_is_judged():
    """A patient further on is judged on the latest complete period, not on week 24."""
    after = (*RESPONDER, Period(8, 4), Period(9, 5, recorded=10))
    result = judge(continuation_evidence(after), Stage.CONTINUATION).criterion("continuation.response")
    assert (
        result.evidence[0]
        == "judged on period 7 (2026-11-02..2026-11-29) against the baseline (2026-04-20..2026-05-17)"
    )


def test_a_policy_may_judge_the_response_on_the_period_after_the_cycles_alone():
    """With ``judged_on = "after_cycles"`` (NICE's "after 2 treatment cycles") the response is period 6's even when
    a later period is complete; while period 6 is incomplete it is missing information, whatever comes later. Any
    other value is refused naming the field."""
    week6 = load_policy(edited("after_cycles = 2", 'after_cycles = 2\njudged_on = "after_cycles"'), source="c.toml")
    after = (*RESPONDER, Period(8, 4), Period(9, 5, recorded=10))
    result = judge(continuation_evidence(after), Stage.CONTINUATION, policy=week6).criterion("continuation.response")
    assert result.evidence[0] == (
        "judged on period 6 (2026-10-05..2026-11-01) against the baseline (2026-04-20..2026-05-17)"
    )
    assert result.rule.startswith("in period 6 (week 24), any of: ")
    gap = (*RESPONDER[:5], Period(10, 6, recorded=10), Period(8, 4))
    missing = judge(continuation_evidence(gap), Stage.CONTINUATION, policy=week6).criterion("continuation.response")
    assert missing.evidence == ("period 6 (week 24), the one the response is judged on, is not complete",)
    assert problems(edited("after_cycles = 2", 'after_cycles = 2\njudged_on = "best"')) == (
        'clinic.toml: continuation.judged_on: must be one of latest, after_cycles (got "best")',
    )


def test_an_incomplete_baseline_leaves_the_response_missing():
    """Without a complete baseline there is nothing to measure the response against."""
    evidence = continuation_evidence(baseline=Period(headache=15, migraine=12, recorded=15, hours=10))
    result = judge(evidence, Stage.CONTINUATION).criterion("continuation.response")
    assert result.evidence == ("baseline (2026-04-20..2026-05-17) has 15 of 28 days recorded (< 20): incomplete",)
    assert result.outcome is CriterionOutcome.MISSING_INFORMATION


def test_cycles_given_evidence():
    """The sessions given are listed with their dates against the policy's cycle count."""
    evaluation = judge(continuation_evidence(cycles=1), Stage.CONTINUATION)
    not_due = (
        "sessions given: 1 (2026-05-18) (< 2): continuation is not due yet; it is judged after 2 cycles, and until "
        "then a request is at the initial stage"
    )
    assert evaluation.criterion("continuation.after_cycles").evidence == (not_due,)
    two = judge(continuation_evidence(), Stage.CONTINUATION).criterion("continuation.after_cycles")
    assert two.evidence == ("sessions given: 2 (2026-05-18, 2026-08-10) (>= 2)",)
    assert judge(replace(continuation_evidence(), outcomes=None), Stage.CONTINUATION).criterion(
        "continuation.after_cycles"
    ).evidence == ("no treatment outcomes recorded (no injection dates and diary after them)",)


@pytest.mark.parametrize(
    ("after", "outcome", "evidence"),
    [
        (
            (MODEL,) * 3 + (Period(14, 6),) * 3,
            CriterionOutcome.NOT_MET,
            (
                "periods 4, 5, 6 (2026-08-10..2026-11-01) each have < 15 headache days (14, 14, 14): reverted "
                "to episodic "
                "migraine for 3 consecutive periods"
            ),
        ),
        (
            (MODEL,) * 4 + (Period(14, 6),) * 2,
            CriterionOutcome.MET,
            "the last 3 complete periods (4, 5, 6) have 20, 14, 14 headache days: not each < 15",
        ),
        (
            (MODEL, MODEL, Period(10, 6, recorded=10), MODEL, Period(14, 6)),
            CriterionOutcome.MET,
            "the last 3 complete periods (2, 4, 5) are not consecutive",
        ),
        (
            (Period(14, 6),) * 2,
            CriterionOutcome.MET,
            "2 complete periods after the first injection (< 3): the stopping rule cannot apply yet",
        ),
    ],
)
def test_the_stopping_rule_needs_consecutive_complete_periods_below_the_threshold(after, outcome, evidence):
    """Reverting to episodic migraine stops treatment only over consecutive complete periods each below threshold."""
    result = judge(continuation_evidence(after), Stage.CONTINUATION).criterion("stopping.episodic")
    assert (result.outcome, result.evidence) == (outcome, (evidence,))


@pytest.mark.parametrize(
    ("after", "evidence"),
    [
        (
            (MODEL, Period(14, 6), Period(10, 6, recorded=10), Period(14, 6), Period(14, 6)),
            (
                "the last 3 complete periods (2, 4, 5) are not consecutive",
                "period 3 has 10 of 28 days recorded (< 20)",
                (
                    "the last 4 periods are each incomplete or below 15 headache days: a return to episodic "
                    "migraine for 3 consecutive periods cannot be ruled out"
                ),
            ),
        ),
        (
            (MODEL, Period(10, 6), Period(8, 6), Period(10, 6), Period(12, 6, recorded=15), MODEL),
            (
                "the last 3 complete periods (3, 4, 6) are not consecutive",
                (
                    "periods 2, 3, 4 (2026-06-15..2026-09-06) each had < 15 headache days (10, 8, 10): whether "
                    "the condition has changed to episodic migraine is the clinician's to judge"
                ),
            ),
        ),
        (
            (Period(12, 6, recorded=15), Period(14, 6)),
            ("1 complete period after the first injection (< 3): the stopping rule cannot apply yet",),
        ),
        (
            (Period(12, 6, recorded=15), Period(14, 6), Period(14, 6)),
            (
                "2 complete periods after the first injection (< 3): the stopping rule cannot apply yet",
                "period 1 has 15 of 28 days recorded (< 20)",
                (
                    "the last 3 periods are each incomplete or below 15 headache days: a return to episodic "
                    "migraine for 3 consecutive periods cannot be ruled out"
                ),
            ),
        ),
    ],
)
def test_a_gap_in_the_diary_leaves_a_return_to_episodic_migraine_to_the_clinician(after, evidence):
    """Where the last complete periods cannot be read as the rule asks, an earlier run below the threshold, or a
    stretch of periods each below it or incomplete long enough to hide one, is missing information, not met: a month
    without diary no longer turns a stop into approvable."""
    result = judge(continuation_evidence(after), Stage.CONTINUATION).criterion("stopping.episodic")
    outcome = CriterionOutcome.MET if len(evidence) == 1 else CriterionOutcome.MISSING_INFORMATION
    assert (result.outcome, result.evidence) == (outcome, evidence)


# --- The overall reading ----------------------------------------------------------------------------------------


def test_the_overall_status_never_hides_the_criteria():
    """Not met beats missing information, which beats approvable; the summary names the criteria behind it."""
    approvable = judge(initial_evidence())
    missing = judge(initial_evidence(birth_date=None, current_cgrp_mab=None))
    refused = judge(initial_evidence(birth_date=None, current_cgrp_mab=("erenumab",)))
    assert [e.status for e in (approvable, missing, refused)] == [
        CoverageStatus.APPROVABLE,
        CoverageStatus.INFORMATION_MISSING,
        CoverageStatus.NOT_APPROVABLE,
    ]
    assert approvable.summary == "approvable under A clinic's test policy (initial): every criterion met"
    assert refused.summary == (
        "not approvable under A clinic's test policy (initial): not met: initial.cgrp_mab; missing information: "
        "initial.age, initial.diagnosis.label_indication"
    )
    assert approvable.notes == ("approval length if approved: 6 months",)
    assert approvable.approval_months == 6
    assert approvable.approval_unconfirmed == ()


def test_an_unconfirmed_approval_length_is_marked_as_a_rule_is():
    """An approval length the file lists as unconfirmed keeps the mark in the note and names its field, for the
    stage judged only; a criterion's rule carries the same mark, and ``plain_rule`` is the rule without it."""
    text = edited(
        'unconfirmed = ["continuation.response.min_fewer_headache_hours"]',
        'unconfirmed = ["continuation.response.min_fewer_headache_hours", "initial.approval_months"]',
    )
    policy = load_policy(text, source="clinic.toml")
    initial = judge(initial_evidence(), policy=policy)
    assert initial.approval_unconfirmed == ("initial.approval_months",)
    assert initial.notes == ("approval length if approved: 6 months (UNCONFIRMED: initial.approval_months)",)
    assert initial.approval_note == initial.notes[0]
    continuation = judge(continuation_evidence(), Stage.CONTINUATION, policy=policy)
    assert continuation.approval_unconfirmed == ()
    assert continuation.notes == ("approval length if approved: 12 months",)
    response = continuation.criterion("continuation.response")
    assert response.rule == f"{response.plain_rule} (UNCONFIRMED: continuation.response.min_fewer_headache_hours)"
    assert "UNCONFIRMED" not in response.plain_rule


def test_criteria_come_in_the_policy_order_for_each_stage():
    """Initial requests list the initial criteria then the session limits; continuation the limits, cycles,
    response and stopping."""
    initial = [c.key for c in judge(initial_evidence()).criteria]
    assert initial == [
        "initial.age",
        "initial.diagnosis.chronic_migraine",
        "initial.diagnosis.label_indication",
        "initial.frequency.min_headache_days",
        "initial.frequency.min_migraine_days",
        "initial.frequency.min_headache_days_4h",
        "initial.prior_preventives",
        "initial.medication_overuse",
        "initial.cgrp_mab",
        "session.max_units",
        "session.min_interval_days",
    ]
    continuation = judge(continuation_evidence(), "continuation")
    assert [c.key for c in continuation.criteria] == [
        "session.max_units",
        "session.min_interval_days",
        "continuation.after_cycles",
        "continuation.response",
        "stopping.episodic",
    ]
    assert continuation.notes == ("approval length if approved: 12 months",)


def test_a_policy_without_continuation_criteria_says_so():
    """Continuation under a policy with no continuation criteria judges the session limits and says why."""
    text = CLINIC[: CLINIC.index("[continuation]")].replace(
        'unconfirmed = ["continuation.response.min_fewer_headache_hours"]', ""
    )
    policy = load_policy(text, source="clinic.toml")
    evaluation = judge(continuation_evidence(), Stage.CONTINUATION, policy=policy)
    assert [c.key for c in evaluation.criteria] == ["session.max_units", "session.min_interval_days"]
    assert evaluation.notes == (
        (
            "this policy states no continuation criteria (what the payer asks to continue treatment is not known); "
            "only its session limits are judged"
        ),
    )
    untreated = judge(replace(continuation_evidence(), outcomes=None), Stage.CONTINUATION, policy=policy)
    assert untreated.status is CoverageStatus.INFORMATION_MISSING  # it had read approvable: nothing else can fail


def test_asking_for_an_absent_criterion_names_the_ones_present():
    """Looking up a criterion the evaluation does not hold names the keys it does hold."""
    with pytest.raises(KeyError, match=r"initial\.cgrp_mab \(criteria: session\.max_units"):
        judge(continuation_evidence(), Stage.CONTINUATION).criterion("initial.cgrp_mab")


def test_a_payers_response_criterion_never_judges_the_period_under_way():
    """Period 6 under way with 25 days recorded (5 headache days, 75 % fewer) is not week 24 yet: the NICE
    continuation's response is missing information, as the engine's own NICE verdict is not yet assessable (the
    payer check called it met beside 'not yet assessable')."""
    from decimal import Decimal

    from onaboard.clinical import (
        CoverageEvidence,
        DiaryDay,
        Intensity,
        PatientDiary,
        evaluate_coverage,
        treatment_outcomes,
    )
    from onaboard.policies import shipped_policy

    day0 = date(2025, 1, 6)

    def day(d: date, headache: bool) -> DiaryDay:
        return DiaryDay("P", d, Decimal(6 if headache else 0), intensity=Intensity.MODERATE if headache else None)

    days = [day(day0 - timedelta(days=28 - i), i < 20) for i in range(28)]
    days += [day(day0 + timedelta(days=28 * p + i), i < 18) for p in range(5) for i in range(28)]
    days += [day(day0 + timedelta(days=140 + i), i < 5) for i in range(25)]
    as_of = day0 + timedelta(days=165)
    outcomes = treatment_outcomes(
        PatientDiary("P", tuple(days)), injections=[day0, day0 + timedelta(days=84)], as_of=as_of
    )
    evidence = CoverageEvidence(
        outcomes=outcomes, last_session=day0 + timedelta(days=84), planned_date=as_of, planned_units=155
    )
    evaluation = evaluate_coverage(shipped_policy("nice-ta260"), evidence, stage="continuation", today=as_of)
    (response,) = [c for c in evaluation.criteria if c.key == "continuation.response"]
    assert response.outcome.value == "missing_information"
    assert evaluation.status.value == "information_missing"


def test_an_approval_length_under_an_unconfirmed_table_is_unconfirmed():
    """``approval_length`` gives the months and the unconfirmed entries behind them, a whole table included: the one
    rule the evaluation and the pages read."""
    text = edited(
        'unconfirmed = ["continuation.response.min_fewer_headache_hours"]',
        'unconfirmed = ["continuation"]',
    )
    policy = load_policy(text, source="clinic.toml")
    assert approval_length(policy, Stage.CONTINUATION) == (12, ("continuation",))
    assert approval_length(policy, "initial") == (6, ())
    continuation = judge(continuation_evidence(), Stage.CONTINUATION, policy=policy)
    assert continuation.approval_unconfirmed == ("continuation",)


EXPECTED_RESPONSE_RULES = {
    "ahs-2021": "in the latest complete period from period 6 (week 24) on, any of: >= 50 % fewer headache days than "
    "the baseline; >= 50 % fewer migraine days than the baseline",
    "nice-ta260": "in period 6 (week 24), >= 30 % fewer headache days than the baseline",
    "us-commercial-a": "in the latest complete period from period 6 (week 24) on, any of: >= 50 % fewer headache "
    "days than the baseline; >= 7 fewer headache days than the baseline; >= 100 fewer headache hours than the "
    "baseline",
    "us-commercial-b": "in the latest complete period from period 6 (week 24) on, >= 50 % fewer migraine days than "
    "the baseline",
    "us-medicare-a": "in the latest complete period from period 6 (week 24) on, clinical benefit as judged by the "
    "prescriber",
}


@pytest.mark.parametrize("policy_id", sorted(EXPECTED_RESPONSE_RULES))
def test_each_shipped_policy_states_its_response_rule_as_a_sentence(policy_id):
    """Every shipped policy with continuation criteria states its response rule as a sentence: the period judged,
    then each alternative with its comparison ("fewer ... than the baseline"), never a comparison hanging after the
    prescriber's judgement ("benefit as judged by the prescriber -- than the baseline")."""
    policy = shipped_policies()[policy_id]
    result = judge(continuation_evidence(), Stage.CONTINUATION, policy=policy).criterion("continuation.response")
    assert result.plain_rule == EXPECTED_RESPONSE_RULES[policy_id]


def test_the_response_rule_sentences_cover_every_shipped_policy_with_continuation_criteria():
    """The sentences above are checked for each shipped policy that has continuation criteria, and no other."""
    with_continuation = {key for key, policy in shipped_policies().items() if policy.continuation is not None}
    assert with_continuation == set(EXPECTED_RESPONSE_RULES)


# --- The stage a request is at ------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy_id", sorted(shipped_policies()))
def test_a_patient_due_the_second_session_is_at_the_initial_stage_under_every_shipped_policy(policy_id):
    """Before the first session and with one session given a request is initial under every shipped policy: a
    policy's continuation is judged only after its ``after_cycles`` cycles (NICE TA260 and Medicare L34635 stop
    after 2 cycles without response, not after 1)."""
    policy = shipped_policies()[policy_id]
    assert stage_due(policy, 0) is Stage.INITIAL
    assert stage_due(policy, 1) is Stage.INITIAL


@pytest.mark.parametrize("policy_id", sorted(EXPECTED_RESPONSE_RULES))
def test_continuation_is_due_once_the_policys_cycles_are_given(policy_id):
    """With ``after_cycles`` sessions given (or more) a request is a continuation; one fewer, still initial."""
    policy = shipped_policies()[policy_id]
    after = policy.continuation.after_cycles
    assert stage_due(policy, after - 1) is Stage.INITIAL
    assert stage_due(policy, after) is Stage.CONTINUATION
    assert stage_due(policy, after + 3) is Stage.CONTINUATION


def test_under_a_policy_without_continuation_criteria_every_request_is_initial():
    """A policy that states no continuation criteria judges every request against its initial criteria, however
    many sessions were given (a continuation asked for explicitly judges only its session limits)."""
    text = CLINIC[: CLINIC.index("[continuation]")].replace(
        'unconfirmed = ["continuation.response.min_fewer_headache_hours"]', ""
    )
    policy = load_policy(text, source="clinic.toml")
    assert [stage_due(policy, given) for given in (0, 1, 2, 10)] == [Stage.INITIAL] * 4
    assert stage_due(POLICY, 2) is Stage.CONTINUATION


def test_a_negative_session_count_is_refused():
    """A count of sessions below zero cannot be right and is refused, naming it."""
    with pytest.raises(EvidenceError, match=r"sessions given: must be 0 or more \(got -1\)"):
        stage_due(POLICY, -1)


# --- Intractability from the diagnosis code -------------------------------------------------------------------

INTRACTABLE_POLICY = load_policy(
    edited('requires = ["chronic_migraine", "label_indication"]', 'requires = ["label_indication", "intractable"]'),
    source="clinic.toml",
)


def test_a_policy_may_require_intractable_migraine():
    """``intractable`` is a diagnosis a policy may require; it is listed after the engine's verdicts it follows."""
    assert INTRACTABLE_POLICY.initial.diagnosis.requires == (Diagnosis.LABEL_INDICATION, Diagnosis.INTRACTABLE)
    keys = [c.key for c in judge(initial_evidence(diagnosis_code="G43.719"), policy=INTRACTABLE_POLICY).criteria]
    assert keys[:3] == ["initial.age", "initial.diagnosis.label_indication", "initial.diagnosis.intractable"]


def test_a_misspelt_intractable_is_refused_naming_the_three_diagnoses():
    """A misspelt diagnosis is refused with the allowed values, the new one among them."""
    text = edited('requires = ["chronic_migraine", "label_indication"]', 'requires = ["intractible"]')
    refused = "clinic.toml: initial.diagnosis.requires[0]: must be one of chronic_migraine, label_indication, {}"
    assert problems(text) == (refused.format('intractable (got "intractible")'),)


@pytest.mark.parametrize("code", ["G43.711", "G43.719", "G43.E11", "G43.E19"])
def test_an_intractable_code_meets_the_intractability_criterion(code):
    """Each ICD-10-CM intractable chronic-migraine code (G43.71x, G43.E1x) meets it, the code named."""
    result = judge(initial_evidence(diagnosis_code=code), policy=INTRACTABLE_POLICY).criterion(
        "initial.diagnosis.intractable"
    )
    assert (result.outcome, result.evidence) == (
        CriterionOutcome.MET,
        (f"diagnosis code on the request: {code} (intractable)",),
    )
    assert result.rule == "intractable chronic migraine, coded on the request: G43.711, G43.719, G43.E11 or G43.E19"


@pytest.mark.parametrize("code", ["G43.701", "G43.709", "G43.E01", "G43.E09"])
def test_a_not_intractable_code_fails_the_intractability_criterion(code):
    """Each not-intractable code (G43.70x, G43.E0x) fails it, and the evidence says how to code an intractable
    migraine; the request is then not approvable."""
    evaluation = judge(initial_evidence(diagnosis_code=code), policy=INTRACTABLE_POLICY)
    result = evaluation.criterion("initial.diagnosis.intractable")
    why = (
        f"diagnosis code on the request: {code} (not intractable); if the migraine is intractable, choose the "
        "intractable code on the request"
    )
    assert (result.outcome, result.evidence) == (CriterionOutcome.NOT_MET, (why,))
    assert evaluation.status is CoverageStatus.NOT_APPROVABLE


def test_no_diagnosis_code_leaves_intractability_missing_and_says_what_to_do():
    """Without a code on the request intractability is missing information, not a refusal."""
    result = judge(initial_evidence(diagnosis_code=None), policy=INTRACTABLE_POLICY).criterion(
        "initial.diagnosis.intractable"
    )
    why = (
        "no diagnosis code recorded on the request: if the migraine is intractable, choose the intractable code "
        "(G43.711, G43.719, G43.E11 or G43.E19) on the request"
    )
    assert (result.outcome, result.evidence) == (CriterionOutcome.MISSING_INFORMATION, (why,))


def test_a_code_that_says_nothing_of_intractability_leaves_it_missing():
    """A code that is not one of the billable chronic-migraine codes (a parent code such as G43.7, an episodic
    code) cannot say whether the migraine is intractable."""
    result = judge(initial_evidence(diagnosis_code="G43.7"), policy=INTRACTABLE_POLICY).criterion(
        "initial.diagnosis.intractable"
    )
    assert result.outcome is CriterionOutcome.MISSING_INFORMATION
    why = (
        "diagnosis code on the request: G43.7, not a billable ICD-10-CM chronic-migraine code (G43.701, G43.709, "
        "G43.711, G43.719, G43.E01, G43.E09, G43.E11, G43.E19): intractability cannot be read from it"
    )
    assert result.evidence == (why,)


def test_the_engines_codes_are_the_billable_chronic_migraine_codes():
    """The engine knows the eight billable chronic-migraine codes (clinical-facts 7.2), four of them intractable."""
    assert sorted(ICD10_INTRACTABLE) == [
        "G43.701",
        "G43.709",
        "G43.711",
        "G43.719",
        "G43.E01",
        "G43.E09",
        "G43.E11",
        "G43.E19",
    ]
    assert sorted(code for code, intractable in ICD10_INTRACTABLE.items() if intractable) == [
        "G43.711",
        "G43.719",
        "G43.E11",
        "G43.E19",
    ]


def test_an_undetermined_trial_of_a_class_already_counted_cannot_make_up_a_missing_class():
    """Two failed classes asked (policy A): topiramate failed; valproate, also an anticonvulsant, has no stop date.
    Whatever its stop date, it adds no second class, so the criterion is not met (it read missing information, and
    the letter opened as a normal request); an undetermined trial of another class still leaves it missing."""
    failed = trial("topiramate", PreventiveClass.ANTICONVULSANT, "100 mg", date(2025, 1, 6), 90, "ineffective")
    same_class = PreventiveTrial("valproate", "anticonvulsant", "500 mg", date(2025, 6, 1), None, "ineffective")
    other_class = PreventiveTrial("propranolol", "beta_blocker", "80 mg", date(2025, 6, 9), None, "ineffective")
    short = judge(initial_evidence(preventive_trials=(failed, same_class))).criterion("initial.prior_preventives")
    assert short.outcome is CriterionOutcome.NOT_MET
    assert short.evidence[-1] == "failed classes: 1 (anticonvulsant) of 2 required"
    unknown = judge(initial_evidence(preventive_trials=(failed, other_class))).criterion("initial.prior_preventives")
    assert unknown.outcome is CriterionOutcome.MISSING_INFORMATION


def test_an_undetermined_second_course_of_a_medicine_counted_adds_no_medicine():
    """Two failed medicines asked (policy B): topiramate failed, then topiramate again with no stop date: still one
    medicine whatever the record says, so not met."""
    policy = shipped_policies()["us-commercial-b"]
    first = trial("topiramate", PreventiveClass.ANTICONVULSANT, "100 mg", date(2025, 1, 6), 90, "ineffective")
    again = PreventiveTrial("Topiramate", "anticonvulsant", "200 mg", date(2025, 8, 1), None, "ineffective")
    result = judge(initial_evidence(preventive_trials=(first, again)), policy=policy)
    assert result.criterion("initial.prior_preventives").outcome is CriterionOutcome.NOT_MET
