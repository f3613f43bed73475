"""open_store and store_from_url: a store chosen by a URL from configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from stepstream.store import (
    InMemoryStore,
    PostgresStore,
    SQLiteStore,
    open_store,
    store_from_url,
)

from .builders import events


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///data/store.db", Path("data/store.db")),
        ("sqlite:////var/lib/stepstream/store.db", Path("/var/lib/stepstream/store.db")),
        ("sqlite:///store.db?synchronous=full", Path("store.db")),
    ],
)
def test_a_sqlite_url_names_the_file(url: str, path: Path) -> None:
    store = store_from_url(url)
    assert isinstance(store, SQLiteStore)
    assert store.path == path


def test_a_memory_url_gives_the_fake() -> None:
    assert isinstance(store_from_url("memory://"), InMemoryStore)


def test_a_postgres_url_may_name_its_schema() -> None:
    named = store_from_url("postgresql://postgres@127.0.0.1:5432/test?schema=orders")
    default = store_from_url("postgres://postgres@127.0.0.1/test")
    assert isinstance(named, PostgresStore) and isinstance(default, PostgresStore)
    assert (named.schema, default.schema) == ("orders", "stepstream")


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("store.db", "must look like scheme://"),
        ("mysql://localhost/db", "unknown store URL scheme 'mysql'"),
        ("sqlite://store.db", "must be sqlite:///path"),
        ("sqlite:///", "names no file"),
        ("sqlite:///store.db?journal=off", "unknown SQLite URL options"),
        ("sqlite:///store.db?synchronous=never", "synchronous must be one of"),
        ("postgresql://127.0.0.1/test?schema=no-dashes", "schema name"),
    ],
)
def test_a_bad_url_is_refused_by_name(url: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        store_from_url(url)


async def test_open_store_gives_a_ready_sqlite_store(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/nested/store.db")
    try:
        assert await store.append("s1", 0, events("A")) == 1
    finally:
        await store.close()
    assert (tmp_path / "nested" / "store.db").exists()


async def test_open_store_passes_the_rest_of_a_postgres_url_to_the_server(
    postgres_url: str, schema: str
) -> None:
    store = await open_store(f"{postgres_url}?schema={schema}&application_name=store-tests")
    try:
        assert await store.append("s1", 0, events("A")) == 1
        assert isinstance(store, PostgresStore) and store.schema == schema
    finally:
        await store.close()
