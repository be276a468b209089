"""Availability against the yearly commitment: outages and maintenance windows, measured
availability, the error budget and its alerts.

``arithmetic`` is pure; ``outages`` writes the rows, ``selectors`` reads the figures (reports,
the public status page) and ``budget`` raises and mails the error-budget alerts.
"""
