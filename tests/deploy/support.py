"""What the deployment files say: the image's contents, processes and the variables they read."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import AliasChoices, BaseModel
from pydantic_settings import BaseSettings

from apps.desk.settings import DeskSettings
from services.book_shipment.settings import BookShipmentSettings
from services.charge_payment.settings import ChargePaymentSettings
from services.emit_receipt.settings import EmitReceiptSettings
from services.orchestrator.app import OrchestratorSettings
from services.order_view.settings import OrderViewSettings
from services.reserve_stock.settings import ReserveStockSettings
from services.review_desk.settings import ReviewDeskSettings
from services.step_functions_api.settings import StepFunctionsApiSettings
from simulators.carrier.__main__ import CarrierSettings
from simulators.stripe_api.__main__ import StandInSettings
from stepstream.messaging.kafka import KafkaSettings
from stepstream.observability.settings import ObservabilitySettings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"

# Read with os.environ rather than settings: how commands and the review desk find the
# deployment (stepstream.api.connect), and the OpenTelemetry exporter's own variable.
DIRECT_READS = {
    "STEPSTREAM_STORE_URL",
    "STEPSTREAM_KAFKA_BOOTSTRAP_SERVERS",
    "STEPSTREAM_TOPIC_PREFIX",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
}

# The module each process runs, and the settings it reads.
PROCESS_SETTINGS: dict[str, list[type[BaseSettings]]] = {
    "services.orchestrator": [OrchestratorSettings, KafkaSettings],
    "services.charge_payment": [ChargePaymentSettings],
    "services.reserve_stock": [ReserveStockSettings],
    "services.book_shipment": [BookShipmentSettings],
    "services.emit_receipt": [EmitReceiptSettings],
    "services.review_desk": [ReviewDeskSettings],
    "services.order_view": [OrderViewSettings],
    "services.step_functions_api": [StepFunctionsApiSettings],
    "simulators.stripe_api": [StandInSettings],
    "simulators.carrier": [CarrierSettings],
    "apps.desk": [DeskSettings],
}


def variables_read(settings: type[BaseSettings]) -> set[str]:
    """The environment variables a settings class reads, nested settings included."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    names: set[str] = set()
    for name, field in settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {c.upper() for c in alias.choices if isinstance(c, str) and c.isupper()}
        names.add(f"{prefix}{name}".upper())
        kind: Any = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseSettings):
            names |= variables_read(kind)
        elif isinstance(kind, type) and issubclass(kind, BaseModel):
            pass  # read as one JSON value under its own name
    return names


def process_reads(module: str) -> set[str]:
    names = set(DIRECT_READS) | variables_read(ObservabilitySettings)
    for settings in PROCESS_SETTINGS[module]:
        names |= variables_read(settings)
    return names


def python_module(argv: list[str]) -> str | None:
    """The module of ``python -m MODULE ...``, if that is the command."""
    if len(argv) >= 3 and argv[0] in ("python", "python3") and argv[1] == "-m":
        return argv[2]
    return None


def image_layout(dockerfile: Path = DOCKERFILE) -> tuple[PurePosixPath, dict[PurePosixPath, Path]]:
    """(WORKDIR, image path -> build-context path) of every COPY in the Dockerfile."""
    workdir = PurePosixPath("/")
    copies: dict[PurePosixPath, Path] = {}
    for line in _instructions(dockerfile.read_text()):
        word, _, rest = line.partition(" ")
        if word.upper() == "WORKDIR":
            workdir = workdir / rest.strip()
        elif word.upper() == "COPY":
            *sources, dest = shlex.split(rest)
            target = workdir / dest
            for source in sources:
                inside = target / Path(source).name if dest.endswith("/") else target
                copies[inside] = ROOT / source
    return workdir, copies


def _instructions(text: str) -> Iterator[str]:
    joined = re.sub(r"\\\n", " ", text)
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


def in_context(path: PurePosixPath, copies: dict[PurePosixPath, Path]) -> Path | None:
    """Where an absolute path of the image comes from in the build context, if anywhere."""
    for image_path, source in copies.items():
        if path == image_path:
            return source
        if image_path in path.parents:
            return source / path.relative_to(image_path)
    return None


def module_file(
    module: str, copies: dict[PurePosixPath, Path], workdir: PurePosixPath
) -> Path | None:
    """The ``__main__.py`` that ``python -m module`` runs in the image, if it is there."""
    parts = module.split(".")
    package = {"stepstream": ["shared", "stepstream"]}.get(parts[0], [parts[0]])
    return in_context(workdir.joinpath(*package, *parts[1:], "__main__.py"), copies)


def absolute_paths(argv: Iterable[str]) -> list[PurePosixPath]:
    return [PurePosixPath(a) for a in argv if a.startswith("/app/")]
