"""SLA compliance reports over tickets and their clocks: the figures of a period (``figures``)
and the lists a report pages through (``listings``: breaches, clocks at risk,
reclassifications), and the same as rows for a spreadsheet (``export``)."""
