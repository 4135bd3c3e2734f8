"""Two roles: `viewer` sees the status pages, `admin` also configures pairs and alerts."""

from django.contrib.auth.models import Group

VIEWER, ADMIN = "viewer", "admin"


def ensure_groups() -> None:
    for name in (VIEWER, ADMIN):
        Group.objects.get_or_create(name=name)


def add_to_role(user, role: str) -> None:
    group, _ = Group.objects.get_or_create(name=role)
    user.groups.add(group)


def is_admin(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.groups.filter(name=ADMIN).exists())


def is_viewer(user) -> bool:
    return user.is_authenticated and (is_admin(user) or user.groups.filter(name=VIEWER).exists())
