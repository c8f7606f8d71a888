"""Users, passwords (argon2) and the roles that gate each page."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEvent, User

ROLES = ("reviewer", "admin")
# What each role may do: admins upload and also review.
GRANTS = {"reviewer": {"review"}, "admin": {"review", "upload"}}
MIN_PASSWORD = 10
_hasher = PasswordHasher()


class UserError(Exception):
    """A user that cannot be added; the message says why."""


def add_user(session: Session, name: str, password: str, role: str) -> User:
    name = name.strip()
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if not name or len(name) > 100:
        raise UserError("a user name is 1 to 100 characters")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password has at least {MIN_PASSWORD} characters")
    if session.scalars(select(User).where(User.name == name)).first() is not None:
        raise UserError(f"there is already a user called {name!r}")
    user = User(name=name, password_hash=_hasher.hash(password), role=role)
    session.add(user)
    session.flush()
    session.add(
        AuditEvent(
            actor=None,
            action="user.add",
            entity_type="user",
            entity_id=user.id,
            detail={"role": role},
        )
    )
    return user


def authenticate(session: Session, name: str, password: str) -> User | None:
    user = session.scalars(select(User).where(User.name == name.strip())).first()
    if user is None or user.disabled:
        _hasher.hash(password)  # the same work either way: no timing hint that the name exists
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def may(user: User | None, action: str) -> bool:
    return user is not None and not user.disabled and action in GRANTS.get(user.role, set())
