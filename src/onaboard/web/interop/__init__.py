"""Interoperability: FHIR R4B export and import, CSV upload and download, iCalendar feeds."""
