"""French dates and times: one form everywhere, abbreviations in lower case with their full stop
("lun. 7 déc. 2026 à 09:00"; Django's "M" would capitalize the month). As in English, the
short date-time form is the long one on purpose."""

DATE_FORMAT = "j N Y"
SHORT_DATE_FORMAT = DATE_FORMAT
TIME_FORMAT = "H:i"
DATETIME_FORMAT = r"D\. j N Y à H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
FIRST_DAY_OF_WEEK = 1  # Monday

WEEKDAY_TIME_FORMAT = r"D\. H:i"
DAY_MONTH_TIME_FORMAT = "j N H:i"
MONTH_ABBREVIATION_FORMAT = "N"
