"""Web page sessions and sign-ins in progress, kept in the database so that every gateway
instance knows them and a sign-out ends the session everywhere at once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field, SQLModel


class WebSessionRow(SQLModel, table=True):
    __tablename__ = "web_session"

    # A hash of the cookie's value: a copy of the database does not hand out live sessions.
    id_hash: str = Field(primary_key=True, max_length=64)
    issuer: str = Field(max_length=500)
    subject: str = Field(max_length=200)
    actor: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    cpr_ciphertext: str | None = None
    csrf: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class LoginAttemptRow(SQLModel, table=True):
    """One authorization-code flow between the redirect to the provider and its callback."""

    __tablename__ = "login_attempt"

    state: str = Field(primary_key=True, max_length=64)
    issuer: str = Field(max_length=500)
    nonce: str = Field(max_length=64)
    code_verifier: str = Field(max_length=128)
    redirect_uri: str = Field(max_length=1000)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
