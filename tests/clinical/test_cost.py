"""Cost of a session and a year: charges from the claim lines at the clinic's dated prices, the patient's share,
exact money rounded to cents only at the end, each figure with its assumption."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from onaboard.clinical.cost import (
    BenefitTerms,
    CostError,
    LineKind,
    Price,
    PriceList,
    SessionGiven,
    money,
    session_cost,
    terms_left,
    year_cost,
)
from onaboard.clinical.preempt import BillingLine, BillingModifier, preempt_plan

MEDICARE_LIMIT_Q3_2026 = Decimal("6.506")
"""Medicare Part B payment limit for J0585 (ASP + 6 %), Q3 2026, per unit: shared/domain/clinical-facts.md 7.3, from
a tracker of the CMS ASP file (https://carecostoptimizer.com/drugs/botox-j0585-asp-trend). A test input standing in
for a clinic's own price, never a default."""

ADMINISTRATION = Decimal("200.00")
"""An example clinic price for CPT 64615, invented for the tests (no reference price is used)."""

PRICES = PriceList(
    currency="USD",
    drug_per_unit=Price(MEDICARE_LIMIT_Q3_2026, date(2026, 7, 1)),
    administration=Price(ADMINISTRATION, date(2026, 1, 1)),
)

TERMS = BenefitTerms(
    deductible_remaining=Decimal("500"),
    coinsurance_percent=Decimal("20"),
    copay_per_session=Decimal("25"),
    savings_remaining=Decimal("1000"),
    savings_programme="manufacturer savings programme",
)


def test_a_preempt_session_charges_units_given_and_discarded():
    """155 U from a 200 U vial: J0585 x 155 given and J0585-JW x 45 discarded at the unit price, plus 64615 once."""
    cost = session_cost(preempt_plan(), prices=PRICES)
    assert [(line.kind, line.code, line.quantity, line.amount) for line in cost.lines] == [
        (LineKind.ADMINISTRATION, "64615", 1, Decimal("200.00")),
        (LineKind.DRUG_GIVEN, "J0585", 155, Decimal("1008.43")),
        (LineKind.DRUG_DISCARDED, "J0585-JW", 45, Decimal("292.77")),
    ]
    assert cost.total == Decimal("1501.20")
    assert cost.share is None


def test_each_figure_carries_its_assumption():
    """The assumptions name each price with the date it was set, the discarded units and what is not included."""
    cost = session_cost(preempt_plan(), prices=PRICES)
    assert cost.lines[1].assumption == "J0585 at $6.506 per unit (price set 2026-07-01)"
    assert cost.assumptions == (
        "CPT 64615 at $200 per session (price set 2026-01-01)",
        "J0585 at $6.506 per unit (price set 2026-07-01)",
        "45 U discarded from single-dose vials billed as J0585-JW",
        "no office visit billed with the session",
        "no benefit terms given: the patient's share is not worked out",
    )


def test_discarded_units_can_be_left_unbilled():
    """A payer that does not pay JW lines: the discarded units are not charged, and the assumption says so."""
    cost = session_cost(preempt_plan(), prices=PRICES, bill_discarded_units=False)
    assert [line.code for line in cost.lines] == ["64615", "J0585"]
    assert cost.total == Decimal("1208.43")
    assert "45 U discarded from single-dose vials not billed (the payer does not pay J0585-JW)" in cost.assumptions


def test_follow_the_pain_from_a_200_unit_vial_discards_5_units():
    """195 U (155 U + 40 U follow-the-pain) from one 200 U vial leaves 5 U billed with JW."""
    plan = preempt_plan(follow_the_pain={"temporalis": 2, "occipitalis": 2, "trapezius": 4})
    cost = session_cost(plan, prices=PRICES)
    assert [(line.code, line.quantity, line.amount) for line in cost.lines[1:]] == [
        ("J0585", 195, Decimal("1268.67")),
        ("J0585-JW", 5, Decimal("32.53")),
    ]


def test_a_recorded_session_with_nothing_discarded_bills_jz():
    """Claim lines of a recorded session with no waste (J0585-JZ) are charged for the units given only."""
    lines = [
        BillingLine("64615", None, 1),
        BillingLine("J0585", BillingModifier.JZ, 100),
    ]
    cost = session_cost(lines, prices=PRICES)
    assert [(line.kind, line.code, line.amount) for line in cost.lines] == [
        (LineKind.ADMINISTRATION, "64615", Decimal("200.00")),
        (LineKind.DRUG_GIVEN, "J0585-JZ", Decimal("650.60")),
    ]
    assert "no units discarded (J0585-JZ)" in cost.assumptions


def test_a_visit_is_charged_when_the_clinic_prices_one():
    """An office visit price adds one visit line with its own dated assumption."""
    prices = PriceList("USD", PRICES.drug_per_unit, PRICES.administration, visit=Price(Decimal("95"), date(2026, 2, 1)))
    cost = session_cost(preempt_plan(), prices=prices)
    assert (cost.lines[-1].kind, cost.lines[-1].amount) == (LineKind.VISIT, Decimal("95.00"))
    assert cost.lines[-1].assumption == "office visit at $95 per session (price set 2026-02-01)"
    assert cost.total == Decimal("1596.20")


def test_money_is_rounded_half_up_only_at_the_end():
    """Half cents round up per figure, and the total is the rounded exact sum, with a note when lines differ."""
    prices = PriceList("USD", Price(Decimal("6.505"), date(2026, 7, 1)), Price(Decimal("0"), date(2026, 1, 1)))
    cost = session_cost(preempt_plan(), prices=prices)
    assert [line.amount for line in cost.lines] == [Decimal("0.00"), Decimal("1008.28"), Decimal("292.73")]
    assert cost.total == Decimal("1301.00")
    assert "amounts rounded to cents half up after exact arithmetic; lines may differ from the total by a cent" in (
        cost.assumptions
    )


def test_the_patients_share_follows_deductible_coinsurance_copay_and_savings():
    """Deductible first, 20 % of the rest, the copay, then the savings programme pays that share up to its cap."""
    cost = session_cost(preempt_plan(), prices=PRICES, benefits=TERMS)
    share = cost.share
    assert (share.deductible, share.coinsurance, share.copay) == (
        Decimal("500.00"),
        Decimal("200.24"),
        Decimal("25.00"),
    )
    assert (share.before_savings, share.savings_programme) == (Decimal("725.24"), Decimal("725.24"))
    assert (share.patient_pays, share.insurer_pays) == (Decimal("0.00"), Decimal("775.96"))
    assert share.assumptions == (
        "deductible: $500.00 applied of $500.00 remaining",
        "coinsurance: 20 % of $1,001.20 after the deductible",
        "copay: $25.00 per session",
        "no out-of-pocket maximum given",
        (
            "savings programme (manufacturer savings programme): pays $725.24 of the patient's share; $1,000.00 left "
            "before this session"
        ),
    )


def test_a_year_carries_the_deductible_and_the_savings_cap():
    """Four sessions: the deductible is met in the first, the savings programme runs out in the second."""
    year = year_cost(preempt_plan(), sessions=4, prices=PRICES, benefits=TERMS)
    assert [session.share.patient_pays for session in year.sessions] == [
        Decimal("0.00"),
        Decimal("50.48"),
        Decimal("325.24"),
        Decimal("325.24"),
    ]
    share = year.share
    assert year.total == Decimal("6004.80")
    assert (share.deductible, share.coinsurance, share.copay) == (
        Decimal("500.00"),
        Decimal("1100.96"),
        Decimal("100.00"),
    )
    assert (share.savings_programme, share.patient_pays, share.insurer_pays) == (
        Decimal("1000.00"),
        Decimal("700.96"),
        Decimal("4303.84"),
    )
    assert year.assumptions == (
        (
            "4 sessions in the year, each as priced here; deductible, out-of-pocket and savings balances carried from "
            "one session to the next"
        ),
    )


def test_the_out_of_pocket_maximum_caps_the_share():
    """Once the out-of-pocket maximum is reached the insurer pays the rest of the year."""
    terms = BenefitTerms(
        deductible_remaining=Decimal("500"),
        coinsurance_percent=Decimal("20"),
        copay_per_session=Decimal("25"),
        out_of_pocket_remaining=Decimal("900"),
    )
    year = year_cost(preempt_plan(), sessions=4, prices=PRICES, benefits=terms)
    assert [session.share.patient_pays for session in year.sessions] == [
        Decimal("725.24"),
        Decimal("174.76"),
        Decimal("0.00"),
        Decimal("0.00"),
    ]
    assert year.share.patient_pays == Decimal("900.00")
    assert "out-of-pocket maximum: $174.76 remaining before this session" in year.sessions[1].assumptions


def test_money_is_written_with_the_currency():
    """Amounts show the currency's symbol, or its code for others, with thousands separated and two decimals."""
    assert money(Decimal("1008.43"), "USD") == "$1,008.43"
    assert money(Decimal("651.2"), "GBP") == "£651.20"
    assert money(Decimal("0.005"), "CHF") == "CHF 0.01"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: Price(6.506, date(2026, 7, 1)),
            "price: must be an exact amount (Decimal, int or numeric text) >= 0, got 6.506",
        ),
        (
            lambda: Price(Decimal("-1"), date(2026, 7, 1)),
            "price: must be an exact amount (Decimal, int or numeric text) >= 0, got Decimal('-1')",
        ),
        (
            lambda: Price("six", date(2026, 7, 1)),
            "price: must be an exact amount (Decimal, int or numeric text) >= 0, got 'six'",
        ),
        (
            lambda: BenefitTerms(coinsurance_percent=Decimal("120")),
            "coinsurance_percent: must be from 0 to 100, got 120",
        ),
        (
            lambda: BenefitTerms(deductible_remaining=-5),
            "deductible_remaining: must be an exact amount (Decimal, int or numeric text) >= 0, got -5",
        ),
        (
            lambda: PriceList("dollars", PRICES.drug_per_unit, PRICES.administration),
            "currency: must be a three-letter ISO 4217 code such as USD, got 'dollars'",
        ),
        (lambda: year_cost(preempt_plan(), sessions=0, prices=PRICES), "sessions: must be a whole number >= 1, got 0"),
        (
            lambda: session_cost([BillingLine("J0586", None, 300)], prices=PRICES),
            "billing line J0586: not a code this calculator prices (J0585, J0585-JW, J0585-JZ, 64615)",
        ),
    ],
)
def test_inexact_or_impossible_inputs_are_refused(build, message):
    """Floats, negative amounts, a coinsurance above 100 %, an unknown currency or code are refused by name."""
    with pytest.raises(CostError) as raised:
        build()
    assert raised.value.problems == (message,)


def test_prices_given_as_text_or_whole_numbers_stay_exact():
    """A price given as text or an integer becomes an exact Decimal."""
    assert Price("6.506", date(2026, 7, 1)).amount == Decimal("6.506")
    assert BenefitTerms(copay_per_session=25).copay_per_session == Decimal(25)
    assert PriceList("usd", PRICES.drug_per_unit, PRICES.administration).currency == "USD"


def test_the_out_of_pocket_cap_limits_each_part_of_the_share():
    """With $500 of out-of-pocket left, a $1,000 deductible is shown as $500 applied and nothing more: the parts add
    up to the capped share (they showed the whole deductible, coinsurance and copay beside "patient pays $500"),
    and over a year the deductible paid never passes what the cap let through."""
    terms = BenefitTerms(
        deductible_remaining=Decimal("1000"),
        coinsurance_percent=Decimal("20"),
        copay_per_session=Decimal("50"),
        out_of_pocket_remaining=Decimal("500"),
    )
    share = session_cost(preempt_plan(), prices=PRICES, benefits=terms).share
    assert (share.deductible, share.coinsurance, share.copay) == (Decimal("500.00"), Decimal("0.00"), Decimal("0.00"))
    assert share.patient_pays == Decimal("500.00")
    assert "deductible: $500.00 applied" in " ".join(share.assumptions)
    year = year_cost(preempt_plan(), sessions=4, prices=PRICES, benefits=terms).share
    assert year.deductible + year.coinsurance + year.copay == year.before_savings == Decimal("500.00")


@pytest.mark.parametrize("percent", ["50", "33", "17.5"])
@pytest.mark.parametrize("units", [155, 195])
def test_the_shown_figures_add_up_to_the_cent(percent, units):
    """Each rounded figure is rounded once and the others derived from it: the parts make the share and the share
    and the insurer's part make the total, to the cent (50 % of $1,258.43 showed $629.22 twice)."""
    prices = PriceList(
        currency="USD",
        drug_per_unit=Price(MEDICARE_LIMIT_Q3_2026, date(2026, 7, 1)),
        administration=Price(Decimal("250"), date(2026, 1, 1)),
    )
    terms = BenefitTerms(deductible_remaining=Decimal("0"), coinsurance_percent=Decimal(percent))
    plan = preempt_plan(follow_the_pain={"trapezius": 4, "occipitalis": 2, "temporalis": 2} if units == 195 else None)
    cost = session_cost(plan, prices=prices, benefits=terms, bill_discarded_units=False)
    share = cost.share
    assert share.deductible + share.coinsurance + share.copay == share.before_savings
    assert share.before_savings + share.insurer_pays == cost.total


def test_no_part_of_the_share_is_negative_when_terms_hold_fractions_of_a_cent():
    """Sub-cent terms rounded up twice (a deductible of 50.005 and a copay of 10.005, no coinsurance) take the cent
    off the copay instead of showing a coinsurance of -$0.01."""
    terms = BenefitTerms(
        deductible_remaining=Decimal("50.005"), coinsurance_percent=Decimal("0"), copay_per_session=Decimal("10.005")
    )
    share = session_cost(preempt_plan(), prices=PRICES, benefits=terms).share
    assert min(share.deductible, share.coinsurance, share.copay) >= 0
    assert share.deductible + share.coinsurance + share.copay == share.before_savings


# --- The terms left after the sessions given since the terms were checked --------------------------------------

CHECKED = date(2026, 5, 4)
"""The day the patient's insurance terms were checked, in the tests below."""

VISIT_PRICES = PriceList(
    "USD",
    PRICES.drug_per_unit,
    Price(Decimal("250"), date(2026, 1, 1)),
    visit=Price(Decimal("120"), date(2026, 1, 1)),
)
"""$6.506 per unit, $250 for 64615 and $120 for the visit: a PREEMPT session (155 U + 45 U discarded) is $1,671.20."""


def test_a_session_given_on_the_day_of_the_check_uses_the_deductible_and_savings_before_the_next():
    """Demo patient Dale: $1,500 deductible and $1,000 of savings checked, a $1,671.20 session the same day (the
    patient paid $1,534.24 less $1,000 of savings: $534.24). Before the next session nothing of either is left, so
    it costs the patient 20 % of $1,671.20, $334.24, not $534.24 again."""
    checked = BenefitTerms(
        deductible_remaining=Decimal("1500"),
        coinsurance_percent=Decimal("20"),
        savings_remaining=Decimal("1000"),
        savings_programme="manufacturer savings programme",
    )
    given = session_cost(preempt_plan(), prices=VISIT_PRICES, benefits=checked)
    assert given.share.patient_pays == Decimal("534.24")
    left = terms_left(checked, checked_on=CHECKED, given=[SessionGiven(CHECKED, preempt_plan(), VISIT_PRICES)])
    assert left.counted == (CHECKED,)
    assert (left.terms.deductible_remaining, left.terms.savings_remaining) == (Decimal(0), Decimal(0))
    assert (left.terms.coinsurance_percent, left.terms.savings_programme) == (
        Decimal("20"),
        "manufacturer savings programme",
    )
    share = session_cost(preempt_plan(), prices=VISIT_PRICES, benefits=left.terms).share
    assert (share.deductible, share.savings_programme, share.patient_pays) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("334.24"),
    )
    assert "deductible: $0.00 applied of $0.00 remaining" in share.assumptions


def test_the_terms_left_after_sessions_are_those_a_year_carries_to_the_next_session():
    """What is left after two sessions given is what ``year_cost`` carries into its third: the one rule, so the
    next session priced with the terms left is the year's third session."""
    terms = BenefitTerms(
        deductible_remaining=Decimal("500"),
        coinsurance_percent=Decimal("20"),
        copay_per_session=Decimal("25"),
        out_of_pocket_remaining=Decimal("1200"),
        savings_remaining=Decimal("1000"),
    )
    given = [SessionGiven(CHECKED + timedelta(days=84 * k), preempt_plan(), PRICES) for k in range(2)]
    left = terms_left(terms, checked_on=CHECKED, given=given)
    third = year_cost(preempt_plan(), sessions=3, prices=PRICES, benefits=terms).sessions[2]
    assert session_cost(preempt_plan(), prices=PRICES, benefits=left.terms) == third


def test_only_sessions_on_or_after_the_check_are_taken_off_in_date_order():
    """A session before the check is already in the amounts checked; the others are taken off in date order,
    whatever order they come in. Order matters: a $200 session first takes the $200 deductible and no copay, so the
    $1,501.20 one after it leaves $674.76 of the out-of-pocket maximum (the other way round, $649.76)."""
    terms = BenefitTerms(
        deductible_remaining=Decimal("200"),
        coinsurance_percent=Decimal("20"),
        copay_per_session=Decimal("25"),
        out_of_pocket_remaining=Decimal("1200"),
    )
    administration_only = [BillingLine("64615", None, 1)]
    before = SessionGiven(CHECKED - timedelta(days=1), preempt_plan(), PRICES)
    small = SessionGiven(CHECKED + timedelta(days=10), administration_only, PRICES)
    large = SessionGiven(CHECKED + timedelta(days=94), preempt_plan(), PRICES)
    left = terms_left(terms, checked_on=CHECKED, given=[large, before, small])
    assert left.counted == (small.day, large.day)
    assert left.terms.deductible_remaining == Decimal(0)
    assert left.terms.out_of_pocket_remaining == Decimal("674.76")
    swapped = terms_left(
        terms,
        checked_on=CHECKED,
        given=[SessionGiven(small.day, preempt_plan(), PRICES), SessionGiven(large.day, administration_only, PRICES)],
    )
    assert swapped.terms.out_of_pocket_remaining == Decimal("649.76")


def test_the_terms_left_never_go_below_zero():
    """Sessions costing more than every amount checked leave 0 of each, never less."""
    terms = BenefitTerms(
        deductible_remaining=Decimal("100"),
        coinsurance_percent=Decimal("20"),
        copay_per_session=Decimal("25"),
        out_of_pocket_remaining=Decimal("300"),
        savings_remaining=Decimal("50"),
    )
    given = [SessionGiven(CHECKED + timedelta(days=84 * k), preempt_plan(), PRICES) for k in range(3)]
    left = terms_left(terms, checked_on=CHECKED, given=given).terms
    assert (left.deductible_remaining, left.out_of_pocket_remaining, left.savings_remaining) == (0, 0, 0)


def test_each_session_given_is_priced_with_its_own_prices_and_the_payers_discarded_units_rule():
    """A session is charged at the prices of its day, and discarded units only when the payer pays them: with no
    deductible and 20 % coinsurance, $200 + 155 U at $6.506 is $1,208.43, a $241.69 share off $1,000 of savings."""
    terms = BenefitTerms(coinsurance_percent=Decimal("20"), savings_remaining=Decimal("1000"))
    cheaper = PriceList("USD", Price(Decimal("1"), date(2026, 1, 1)), PRICES.administration)
    given = [SessionGiven(CHECKED, preempt_plan(), PRICES)]
    left = terms_left(terms, checked_on=CHECKED, given=given, bill_discarded_units=False).terms
    assert left.savings_remaining == Decimal("1000") - Decimal("1208.43") * Decimal("0.2")
    at_one_dollar = terms_left(terms, checked_on=CHECKED, given=[SessionGiven(CHECKED, preempt_plan(), cheaper)])
    assert at_one_dollar.terms.savings_remaining == Decimal("1000") - Decimal("400") * Decimal("0.2")


def test_without_a_session_since_the_check_the_terms_are_those_checked():
    """No session given on or after the check: the terms as checked, and no session counted."""
    left = terms_left(
        TERMS, checked_on=CHECKED, given=[SessionGiven(CHECKED - timedelta(days=1), preempt_plan(), PRICES)]
    )
    assert (left.terms, left.counted) == (TERMS, ())
