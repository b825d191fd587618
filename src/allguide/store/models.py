"""SQLAlchemy 2 table models. Only `store` imports these; other layers get records.

Design notes:
- Content item versions are immutable in their data; only workflow fields (status,
  reviewer, ...) are set as the version moves through review.
- `content_versions` are immutable snapshots of the served pack (one row per change).
- `audit_log` is append-only and hash-chained: nothing in the code updates or deletes it.
- Times are stored as naive UTC and come back timezone-aware (see `UTCDateTime`), so the
  same value round-trips identically on SQLite and PostgreSQL (the audit hash depends on it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("author", "reviewer", "admin")
VERSION_STATUSES = ("draft", "submitted", "approved", "rejected", "retired", "superseded")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out; stored naive UTC everywhere."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware UTC datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


# --------------------------------------------------------------------------- accounts


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN {_in(ROLES)}", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime]

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


class UserSession(Base):
    """A signed-in browser session. The cookie carries a random id; only its SHA-256 is
    stored. Signing out deletes the row, so a copy of the cookie stops working too."""

    __tablename__ = "user_sessions"

    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(index=True)


# --------------------------------------------------------------------------- content


class ContentFile(Base):
    """A content file as imported; unchanged files are exported byte for byte."""

    __tablename__ = "content_files"

    path: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    # Leading comment lines, kept when the file has to be re-rendered.
    header: Mapped[str] = mapped_column(Text, default="")
    # The file as imported and the item-version ids it held, in order.
    original_text: Mapped[str | None] = mapped_column(Text)
    original_version_ids: Mapped[list[int] | None] = mapped_column(JSON)


class ContentItem(Base):
    __tablename__ = "content_items"
    __table_args__ = (UniqueConstraint("kind", "item_id", name="uq_content_items_kind_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(ForeignKey("content_files.path"))
    # Order within its file: packs and exports keep the authors' order.
    position: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime]
    # The version in the served pack; NULL when never approved or retired.
    served_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("content_item_versions.id", use_alter=True)
    )

    versions: Mapped[list[ContentItemVersion]] = relationship(
        back_populates="item",
        foreign_keys="ContentItemVersion.item_pk",
        order_by="ContentItemVersion.number",
    )
    served_version: Mapped[ContentItemVersion | None] = relationship(
        foreign_keys=[served_version_id], post_update=True
    )


class ContentItemVersion(Base):
    __tablename__ = "content_item_versions"
    __table_args__ = (
        UniqueConstraint("item_pk", "number", name="uq_content_item_versions_item_pk_number"),
        CheckConstraint(f"status IN {_in(VERSION_STATUSES)}", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_pk: Mapped[int] = mapped_column(ForeignKey("content_items.id"), index=True)
    number: Mapped[int]
    # The item as validated by knowledge.schemas (JSON mode: decimals as strings).
    data: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    note: Mapped[str | None] = mapped_column(Text)
    imported: Mapped[bool] = mapped_column(default=False)
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[dt.datetime | None]
    reviewer: Mapped[str | None] = mapped_column(String(64))
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[dt.datetime | None]

    item: Mapped[ContentItem] = relationship(back_populates="versions", foreign_keys=[item_pk])


class ContentVersion(Base):
    """An immutable snapshot of the served pack."""

    __tablename__ = "content_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)


class ContentVersionItem(Base):
    __tablename__ = "content_version_items"

    content_version_id: Mapped[int] = mapped_column(
        ForeignKey("content_versions.id"), primary_key=True
    )
    item_version_id: Mapped[int] = mapped_column(
        ForeignKey("content_item_versions.id"), primary_key=True
    )


# --------------------------------------------------------------------------- plans, chat, hooks


class StoredPlan(Base):
    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    input_json: Mapped[str] = mapped_column(Text)
    input_digest: Mapped[str] = mapped_column(String(80), index=True)
    engine_version: Mapped[str] = mapped_column(String(32))
    content_version: Mapped[str] = mapped_column(String(64))
    plan_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str | None] = mapped_column(String(64))


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class CdsFeedback(Base):
    __tablename__ = "cds_feedback"
    __table_args__ = (Index("ix_cds_feedback_service_card", "service_id", "card_uuid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[str] = mapped_column(String(100))
    card_uuid: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[dt.datetime]


class CdsSeenToken(Base):
    """A CDS Hooks JWT already accepted, kept until it expires: replay protection that
    every worker process shares. The `jti` is kept as its SHA-256 (any length fits)."""

    __tablename__ = "cds_seen_tokens"

    issuer: Mapped[str] = mapped_column(String(512), primary_key=True)
    jti_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    keep_until: Mapped[dt.datetime] = mapped_column(index=True)


# --------------------------------------------------------------------------- audit


class AuditEntry(Base):
    """One audit record. `hash` = sha256(canonical entry + prev_hash); see store.audit."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(300), index=True)
    # Canonical JSON text, hashed exactly as stored.
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
