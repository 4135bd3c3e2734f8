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


def navigation(request) -> dict:
    """Context processor: `is_admin` on every page, for the links only admins may follow (Add pair). A callable,
    so a page that never shows those links asks the database nothing."""
    return {"is_admin": lambda: is_admin(request.user)}
