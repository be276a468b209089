"""SLA clocks: business time, deadlines, every write to a ticket's clocks, and their escalation.

``values`` and ``calendar``, ``deadlines`` are pure arithmetic; ``selectors`` reads (snapshots of
calendars, a clock's explanation, the clocks to escalate); ``services`` is the one hook the
ticket services call (``clocks_apply``); ``escalation`` warns and escalates crossed clocks. Kept
empty of imports: the models import ``values`` through this package.
"""
