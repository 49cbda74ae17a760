"""Adapters to other engines (optional extras).

* :mod:`sipfsm.contrib.gevent_ports` -- the ports (Transport, Timers, Clock, Random) on gevent;
* :mod:`sipfsm.contrib.locust_user` -- a Locust ``User`` registering with sipfsm's own client
  (``pip install 'sipfsm[locust]'``).
"""
