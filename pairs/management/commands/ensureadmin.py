import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from hapanel.roles import ensure_groups


class Command(BaseCommand):
    help = "Create the `admin` login with a random password, once, and print it."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **opts):
        ensure_groups()
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"login {username!r} exists (password printed when it was created)")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, password=password, email="")
        from hapanel.roles import add_to_role

        add_to_role(User.objects.get(username=username), "admin")
        self.stdout.write(f"panel login: {username} / {password}  (printed once)")
