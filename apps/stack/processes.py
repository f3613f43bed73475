"""What `stepstream up` runs beside the orchestrator, and what it registers.

The process list and the simulators' ports belong to the stack; the shop's catalogue,
which the services and the commands also read, is in services.common.catalog.

The simulators stand in for what cannot be reached from here (Stripe, a carrier); the
services find them through the environment, so pointing charge-payment at real Stripe
test mode is a matter of STRIPE_API_KEY and no STEPSTREAM_STRIPE_API_BASE.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from services.common.catalog import PRODUCTS

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"

# Stand-ins for the outside world: they never talk to the broker.
SIMULATORS = ("carrier", "stripe")

SERVICES: list[tuple[str, str]] = [
    ("carrier", "simulators.carrier"),
    ("stripe", "simulators.stripe_api"),
    ("charge-payment", "services.charge_payment"),
    ("reserve-stock", "services.reserve_stock"),
    ("book-shipment", "services.book_shipment"),
    ("emit-receipt", "services.emit_receipt"),
    ("review-desk", "services.review_desk"),
    ("order-view", "services.order_view"),
    ("web-desk", "apps.desk"),
    ("step-functions-api", "services.step_functions_api"),
]

API = "step-functions-api"
# The Step Functions API's port: this setting when `stepstream up` has it, else one
# chosen free for the data folder and then kept (see simulator_urls).
API_PORT_SETTING = "STEPSTREAM_STEP_FUNCTIONS_PORT"


# Secrets a process takes from the environment of `stepstream up`; no other process sees
# them (the others get only the base variables and the STEPSTREAM_* settings).
SECRETS_FOR: dict[str, tuple[str, ...]] = {
    "charge-payment": ("STRIPE_API_KEY", "STEPSTREAM_STRIPE_API_KEY"),
    "stripe": ("STEPSTREAM_STRIPE_STANDIN_API_KEYS",),
    API: ("STEPSTREAM_AWS_SECRET_ACCESS_KEY",),
}


@dataclass(frozen=True)
class StateMachineSource:
    name: str
    definition: Path
    bindings: Path


STATE_MACHINES = [
    StateMachineSource(
        "Fulfilment", DEFINITIONS / "fulfilment.asl.json", DEFINITIONS / "fulfilment.bindings.json"
    )
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# Addresses chosen once per data folder: the simulators, the web desk, the Step Functions API.
LOCAL_SERVERS = ("carrier", "stripe", "desk", API)
# Ports that a setting in the environment of `stepstream up` fixes instead.
PORT_SETTINGS = {"desk": "STEPSTREAM_DESK_PORT", API: API_PORT_SETTING}


def simulator_urls(data_dir: Path) -> dict[str, str]:
    """The simulators', the web desk's and the Step Functions API's addresses for this
    data folder, chosen once and then kept (a port given by its setting, PORT_SETTINGS, wins)."""
    path = data_dir / "simulators.json"
    urls: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    for name, setting in PORT_SETTINGS.items():
        wanted = os.environ.get(setting)
        if wanted:
            urls[name] = f"http://127.0.0.1:{int(wanted)}"
    if all(name in urls for name in LOCAL_SERVERS) and path.exists():
        return urls
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name in LOCAL_SERVERS:
        urls.setdefault(name, f"http://127.0.0.1:{free_port()}")
    # Written before the stack makes its files private: private from the start.
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        file.write(json.dumps(urls))
    return urls


def stack_services(data_dir: Path) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """(name, python module) of each process, and the environment they all share."""
    urls = simulator_urls(data_dir)
    env = {
        "STEPSTREAM_CARRIER_PORT": urls["carrier"].rsplit(":", 1)[1],
        "STEPSTREAM_CARRIER_URL": urls["carrier"],
        "STEPSTREAM_STRIPE_STANDIN_PORT": urls["stripe"].rsplit(":", 1)[1],
        "STEPSTREAM_STRIPE_STANDIN_STATE_PATH": str(data_dir / "stripe-standin.db"),
        "STEPSTREAM_STRIPE_API_BASE": urls["stripe"],
        "STEPSTREAM_DESK_PORT": urls["desk"].rsplit(":", 1)[1],
        API_PORT_SETTING: urls[API].rsplit(":", 1)[1],
        "STEPSTREAM_INITIAL_STOCK": json.dumps(
            {sku: stock for sku, (_, stock) in PRODUCTS.items()}
        ),
    }
    return list(SERVICES), env
