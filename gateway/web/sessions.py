"""Sign-ins in progress and web sessions: created, looked up, ended.

The cookie holds a random token; the database holds its hash, the actor as the access token
described it at sign-in, and the session's CSRF token. Ending a session is a row update, so a
stolen cookie stops working everywhere the moment its owner signs out.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import col, delete, select

from gateway.auth.actor import Actor
from gateway.cpr_protection import CprProtector
from gateway.db import read_session, write_session
from gateway.web.models import LoginAttemptRow, WebSessionRow

LOGIN_TIMEOUT = timedelta(minutes=10)


@dataclass(frozen=True)
class WebSession:
    actor: Actor
    csrf: str
    expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start_login(
    *, engine: Engine, issuer: str, redirect_uri: str, now: datetime
) -> LoginAttemptRow:
    """A new state, nonce and PKCE verifier for one trip to the provider and back."""
    attempt = LoginAttemptRow(
        state=secrets.token_urlsafe(32),
        issuer=issuer,
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(64),
        redirect_uri=redirect_uri,
        created_at=now,
    )
    with write_session(engine) as session:
        # Abandoned sign-ins go as new ones arrive.
        session.exec(
            delete(LoginAttemptRow).where(col(LoginAttemptRow.created_at) < now - LOGIN_TIMEOUT)
        )  # type: ignore[call-overload]
        session.add(attempt)
    return attempt


def finish_login(*, engine: Engine, state: str, now: datetime) -> LoginAttemptRow | None:
    """The sign-in this state belongs to, used up: a state works once, within ten minutes."""
    with write_session(engine) as session:
        stored = session.get(LoginAttemptRow, state)
        if stored is None:
            return None
        attempt = LoginAttemptRow.model_validate(stored.model_dump())
        session.delete(stored)
    created = attempt.created_at
    if created.tzinfo is None:  # SQLite hands back naive datetimes
        created = created.replace(tzinfo=now.tzinfo)
    return attempt if now - created <= LOGIN_TIMEOUT else None


def create_session(
    *, engine: Engine, protector: CprProtector, actor: Actor, expires_at: datetime, now: datetime
) -> tuple[str, WebSession]:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    row = WebSessionRow(
        id_hash=_hash(token),
        issuer=actor.issuer,
        subject=actor.subject,
        actor={
            "name": actor.name,
            "department": actor.department,
            "roles": list(actor.roles),
            "token_id": actor.token_id,
        },
        cpr_ciphertext=protector.encrypt(actor.cpr) if actor.cpr else None,
        csrf=csrf,
        created_at=now,
        expires_at=expires_at,
    )
    with write_session(engine) as session:
        session.exec(delete(WebSessionRow).where(col(WebSessionRow.expires_at) < now))  # type: ignore[call-overload]
        session.add(row)
    return token, WebSession(actor=actor, csrf=csrf, expires_at=expires_at)


def load_session(
    *, engine: Engine, protector: CprProtector, token: str, now: datetime
) -> WebSession | None:
    with read_session(engine) as session:
        row = session.exec(
            select(WebSessionRow).where(WebSessionRow.id_hash == _hash(token))
        ).first()
    if row is None or row.ended_at is not None:
        return None
    expires_at = (
        row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=now.tzinfo)
    )
    if expires_at <= now:
        return None
    actor = Actor(
        subject=row.subject,
        name=row.actor.get("name"),
        department=row.actor.get("department"),
        roles=tuple(row.actor.get("roles", [])),
        issuer=row.issuer,
        token_id=row.actor.get("token_id"),
        cpr=protector.decrypt(row.cpr_ciphertext) if row.cpr_ciphertext else None,
    )
    return WebSession(actor=actor, csrf=row.csrf, expires_at=expires_at)


def end_session(*, engine: Engine, token: str, now: datetime) -> None:
    with write_session(engine) as session:
        row = session.get(WebSessionRow, _hash(token))
        if row is not None and row.ended_at is None:
            row.ended_at = now
            session.add(row)
