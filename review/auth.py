"""Users, passwords (argon2), sign-ins kept on the server, and the roles that gate each page."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import AuditEvent, SignIn, User

ROLES = ("reviewer", "admin")
# What each role may do: admins upload, manage users and also review.
GRANTS = {"reviewer": {"review"}, "admin": {"review", "upload", "administer"}}
MIN_PASSWORD = 10
_hasher = PasswordHasher()


class UserError(Exception):
    """A user that cannot be added; the message says why."""


SIGN_IN_LIFETIME = dt.timedelta(hours=12)
"""The absolute timeout: signed in in the morning, signed out by the evening."""
SIGN_IN_IDLE = dt.timedelta(hours=1)
"""The idle timeout: a browser left open for an hour must sign in again."""
_SEEN_EVERY = dt.timedelta(minutes=1)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password has at least {MIN_PASSWORD} characters")


def add_user(session: Session, name: str, password: str, role: str) -> User:
    name = name.strip()
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if not name or len(name) > 100:
        raise UserError("a user name is 1 to 100 characters")
    _check_password(password)
    if session.scalars(select(User).where(User.name == name)).first() is not None:
        raise UserError(f"there is already a user called {name!r}")
    user = User(name=name, password_hash=_hasher.hash(password), role=role)
    session.add(user)
    session.flush()
    _audit(session, user, "user.add", {"role": role})
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


def user_rows(session: Session) -> list[dict[str, object]]:
    """Every user with their role, state and live sign-ins, for the CLI and the users page."""
    now = _now()
    live: dict[int, int] = {}
    for user_id, count in session.execute(
        select(SignIn.user_id, func.count())
        .where(SignIn.ended_at.is_(None), SignIn.expires_at > now)
        .group_by(SignIn.user_id)
    ):
        live[user_id] = count
    return [
        {"name": u.name, "role": u.role, "disabled": u.disabled, "signed_in": live.get(u.id, 0)}
        for u in session.scalars(select(User).order_by(User.name))
    ]


def _audit(
    session: Session, user: User, action: str, detail: dict[str, object] | None = None
) -> None:
    """A change to a user, kept in the audit trail (made from the CLI or by an admin)."""
    session.add(
        AuditEvent(
            actor=None, action=action, entity_type="user", entity_id=user.id, detail=detail or {}
        )
    )


def find_user(session: Session, name: str) -> User:
    user = session.scalars(select(User).where(User.name == name.strip())).first()
    if user is None:
        raise UserError(f"there is no user called {name!r}")
    return user


def set_disabled(session: Session, name: str, disabled: bool) -> User:
    """Disable (or enable) a user; disabling ends every sign-in they have at once."""
    user = find_user(session, name)
    user.disabled = disabled
    if disabled:
        end_sign_ins(session, user)
    _audit(session, user, "user.disable" if disabled else "user.enable")
    return user


def set_password(session: Session, name: str, password: str) -> User:
    """A new password; the old one's sign-ins end, as after a suspected leak they must."""
    _check_password(password)
    user = find_user(session, name)
    user.password_hash = _hasher.hash(password)
    end_sign_ins(session, user)
    _audit(session, user, "user.password")
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def start_sign_in(session: Session, user: User, address: str | None = None) -> str:
    """A new sign-in for `user`; the returned token goes in the (signed) session cookie."""
    token = secrets.token_urlsafe(32)
    session.add(
        SignIn(
            token_hash=_token_hash(token),
            user_id=user.id,
            expires_at=_now() + SIGN_IN_LIFETIME,
            address=(address or "")[:64] or None,
        )
    )
    return token


def signed_in_user(session: Session, token: str) -> User | None:
    """The user of a live sign-in: not ended, not expired, not idle, the user not
    disabled. Marks the sign-in as seen (at most once a minute)."""
    found = session.execute(
        select(SignIn, User)
        .join(User, SignIn.user_id == User.id)
        .where(SignIn.token_hash == _token_hash(token), SignIn.ended_at.is_(None))
    ).first()
    if found is None:
        return None
    sign_in, user = found
    now = _now()
    last_seen = _aware(sign_in.last_seen_at or sign_in.started_at)
    if _aware(sign_in.expires_at) <= now or now - last_seen > SIGN_IN_IDLE or user.disabled:
        return None
    if now - last_seen > _SEEN_EVERY:
        sign_in.last_seen_at = now
    return user


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; every time stored here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def end_sign_in(session: Session, token: str) -> None:
    session.execute(
        update(SignIn)
        .where(SignIn.token_hash == _token_hash(token), SignIn.ended_at.is_(None))
        .values(ended_at=_now())
    )


def end_sign_ins(session: Session, user: User) -> None:
    session.execute(
        update(SignIn)
        .where(SignIn.user_id == user.id, SignIn.ended_at.is_(None))
        .values(ended_at=_now())
    )


def set_role(session: Session, name: str, role: str) -> User:
    """A new role; the user signs in again to take it up."""
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    user = find_user(session, name)
    user.role = role
    end_sign_ins(session, user)
    _audit(session, user, "user.role", {"role": role})
    return user


def may(user: User | None, action: str) -> bool:
    return user is not None and not user.disabled and action in GRANTS.get(user.role, set())
