"""Every table of the desk's database: tickets, the changes and holders beside them,
users and sessions, and the audit log."""

from __future__ import annotations

from services.review_desk import accounts, audit, repository

DDL: tuple[str, ...] = repository.DDL + repository.EXTRA_DDL + accounts.DDL + audit.DDL
