"""``sipfsm load``: a load generator for registrars, built on sipfsm's own client.

* :mod:`sipfsm.load.users` -- who registers: name/password patterns or a CSV file
  (``user,password[,aor]``);
* :mod:`sipfsm.load.shard` -- one worker: its users on one event loop, one socket, one
  transaction layer;
* :mod:`sipfsm.load.stats` -- snapshots, merged across workers; the live line, summary and JSON;
* :mod:`sipfsm.load.command` -- the command line and the worker processes.

The package imports nothing itself, so that ``sipfsm --help`` stays quick.
"""
