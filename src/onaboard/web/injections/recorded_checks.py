"""The pre-recording checks stored with a session, read for people: each check's reasons under its title.

Recording stores every check's reasons in ``check_reasons``, one line each, prefixed with the check's code
("site_dose: PREEMPT: ..."), then the reasons of each warning in force when it was recorded (``session_warnings``,
which the session screen shows beside the checks: eligibility before a first session, a decision to stop, NICE
TA260, side effects), prefixed with the warning's code ("chronic_migraine: ICHD-3 1.3 A: ..."; sessions recorded
before warnings were stored have none), and the codes of the checks overridden in
``overridden_checks`` (comma-separated). The session page and the procedure note both read them here, so the code
never reaches a reader and the two cannot group them differently.
"""

from __future__ import annotations

from dataclasses import dataclass

from onaboard.web.injections.models import InjectionSession
from onaboard.web.injections.selectors import WARNING_TITLES, CheckCode, WarningCode, check_title

_CODES = {code.value: code for code in CheckCode}
_WARNINGS = {code.value: code for code in WarningCode}


@dataclass(frozen=True, slots=True)
class RecordedCheck:
    """One check's, or one warning's, stored reasons under its title; ``code`` None (and no title) for lines naming
    no known check, such as text a session imported from elsewhere carries, kept as they are."""

    code: CheckCode | WarningCode | None
    title: str
    reasons: tuple[str, ...]

    @property
    def warning(self) -> bool:
        """A warning shown beside the checks, which blocked nothing (``session_warnings``), not a check."""
        return isinstance(self.code, WarningCode)


def _title(code: CheckCode | WarningCode) -> str:
    return check_title(code) if isinstance(code, CheckCode) else str(WARNING_TITLES[code])


def checks_at_recording(session: InjectionSession) -> list[RecordedCheck]:
    """The session's stored reasons grouped by check, in the order the checks first appear; a line naming no known
    check stays as it is, in its place (lines of that kind in a row are one group), and a blank line is dropped."""
    groups: list[tuple[CheckCode | WarningCode | None, list[str]]] = []
    of_code: dict[CheckCode | WarningCode, list[str]] = {}
    for line in session.check_reasons.splitlines():
        text = line.strip()
        if not text:
            continue
        prefix, colon, reason = text.partition(": ")
        code = (_CODES.get(prefix) or _WARNINGS.get(prefix)) if colon else None
        if code is None:
            if not groups or groups[-1][0] is not None:
                groups.append((None, []))
            groups[-1][1].append(text)
        elif code in of_code:
            of_code[code].append(reason)
        else:
            of_code[code] = [reason]
            groups.append((code, of_code[code]))
    return [RecordedCheck(code, _title(code) if code is not None else "", tuple(reasons)) for code, reasons in groups]


def warnings_at_recording(session: InjectionSession) -> list[RecordedCheck]:
    """The warnings in force when the session was recorded (``checks_at_recording``' warnings), such as chronic
    migraine not met before a first session: what the session was recorded despite."""
    return [check for check in checks_at_recording(session) if check.warning]


def safety_at_recording(session: InjectionSession) -> RecordedCheck | None:
    """The safety screen's stored reasons (the contraindication check's: a caution such as a muscle relaxant, the
    questions not answered, or the screen clear) when the check passed, so was not overridden: what the procedure
    note gives of the screen the session was recorded with. None for a session stored without them (an import)."""
    if CheckCode.CONTRAINDICATION.value in session.overridden_checks.split(","):
        return None  # named with its reasons among the checks overridden
    return next((check for check in checks_at_recording(session) if check.code is CheckCode.CONTRAINDICATION), None)


def checks_overridden(session: InjectionSession) -> list[RecordedCheck]:
    """Each known check the session overrode, in the order stored, with the reasons stored for it (none when no line
    was stored for it)."""
    found = {check.code: check for check in checks_at_recording(session) if check.code is not None}
    codes = [_CODES[code] for code in session.overridden_checks.split(",") if code in _CODES]
    return [found.get(code) or RecordedCheck(code, check_title(code), ()) for code in codes]
