"""FHIR R4B for onaboard: plain records to a Bundle (``build``) and a Bundle back to records (``read``).

Framework-free: ``onaboard.web.interop`` turns rows into ``records`` and back, inside one transaction.
"""

from onaboard.interop.fhir.build import bundle, bundle_json
from onaboard.interop.fhir.read import BundleInvalidError, Problem, read_bundle
from onaboard.interop.fhir.records import PatientRecord

__all__ = ["BundleInvalidError", "PatientRecord", "Problem", "bundle", "bundle_json", "read_bundle"]
