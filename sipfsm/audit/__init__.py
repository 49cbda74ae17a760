"""``sipfsm audit``: judge another SIP client's registrations from what it put on the wire.

>>> from sipfsm.audit import audit_paths
>>> report = audit_paths(["capture.pcapng"], password="secret")    # doctest: +SKIP
>>> report.clean, report.violations("RFC3261-10.2-CSEQ-INCREMENT")  # doctest: +SKIP

Inputs: sipfsm JSON-lines traces, pcap / pcapng captures (``dpkt``, the ``audit`` extra), SIPp
``-trace_msg`` logs, plain text.  Rules: every ``spec/`` record with an ``audit`` key.
"""

from sipfsm.audit.engine import active_rules, audit_observations, audit_paths, audit_records
from sipfsm.audit.model import AuditInputError, Evidence, Finding, Observation, Report
from sipfsm.audit.readers import detect_format, read_observations
from sipfsm.audit.rules import Tolerance

__all__ = [
    "AuditInputError",
    "Evidence",
    "Finding",
    "Observation",
    "Report",
    "Tolerance",
    "active_rules",
    "audit_observations",
    "audit_paths",
    "audit_records",
    "detect_format",
    "read_observations",
]
