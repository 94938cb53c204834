"""Code systems and URLs used in onaboard's FHIR Bundles (documented in docs/fhir.md).

Public codes are taken only where a source confirms them (``shared/domain/clinical-facts.md`` §7 and §9):

- SNOMED CT 37796009 "Migraine (disorder)" (clinical-facts §9, CONFIRMED in several public code bases).
- CPT 64615, chemodenervation for chronic migraine, reported once per session (clinical-facts §7.1, CONFIRMED).
- HCPCS J0585, injection of onabotulinumtoxinA, 1 unit (clinical-facts §7.1, CONFIRMED).

No ICD-10-CM code is written: which chronic-migraine code applies (clinical-facts §7.2: with or without aura,
intractable, status migrainosus) is the clinician's coding decision, made on the prior-authorisation form.

RxNorm codes for onabotulinumtoxinA and LOINC codes for HIT-6 and MIDAS could not be confirmed from any public
source available to the project (clinical-facts §9 lists them UNCONFIRMED; HIT-6 is a licensed instrument that
may have no LOINC code), so none is written: the drug carries HCPCS J0585 and onaboard's own code, and the
questionnaires use onaboard's CodeSystem. Everything else without a public code uses an onaboard CodeSystem under
``https://onaboard.org/fhir/CodeSystem/``; the URLs are stable and never reused for another meaning.
"""

from __future__ import annotations

BASE = "https://onaboard.org/fhir"

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
UCUM = "http://unitsofmeasure.org"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ADVERSE_EVENT_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
ADVERSE_EVENT_CAUSALITY = "http://terminology.hl7.org/CodeSystem/adverse-event-causality-assess"

RECORD_NUMBER = f"{BASE}/sid/record-number"
"""Patient.identifier system: the clinic's record number (unique within a clinic)."""

DIARY = f"{BASE}/CodeSystem/diary"
"""The diary day and its components: the columns of the diary CSV contract (shared/spec/diary-csv.md)."""
INTENSITY = f"{BASE}/CodeSystem/intensity"
ACUTE_CLASS = f"{BASE}/CodeSystem/acute-medication-class"
QUESTIONNAIRE = f"{BASE}/CodeSystem/questionnaire"
HIT6_ANSWER = f"{BASE}/CodeSystem/hit6-answer"
MEDICATION = f"{BASE}/CodeSystem/medication"
MUSCLE = f"{BASE}/CodeSystem/injection-muscle"
SIDE = f"{BASE}/CodeSystem/body-side"
SIDE_EFFECT = f"{BASE}/CodeSystem/side-effect"
PREVENTIVE_CLASS = f"{BASE}/CodeSystem/preventive-class"
STOP_REASON = f"{BASE}/CodeSystem/preventive-stop-reason"
CARE_PLAN = f"{BASE}/CodeSystem/care-plan"
TREATMENT_DECISION = f"{BASE}/CodeSystem/treatment-decision"
"""A clinician's decision to continue or stop: ``treatment-decision`` (the Observation's code), ``continue``,
``stop`` (its value) and ``nice-ta260-verdict``, ``nice-ta260-reasons`` (its components)."""
NICE_TA260_VERDICT = f"{BASE}/CodeSystem/nice-ta260-verdict"
"""The engine's NICE TA260 verdicts (``onaboard.clinical.NiceTa260`` values)."""

HIT6_QUESTIONNAIRE = f"{BASE}/Questionnaire/hit6"
MIDAS_QUESTIONNAIRE = f"{BASE}/Questionnaire/midas"


def extension(name: str) -> str:
    """The URL of one of onaboard's extensions."""
    return f"{BASE}/StructureDefinition/{name}"


SAFETY_SCREEN = extension("safety-screen")
OTHER_TOXIN_ASKED = extension("other-toxin-asked")
INJECTION_SITE = extension("injection-site")
VIAL = extension("vial")
CHECKS = extension("session-checks")
SESSION_STATUS = extension("session-status")
SIDE_EFFECT_DETAIL = extension("side-effect-detail")
SESSION_REF = extension("session-date")

CHRONIC_MIGRAINE_SNOMED = ("37796009", "Migraine (disorder)")
CPT_CHEMODENERVATION = (
    "64615",
    (
        "Chemodenervation of muscle(s); muscle(s) innervated by facial, trigeminal, cervical spinal and accessory "
        "nerves, bilateral (eg, for chronic migraine)"
    ),
)
HCPCS_ONABOTULINUMTOXINA = ("J0585", "Injection, onabotulinumtoxinA, 1 unit")
ONABOTULINUMTOXINA = ("onabotulinumtoxinA", "onabotulinumtoxinA (BOTOX)")

BOTOX_UNIT = {"unit": "U", "system": UCUM, "code": "[arb'U]"}
"""A BOTOX unit: a biological activity unit particular to the product, so UCUM's arbitrary unit."""
HOURS = {"unit": "h", "system": UCUM, "code": "h"}
