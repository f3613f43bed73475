"""The desk's users and their sessions, in the desk's own database.

Passwords are kept as argon2id hashes (argon2-cffi); a session cookie carries a random
id whose SHA-256 alone is stored, so a copy of the database opens no session. Roles
are ordered: a viewer sees, an operator also decides, an admin also manages users.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from stepstream.sql.database import Row, Transaction

DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS desk_users (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS desk_sessions (
        session_hash TEXT PRIMARY KEY,
        user_name TEXT NOT NULL,
        csrf_token TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    )""",
)

SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD = 8
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_hasher = PasswordHasher()
# Checked against when the user does not exist, so a wrong name costs as long as a
# wrong password and the answer's timing does not tell which names exist.
_DUMMY_HASH = _hasher.hash("not a password anyone has")


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    def allows(self, needed: Role) -> bool:
        order = [Role.VIEWER, Role.OPERATOR, Role.ADMIN]
        return order.index(self) >= order.index(needed)


class AccountError(ValueError):
    """A user that cannot be made or changed; the message says why."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    created_at: datetime


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    expires_at: datetime


def check_new_user(name: str, role: str, password: str) -> Role:
    if not _NAME.match(name):
        raise AccountError(
            f"user name {name!r} must be 1 to 64 letters, digits or . _ @ - (no spaces)"
        )
    try:
        chosen = Role(role)
    except ValueError:
        raise AccountError(
            f"role must be one of {', '.join(r.value for r in Role)}; got {role!r}"
        ) from None
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    return chosen


async def add_user(tx: Transaction, name: str, role: str, password: str, *, at: datetime) -> User:
    """A new user; ``AccountError`` if the name is taken or anything is malformed."""
    chosen = check_new_user(name, role, password)
    added = await tx.execute(
        "INSERT INTO desk_users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        name,
        str(chosen),
        _hasher.hash(password),
        at.isoformat(),
    )
    if not added:
        raise AccountError(f"there is already a user named {name!r}")
    return User(name, chosen, at)


async def set_role(tx: Transaction, name: str, role: str) -> None:
    try:
        chosen = Role(role)
    except ValueError:
        raise AccountError(f"role must be one of {', '.join(r.value for r in Role)}") from None
    if not await tx.execute("UPDATE desk_users SET role = ? WHERE name = ?", str(chosen), name):
        raise AccountError(f"no user named {name!r}")


async def list_users(tx: Transaction) -> list[User]:
    rows = await tx.fetch_all("SELECT name, role, created_at FROM desk_users ORDER BY name")
    return [_user(row) for row in rows]


async def authenticate(tx: Transaction, name: str, password: str) -> User | None:
    """The user whose name and password these are, or None (the same time either way)."""
    row = await tx.fetch_one(
        "SELECT name, role, created_at, password_hash FROM desk_users WHERE name = ?", name
    )
    stored = row["password_hash"] if row else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    return _user(row) if row else None


async def open_session(tx: Transaction, user: User, *, at: datetime) -> tuple[str, Session]:
    """(the cookie's value, the session) for a user who just signed in."""
    cookie = secrets.token_urlsafe(32)
    session = Session(user, secrets.token_urlsafe(32), at + SESSION_LIFETIME)
    await tx.execute(
        "INSERT INTO desk_sessions (session_hash, user_name, csrf_token, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?)",
        _digest(cookie),
        user.name,
        session.csrf_token,
        at.isoformat(),
        session.expires_at.isoformat(),
    )
    return cookie, session


async def find_session(tx: Transaction, cookie: str, *, at: datetime) -> Session | None:
    row = await tx.fetch_one(
        "SELECT u.name, u.role, u.created_at, s.csrf_token, s.expires_at "
        "FROM desk_sessions s JOIN desk_users u ON u.name = s.user_name "
        "WHERE s.session_hash = ?",
        _digest(cookie),
    )
    if row is None:
        return None
    expires = datetime.fromisoformat(row["expires_at"])
    if expires <= at:
        await close_session(tx, cookie)
        return None
    return Session(_user(row), row["csrf_token"], expires)


async def close_session(tx: Transaction, cookie: str) -> None:
    await tx.execute("DELETE FROM desk_sessions WHERE session_hash = ?", _digest(cookie))


def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def _user(row: Row) -> User:
    return User(row["name"], Role(row["role"]), datetime.fromisoformat(row["created_at"]))
