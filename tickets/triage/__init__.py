"""Severity triage: the severity a ticket's text describes, suggested by a classifier that
ships with the product (``classifier``: trained on ``corpus/``, then on the installation's own
reviewed tickets), explained by its weightiest words and the nearest clause of the SLA
(``definitions``), and applied to incoming tickets by ``services``."""
