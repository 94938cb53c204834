"""What a session and a year of treatment cost, and the patient's share, with the assumption beside each figure.

Charges come from a session's claim lines (``InjectionPlan.billing_lines``, or lines the caller builds for a recorded
session): HCPCS J0585 for each unit given and, with modifier JW, each unit discarded from the single-dose vials
(units given + units discarded x price per unit); CPT 64615 once per session for the administration; an office
visit when the clinic bills one. Prices are the clinic's settings (``PriceList``), each with the date it was set,
in the caller's currency; no price is built in. The patient's share follows the caller's benefit terms in a stated
order: deductible remaining, then coinsurance on the rest, then a copay, capped by any out-of-pocket maximum
remaining; a savings programme then pays toward that share up to what it has left for the year. The terms left
before the next session are the terms as checked less what each session given since the check used
(``terms_left``), priced by the same rule.

Money is exact ``Decimal`` throughout and rounded to cents, half up, only in the figures returned (so a total is the
rounded exact sum, never a sum of rounded lines).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from onaboard.clinical.errors import RefusedError
from onaboard.clinical.preempt import (
    CPT_CHRONIC_MIGRAINE_CHEMODENERVATION,
    HCPCS_ONABOTULINUMTOXINA,
    BillingLine,
    BillingModifier,
    InjectionPlan,
)

__all__ = [
    "CENT",
    "BenefitTerms",
    "CostError",
    "CostLine",
    "LineKind",
    "PatientShare",
    "Price",
    "PriceList",
    "SessionCost",
    "SessionGiven",
    "TermsLeft",
    "YearCost",
    "money",
    "session_cost",
    "terms_left",
    "year_cost",
]

CENT = Decimal("0.01")
"""Money is reported in cents, rounded half up (ROUND_HALF_UP), only at the end."""

CURRENCY_SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€"}
"""Symbols for the currencies a clinic most likely uses; any other ISO code is written before the amount."""

# --- Messages (format strings; tests assert them exactly) -------------------------------------------------------

NOT_MONEY = "{what}: must be an exact amount (Decimal, int or numeric text) >= 0, got {value!r}"
NOT_PERCENT = "coinsurance_percent: must be from 0 to 100, got {value}"
NOT_CURRENCY = "currency: must be a three-letter ISO 4217 code such as USD, got {value!r}"
NOT_SESSIONS = "sessions: must be a whole number >= 1, got {value!r}"
UNKNOWN_LINE = "billing line {code}{modifier}: not a code this calculator prices (J0585, J0585-JW, J0585-JZ, 64615)"

# --- Assumptions (format strings) -------------------------------------------------------------------------------

PRICE_DRUG = "J0585 at {price} per unit (price set {set_on})"
PRICE_ADMINISTRATION = "CPT 64615 at {price} per session (price set {set_on})"
PRICE_VISIT = "office visit at {price} per session (price set {set_on})"
NO_VISIT = "no office visit billed with the session"
DISCARDED_BILLED = "{units} U discarded from single-dose vials billed as J0585-JW"
DISCARDED_NOT_BILLED = "{units} U discarded from single-dose vials not billed (the payer does not pay J0585-JW)"
NONE_DISCARDED = "no units discarded (J0585-JZ)"
ROUNDING = "amounts rounded to cents half up after exact arithmetic; lines may differ from the total by a cent"
NO_BENEFITS = "no benefit terms given: the patient's share is not worked out"
SHARE_DEDUCTIBLE = "deductible: {applied} applied of {remaining} remaining"
SHARE_COINSURANCE = "coinsurance: {percent} % of {base} after the deductible"
SHARE_COPAY = "copay: {copay} per session"
SHARE_OOP = "out-of-pocket maximum: {remaining} remaining before this session"
SHARE_NO_OOP = "no out-of-pocket maximum given"
SHARE_SAVINGS = "savings programme{name}: pays {paid} of the patient's share; {remaining} left before this session"
SHARE_NO_SAVINGS = "no savings programme"
YEAR_SESSIONS = (
    "{sessions} sessions in the year, each as priced here; deductible, out-of-pocket and savings balances carried "
    "from one session to the next"
)


class CostError(RefusedError):
    """Prices, benefit terms or claim lines refused; ``problems`` lists every reason."""


def _exact(value: object, what: str) -> Decimal:
    """An exact, non-negative amount; floats are refused because they are not exact."""
    if isinstance(value, bool | float):
        raise CostError(NOT_MONEY.format(what=what, value=value))
    try:
        amount = Decimal(value) if isinstance(value, int | str) else value
    except ArithmeticError:
        raise CostError(NOT_MONEY.format(what=what, value=value)) from None
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
        raise CostError(NOT_MONEY.format(what=what, value=value))
    return amount


def money(amount: Decimal, currency: str) -> str:
    """``$1,008.43``: an amount rounded to cents half up, with the currency's symbol (or its code)."""
    symbol = CURRENCY_SYMBOLS.get(currency, f"{currency} ")
    return f"{symbol}{amount.quantize(CENT, rounding=ROUND_HALF_UP):,}"


def _plain(number: Decimal) -> str:
    """``20`` for 20.00 and ``12.5`` for 12.50: a number without trailing zeros or exponent."""
    return format(number.normalize(), "f")


def _price_text(amount: Decimal, currency: str) -> str:
    """A unit price as set, never rounded (``$6.506``), without the zeros storage adds: ``$250`` for a stored
    250.000, ``$12.50`` for 12.500."""
    if amount == amount.to_integral_value():
        shown = format(amount.to_integral_value(), ",")
    elif amount == _cents(amount):
        shown = format(_cents(amount), ",")
    else:
        shown = format(amount.normalize(), ",f")
    return f"{CURRENCY_SYMBOLS.get(currency, f'{currency} ')}{shown}"


@dataclass(frozen=True, slots=True)
class Price:
    """One price the clinic set: an exact amount in the price list's currency and the date it was set."""

    amount: Decimal
    set_on: date

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", _exact(self.amount, "price"))


@dataclass(frozen=True, slots=True)
class PriceList:
    """The clinic's prices: per unit of onabotulinumtoxinA (J0585), per administration (CPT 64615) and, when billed,
    per office visit. ``currency`` is an ISO 4217 code; every price is in it."""

    currency: str
    drug_per_unit: Price
    administration: Price
    visit: Price | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.currency, str) and len(self.currency) == 3 and self.currency.isalpha()):
            raise CostError(NOT_CURRENCY.format(value=self.currency))
        object.__setattr__(self, "currency", self.currency.upper())


@dataclass(frozen=True, slots=True)
class BenefitTerms:
    """The patient's insurance terms as they stand before the session (or year) priced.

    ``out_of_pocket_remaining`` None: no maximum considered. ``savings_remaining``: what a manufacturer's savings
    programme will still pay toward the patient's share this year (0: none); ``savings_programme`` names it.
    """

    deductible_remaining: Decimal = Decimal(0)
    coinsurance_percent: Decimal = Decimal(0)
    copay_per_session: Decimal = Decimal(0)
    out_of_pocket_remaining: Decimal | None = None
    savings_remaining: Decimal = Decimal(0)
    savings_programme: str = ""

    def __post_init__(self) -> None:
        for name in ("deductible_remaining", "coinsurance_percent", "copay_per_session", "savings_remaining"):
            object.__setattr__(self, name, _exact(getattr(self, name), name))
        if self.out_of_pocket_remaining is not None:
            object.__setattr__(
                self, "out_of_pocket_remaining", _exact(self.out_of_pocket_remaining, "out_of_pocket_remaining")
            )
        if self.coinsurance_percent > 100:
            raise CostError(NOT_PERCENT.format(value=self.coinsurance_percent))


class LineKind(enum.StrEnum):
    DRUG_GIVEN = "drug_given"
    DRUG_DISCARDED = "drug_discarded"
    ADMINISTRATION = "administration"
    VISIT = "visit"


@dataclass(frozen=True, slots=True)
class CostLine:
    """One charge: what it is, its code (``J0585-JW``), quantity, unit price as set, amount in cents, and the
    assumption it rests on."""

    kind: LineKind
    code: str
    quantity: int
    unit_price: Decimal
    amount: Decimal
    assumption: str


@dataclass(frozen=True, slots=True)
class PatientShare:
    """Who pays what of one session's (or one year's) charges, in cents, and the assumptions behind it."""

    deductible: Decimal
    coinsurance: Decimal
    copay: Decimal
    before_savings: Decimal
    savings_programme: Decimal
    patient_pays: Decimal
    insurer_pays: Decimal
    assumptions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SessionCost:
    """One session: its charge lines, the total, the patient's share (None without benefit terms) and every
    assumption, in the order the figures use them."""

    currency: str
    lines: tuple[CostLine, ...]
    total: Decimal
    share: PatientShare | None
    assumptions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class YearCost:
    """A year of sessions priced one after another, balances carried; totals are rounded exact sums."""

    currency: str
    sessions: tuple[SessionCost, ...]
    total: Decimal
    share: PatientShare | None
    assumptions: tuple[str, ...]


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class _Charges:
    """One session's charges before rounding."""

    lines: tuple[tuple[LineKind, str, int, Decimal, Decimal, str], ...]
    total: Decimal
    notes: tuple[str, ...]


def _charges(lines: Sequence[BillingLine], prices: PriceList, *, bill_discarded_units: bool) -> _Charges:
    currency = prices.currency
    drug = prices.drug_per_unit
    drug_note = PRICE_DRUG.format(price=_price_text(drug.amount, currency), set_on=drug.set_on.isoformat())
    admin = prices.administration
    admin_note = PRICE_ADMINISTRATION.format(price=_price_text(admin.amount, currency), set_on=admin.set_on.isoformat())
    priced: list[tuple[LineKind, str, int, Decimal, Decimal, str]] = []
    notes: list[str] = []
    problems = []
    for line in lines:
        modifier = line.modifier
        code = line.code if modifier is None else f"{line.code}-{modifier.value}"
        if line.code == CPT_CHRONIC_MIGRAINE_CHEMODENERVATION and modifier is None:
            priced.append(
                (LineKind.ADMINISTRATION, code, line.units, admin.amount, admin.amount * line.units, admin_note)
            )
        elif line.code == HCPCS_ONABOTULINUMTOXINA and modifier is BillingModifier.JW:
            if bill_discarded_units:
                notes.append(DISCARDED_BILLED.format(units=line.units))
                priced.append(
                    (LineKind.DRUG_DISCARDED, code, line.units, drug.amount, drug.amount * line.units, drug_note)
                )
            else:
                notes.append(DISCARDED_NOT_BILLED.format(units=line.units))
        elif line.code == HCPCS_ONABOTULINUMTOXINA and modifier in (None, BillingModifier.JZ):
            if modifier is BillingModifier.JZ:
                notes.append(NONE_DISCARDED)
            priced.append((LineKind.DRUG_GIVEN, code, line.units, drug.amount, drug.amount * line.units, drug_note))
        else:
            problems.append(UNKNOWN_LINE.format(code=line.code, modifier="" if modifier is None else f"-{modifier}"))
    if problems:
        raise CostError(*problems)
    if prices.visit is None:
        notes.append(NO_VISIT)
    else:
        visit = prices.visit
        visit_note = PRICE_VISIT.format(price=_price_text(visit.amount, currency), set_on=visit.set_on.isoformat())
        priced.append((LineKind.VISIT, "visit", 1, visit.amount, visit.amount, visit_note))
    return _Charges(tuple(priced), sum((row[4] for row in priced), Decimal(0)), tuple(notes))


@dataclass(frozen=True, slots=True)
class _Split:
    """One session's share before rounding, and the balances it leaves."""

    deductible: Decimal
    coinsurance: Decimal
    copay: Decimal
    before_savings: Decimal
    savings: Decimal
    after: BenefitTerms
    notes: tuple[str, ...]


def _split(total: Decimal, terms: BenefitTerms, currency: str) -> _Split:
    """Deductible first, coinsurance on the rest, then the copay, never above the charges; capped by the
    out-of-pocket maximum remaining; a savings programme pays toward that share up to what it has left."""
    deductible = min(terms.deductible_remaining, total)
    coinsurance = (total - deductible) * terms.coinsurance_percent / 100
    copay = min(terms.copay_per_session, total - deductible - coinsurance)
    share = deductible + coinsurance + copay
    notes = [
        SHARE_DEDUCTIBLE.format(
            applied=money(deductible, currency), remaining=money(terms.deductible_remaining, currency)
        ),
        SHARE_COINSURANCE.format(percent=_plain(terms.coinsurance_percent), base=money(total - deductible, currency)),
        SHARE_COPAY.format(copay=money(terms.copay_per_session, currency)),
    ]
    out_of_pocket = terms.out_of_pocket_remaining
    if out_of_pocket is None:
        notes.append(SHARE_NO_OOP)
    elif share > out_of_pocket:
        # The cap limits each part in the order they apply, so the parts still add up to the share.
        deductible = min(deductible, out_of_pocket)
        coinsurance = min(coinsurance, out_of_pocket - deductible)
        copay = out_of_pocket - deductible - coinsurance
        share = out_of_pocket
        notes[0] = SHARE_DEDUCTIBLE.format(
            applied=money(deductible, currency), remaining=money(terms.deductible_remaining, currency)
        )
        notes.append(SHARE_OOP.format(remaining=money(out_of_pocket, currency)))
    else:
        notes.append(SHARE_OOP.format(remaining=money(out_of_pocket, currency)))
    savings = min(share, terms.savings_remaining)
    if terms.savings_remaining > 0 or terms.savings_programme:
        name = f" ({terms.savings_programme})" if terms.savings_programme else ""
        notes.append(
            SHARE_SAVINGS.format(
                name=name, paid=money(savings, currency), remaining=money(terms.savings_remaining, currency)
            )
        )
    else:
        notes.append(SHARE_NO_SAVINGS)
    after = BenefitTerms(
        deductible_remaining=terms.deductible_remaining - deductible,
        coinsurance_percent=terms.coinsurance_percent,
        copay_per_session=terms.copay_per_session,
        out_of_pocket_remaining=None if out_of_pocket is None else out_of_pocket - share,
        savings_remaining=terms.savings_remaining - savings,
        savings_programme=terms.savings_programme,
    )
    return _Split(deductible, coinsurance, copay, share, savings, after, tuple(notes))


def _share(splits: Sequence[_Split], total: Decimal, notes: tuple[str, ...]) -> PatientShare:
    """Rounded figures from exact sums."""

    def add(attribute: str) -> Decimal:
        return sum((getattr(split, attribute) for split in splits), Decimal(0))

    # Each figure rounded once; the others derived from them, so the shown figures add up to the cent: the parts
    # to the share (coinsurance, a percentage, takes the rounding), the share and the insurer's to the total.
    before, savings = _cents(add("before_savings")), _cents(add("savings"))
    deductible, copay = _cents(add("deductible")), _cents(add("copay"))
    coinsurance = before - deductible - copay
    if coinsurance < 0:  # sub-cent terms rounded up twice: the cent comes off the copay, never a negative part
        copay, coinsurance = copay + coinsurance, Decimal(0)
    return PatientShare(
        deductible=deductible,
        coinsurance=coinsurance,
        copay=copay,
        before_savings=before,
        savings_programme=savings,
        patient_pays=before - savings,
        insurer_pays=_cents(total) - before,
        assumptions=notes,
    )


def _billing_lines(billing: InjectionPlan | Sequence[BillingLine]) -> tuple[BillingLine, ...]:
    return billing.billing_lines if isinstance(billing, InjectionPlan) else tuple(billing)


def _session(
    billing: InjectionPlan | Sequence[BillingLine],
    prices: PriceList,
    benefits: BenefitTerms | None,
    *,
    bill_discarded_units: bool,
) -> tuple[SessionCost, _Split | None, Decimal]:
    charges = _charges(_billing_lines(billing), prices, bill_discarded_units=bill_discarded_units)
    lines = tuple(
        CostLine(kind, code, quantity, unit_price, _cents(amount), note)
        for kind, code, quantity, unit_price, amount, note in charges.lines
    )
    notes = [line.assumption for line in lines]
    notes = [note for index, note in enumerate(notes) if note not in notes[:index]]
    notes.extend(charges.notes)
    total = _cents(charges.total)
    if sum((line.amount for line in lines), Decimal(0)) != total:
        notes.append(ROUNDING)
    split = None if benefits is None else _split(charges.total, benefits, prices.currency)
    share = None if split is None else _share([split], charges.total, split.notes)
    if benefits is None:
        notes.append(NO_BENEFITS)
    else:
        notes.extend(split.notes if split is not None else ())
    cost = SessionCost(prices.currency, lines, total, share, tuple(notes))
    return cost, split, charges.total


def session_cost(
    billing: InjectionPlan | Sequence[BillingLine],
    *,
    prices: PriceList,
    benefits: BenefitTerms | None = None,
    bill_discarded_units: bool = True,
) -> SessionCost:
    """One session's charges and, with benefit terms, the patient's share; each figure with its assumption.

    ``billing`` is a PREEMPT plan (its ``billing_lines``: CPT 64615 once, J0585 for the units given, J0585-JW for
    the units discarded or J0585-JZ when none are) or the claim lines of a recorded session. Discarded units are
    charged unless ``bill_discarded_units`` is False (a payer that does not pay JW lines).
    """
    cost, _, _ = _session(billing, prices, benefits, bill_discarded_units=bill_discarded_units)
    return cost


def year_cost(
    billing: InjectionPlan | Sequence[BillingLine],
    *,
    sessions: int,
    prices: PriceList,
    benefits: BenefitTerms | None = None,
    bill_discarded_units: bool = True,
) -> YearCost:
    """``sessions`` sessions priced one after another, the deductible, out-of-pocket and savings balances carried
    from each to the next (BOTOX label: retreatment every 12 weeks, so a year holds at most five sessions 84 days
    apart; the caller says how many it plans)."""
    if isinstance(sessions, bool) or not isinstance(sessions, int) or sessions < 1:
        raise CostError(NOT_SESSIONS.format(value=sessions))
    costs = []
    splits = []
    exact_total = Decimal(0)
    terms = benefits
    for _ in range(sessions):
        cost, split, exact = _session(billing, prices, terms, bill_discarded_units=bill_discarded_units)
        costs.append(cost)
        exact_total += exact
        if split is not None:
            splits.append(split)
            terms = split.after
    notes = (YEAR_SESSIONS.format(sessions=sessions),)
    share = _share(splits, exact_total, notes) if splits else None
    return YearCost(prices.currency, tuple(costs), _cents(exact_total), share, notes)


@dataclass(frozen=True, slots=True)
class SessionGiven:
    """A session already given, for what it used of the benefit terms: its day, its claim lines (or plan) and the
    prices in force on its day."""

    day: date
    billing: InjectionPlan | Sequence[BillingLine]
    prices: PriceList


@dataclass(frozen=True, slots=True)
class TermsLeft:
    """The benefit terms left before the next session and the days of the sessions taken off the terms as checked,
    in date order (none: the terms as checked)."""

    terms: BenefitTerms
    counted: tuple[date, ...]


def terms_left(
    benefits: BenefitTerms,
    *,
    checked_on: date,
    given: Sequence[SessionGiven],
    bill_discarded_units: bool = True,
) -> TermsLeft:
    """The deductible, out-of-pocket maximum and savings programme left before the next session: the terms as
    checked on ``checked_on`` less what each session given on or after that day used, never below 0.

    Each session is priced as ``session_cost`` prices it, at its own prices, one after another in date order with
    the balances carried, as ``year_cost`` carries them. A session before the check is already in the amounts
    checked; one on the day of the check is taken as given after the check. The terms carry no plan-year start, so
    every session given since the check is taken to fall in the plan year of the check: a deductible or savings
    programme reset between them is not foreseen (the caller says so; the terms checked again after the reset are
    the remedy)."""
    terms = benefits
    counted = []
    for session in sorted((s for s in given if s.day >= checked_on), key=lambda s: s.day):
        _, split, _ = _session(session.billing, session.prices, terms, bill_discarded_units=bill_discarded_units)
        if split is not None:  # always, with terms given; the balances it leaves are never below 0
            terms = split.after
        counted.append(session.day)
    return TermsLeft(terms, tuple(counted))
