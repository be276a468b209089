"""Accounts: signing in, passwords, second factors and sessions, on django-allauth.

Pacte adds what a support desk needs around it: nobody signs up (people are invited by their
organization or created by support), the account mails go through the outbox like every
other mail, and staff need a second factor (`tickets.accounts.second_factor`)."""
