"""The services' settings as their processes read them from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.book_shipment.settings import SIMULATOR_KEY, BookShipmentSettings
from services.charge_payment.settings import STAND_IN_KEY, ChargePaymentSettings
from services.common.running import ConfigurationError
from services.emit_receipt.settings import EmitReceiptSettings
from services.reserve_stock.settings import ReserveStockSettings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STRIPE_API_KEY", "STEPSTREAM_STRIPE_API_KEY", "STEPSTREAM_STRIPE_API_BASE"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("variable", ["STRIPE_API_KEY", "STEPSTREAM_STRIPE_API_KEY"])
def test_the_stripe_key_comes_from_either_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "sk_test_from_the_environment")

    settings = ChargePaymentSettings()

    assert settings.api_key() == "sk_test_from_the_environment"
    assert "sk_test_from_the_environment" not in repr(settings)


def test_the_stand_in_needs_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPSTREAM_STRIPE_API_BASE", "http://127.0.0.1:12111")

    assert ChargePaymentSettings().api_key() == STAND_IN_KEY


def test_stripe_itself_without_a_key_is_refused_saying_what_to_set() -> None:
    with pytest.raises(ConfigurationError, match="STRIPE_API_KEY is required"):
        ChargePaymentSettings().api_key()


def test_a_key_that_is_not_a_secret_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", "pk_test_publishable")

    with pytest.raises(ConfigurationError, match="must be a Stripe secret key"):
        ChargePaymentSettings().api_key()


def test_each_service_keeps_its_own_file_in_the_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STEPSTREAM_DATA_DIR", str(tmp_path))

    urls = [
        ChargePaymentSettings().database(),
        ReserveStockSettings().database(),
        BookShipmentSettings().database(),
        EmitReceiptSettings().database(),
    ]

    assert urls == [
        f"sqlite:///{tmp_path / name}"
        for name in ("charge-payment.db", "reserve-stock.db", "book-shipment.db", "emit-receipt.db")
    ]


def test_a_database_url_of_its_own_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPSTREAM_INVENTORY_DATABASE_URL", "postgresql://db/shop?schema=stock")

    assert ReserveStockSettings().database() == "postgresql://db/shop?schema=stock"
    assert ReserveStockSettings().database() != EmitReceiptSettings().database()


def test_initial_stock_is_json_of_sku_to_units(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPSTREAM_INITIAL_STOCK", '{"MUG": 10, "HAT": 0}')

    assert ReserveStockSettings().initial_stock == {"MUG": 10, "HAT": 0}


def test_without_initial_stock_the_catalogue_stock_is_there_and_empty_json_means_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STEPSTREAM_INITIAL_STOCK", raising=False)
    assert ReserveStockSettings().initial_stock == {"MUG": 100, "TEE": 100, "POSTER": 50, "RARE": 1}
    monkeypatch.setenv("STEPSTREAM_INITIAL_STOCK", "{}")
    assert ReserveStockSettings().initial_stock == {}


@pytest.mark.parametrize("bad", ['{"MUG": -1}', '{"MUG": "many"}', '["MUG"]', '{"": 3}'])
def test_initial_stock_that_is_not_units_per_sku_is_refused(
    monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv("STEPSTREAM_INITIAL_STOCK", bad)

    with pytest.raises(ValidationError, match="initial_stock"):
        ReserveStockSettings()


def test_the_carrier_defaults_to_the_simulator_and_its_settings_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert BookShipmentSettings().carrier_api_key.get_secret_value() == SIMULATOR_KEY
    monkeypatch.setenv("STEPSTREAM_CARRIER_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("STEPSTREAM_CARRIER_TIMEOUT_SECONDS", "1.5")
    monkeypatch.setenv("STEPSTREAM_CARRIER_MAX_INLINE_WAIT_SECONDS", "0")

    settings = BookShipmentSettings()

    assert (settings.carrier_url, settings.carrier_timeout_seconds) == (
        "http://127.0.0.1:9000",
        1.5,
    )
    assert settings.carrier_max_inline_wait_seconds == 0


def test_worker_settings_come_along(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPSTREAM_TOPIC_PREFIX", "shop")
    monkeypatch.setenv("STEPSTREAM_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")

    settings = EmitReceiptSettings()

    assert settings.topic_prefix == "shop"
    assert settings.kafka.bootstrap_servers == "127.0.0.1:19092"
