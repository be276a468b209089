"""The SLA app, one package per capability: ``clocks`` (business time, deadlines, the clocks of
tickets and their escalation), ``availability`` (outages, maintenance, measured availability,
the error budget), ``notifications`` (staff alerts and their mail) and ``reports`` (compliance
figures and lists). The models are in ``models``, the Celery tasks in ``tasks``, the domain
errors in ``exceptions``; docs/ARCHITECTURE.md has the map."""
