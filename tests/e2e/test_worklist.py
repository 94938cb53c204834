"""The worklist on a clinician's phone: each patient's row is a short block that fits the screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.browsing import PHONE_WIDTH, Browsing
from tests.web.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FITS_JS = """
() => Array.from(document.querySelectorAll('table.worklist')).map((table) => {
  const wrap = table.closest('.table-wrap');
  return {scrolls: wrap.scrollWidth > wrap.clientWidth + 1, right: Math.round(table.getBoundingClientRect().right)};
})
"""


def test_the_worklist_rows_fit_a_phone_with_every_field_named(browsing: Browsing, world: World) -> None:
    """On a phone no worklist table scrolls sideways (the record number used to be cut off at the screen's edge),
    and each field of a row is named beside its value, since the column headers are hidden there."""
    phone = browsing.open("phone")
    browsing.sign_in(phone, "clinician")
    row = phone.locator("table.worklist tr", has_text=world.own_patient.record_number)
    expect(row).to_be_visible()
    browsing.shot(phone, "worklist")

    tables = phone.evaluate(FITS_JS)
    assert tables
    assert all(not table["scrolls"] and table["right"] <= PHONE_WIDTH for table in tables), tables
    record = row.locator("td[data-label='Record number']")
    expect(record).to_have_text(world.own_patient.record_number)
    box = record.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= PHONE_WIDTH
    named = record.evaluate("(el) => getComputedStyle(el, '::before').content")
    assert named == '"Record number "'
