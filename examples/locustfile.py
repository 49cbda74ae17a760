"""Locust: many registrations, spread over workers and hosts, with sipfsm's own client.

    pip install 'sipfsm[locust]'
    # one machine:
    locust -f examples/locustfile.py --host udp:127.0.0.1:5060 --headless -u 100 -r 20 -t 60s
    # many: a master, then workers anywhere that reaches it and the registrar
    locust -f examples/locustfile.py --master --host udp:192.0.2.10:5060
    locust -f examples/locustfile.py --worker --master-host 192.0.2.20

Every REGISTER transaction is a Locust request (type REGISTER; names initial, auth, refresh,
unregister): the web UI and ``--csv`` show their rates, response times and failures.
Environment: ``SIPFSM_DOMAIN`` (AOR domain, default the registrar host), ``SIPFSM_EXPIRES``
(default 60), ``SIPFSM_PASSWORD_PATTERN`` (default ``pw-{user}``, what the test registrars
accept) or ``SIPFSM_PASSWORD_ENV`` (the name of a variable holding one shared password).
"""

from __future__ import annotations

import os

from locust import constant

from sipfsm.contrib.locust_user import SipRegistrationUser


class Registration(SipRegistrationUser):
    domain = os.environ.get("SIPFSM_DOMAIN") or None
    expires = int(os.environ.get("SIPFSM_EXPIRES", "60"))
    password_env = os.environ.get("SIPFSM_PASSWORD_ENV") or None
    password_pattern = (
        None if password_env else os.environ.get("SIPFSM_PASSWORD_PATTERN", "pw-{user}")
    )
    per_worker = int(os.environ.get("SIPFSM_PER_WORKER", "100000"))  # user numbers per worker
    wait_time = constant(1)
