"""Alerts for staff members: reading and marking them (``selectors``, ``services``) and mailing
them when they are due (``delivery``). The escalation of clocks writes them
(sla.clocks.escalation).

``services`` imports nothing but the models, so that the clock services may call it; only the
tasks import ``delivery``, which takes its Message-ID from the ticket services.
"""
