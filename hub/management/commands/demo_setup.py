from django.core.management.base import BaseCommand

from hub.demo import demo_setup


class Command(BaseCommand):
    help = "Set up the Balkan Gate demo (idempotent) and write var/demo-credentials.json."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        operation, path = demo_setup()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo operation {operation.code} is {operation.get_state_display().lower()} "
                f"({operation.window_start:%d %b} – {operation.window_end:%d %b %Y})."
            )
        )
        self.stdout.write(f"Demo credentials: {path}")
        self.stdout.write("Sign in with a user name and password from that file, then a TOTP code from its")
        self.stdout.write(
            "totp_secret (add it to an authenticator app, or run: .venv/bin/python manage.py totp USERNAME)."
        )
