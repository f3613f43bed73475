"""The web desk's fixtures: the review loop's broker, prefix and store from the review tests."""

from tests.integration.conftest import kafka, prefix, store_url

__all__ = ["kafka", "prefix", "store_url"]
