"""English dates and times: one date-time form everywhere, 24-hour clock, day before month.

`DATETIME_FORMAT` and `SHORT_DATETIME_FORMAT` are the same on purpose: a page, a table and a
mail all say "Mon 7 Dec 2026, 09:00". The queue's badges use the two short forms below
(`tickets.templatetags.pacte.due_instant`), read from these modules by name."""

DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = DATE_FORMAT
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "D j M Y, H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
FIRST_DAY_OF_WEEK = 1  # Monday

# Not Django's: the queue's short instants ("Mon 09:00", "12 Dec 09:00").
WEEKDAY_TIME_FORMAT = "D H:i"
DAY_MONTH_TIME_FORMAT = "j M H:i"
MONTH_ABBREVIATION_FORMAT = "M"
