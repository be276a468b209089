from django.core.management.base import BaseCommand

from tickets.demo import DEMO_PASSWORD, demo_seed


class Command(BaseCommand):
    help = "Create the demo organizations, desks, users and tickets (safe to run again)."

    def handle(self, *args: object, **options: object) -> None:
        logins = demo_seed()
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready. Logins (password: {DEMO_PASSWORD}):")
        )
        for login in logins:
            self.stdout.write(f"  {login.username:<9} {login.role:<9} {login.description}")
        self.stdout.write(
            "Staff also type the code of their authenticator app: `make code WHO=maya` prints it."
        )
