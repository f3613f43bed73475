"""A shipping carrier's REST API on 127.0.0.1, with faults set at run time for chaos tests.

Start it with ``CarrierSimulator`` (tests, the embedded stack) or
``python -m simulators.carrier --port N``; set its faults with
``simulators.carrier.admin``. The API, the admin endpoints and what each fault
does to the shipments are described in ``chaos`` and ``api``.
"""

from .faults import (
    ExponentialLatency,
    Fault,
    FaultSettings,
    FixedLatency,
    MalformedKind,
    UniformLatency,
)
from .models import Address, Parcel, ServiceLevel, Shipment, ShipmentRequest, ShipmentStatus
from .server import DEFAULT_API_KEY, CarrierSimulator
from .stats import Outcome, StatsReport

__all__ = [
    "DEFAULT_API_KEY",
    "Address",
    "CarrierSimulator",
    "ExponentialLatency",
    "Fault",
    "FaultSettings",
    "FixedLatency",
    "MalformedKind",
    "Outcome",
    "Parcel",
    "ServiceLevel",
    "Shipment",
    "ShipmentRequest",
    "ShipmentStatus",
    "StatsReport",
    "UniformLatency",
]
