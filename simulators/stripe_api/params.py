"""Reading typed values out of decoded parameters, with Stripe's validation errors.

Every endpoint reads what it knows through a ``ParamReader`` and then calls ``finish``,
which refuses whatever was left over, as Stripe refuses unknown parameters. All errors
raised here are parameter errors and so are never stored for idempotent replay.
"""

from __future__ import annotations

from collections.abc import Collection

from .errors import invalid
from .forms import Params, ParamValue

MAX_METADATA_KEYS = 50
MAX_METADATA_KEY_LENGTH = 40
MAX_METADATA_VALUE_LENGTH = 500


class ParamReader:
    """Typed access to one request's parameters (or to one nested hash of them)."""

    def __init__(self, params: Params, prefix: str = "") -> None:
        self._params = params
        self._prefix = prefix
        self._read: set[str] = set()

    def _name(self, key: str) -> str:
        return f"{self._prefix}[{key}]" if self._prefix else key

    def _raw(self, key: str) -> ParamValue | None:
        self._read.add(key)
        return self._params.get(key)

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self._raw(key)
        if value is None:
            if required:
                raise invalid(
                    f"Missing required param: {self._name(key)}.",
                    code="parameter_missing",
                    param=self._name(key),
                )
            return None
        if not isinstance(value, str):
            raise invalid(
                f"Invalid {self._name(key)}: a string was expected.", param=self._name(key)
            )
        return value

    def integer(self, key: str, *, required: bool = False) -> int | None:
        value = self.text(key, required=required)
        if value is None or (value == "" and not required):
            return None
        try:
            return int(value)
        except ValueError:
            raise invalid(
                f"Invalid integer: {value}",
                code="parameter_invalid_integer",
                param=self._name(key),
            ) from None

    def boolean(self, key: str) -> bool | None:
        value = self.text(key)
        if value is None or value == "":
            return None
        if value not in ("true", "false"):
            raise invalid(
                f"Invalid boolean: {value}", code="parameter_invalid_boolean", param=self._name(key)
            )
        return value == "true"

    def choice(self, key: str, choices: Collection[str]) -> str | None:
        value = self.text(key)
        if value is None or value == "":
            return None
        if value not in choices:
            allowed = ", ".join(sorted(choices))
            raise invalid(
                f"Invalid {self._name(key)}: must be one of {allowed}", param=self._name(key)
            )
        return value

    def nested(self, key: str) -> ParamReader | None:
        value = self._raw(key)
        if value is None or value == "":
            return None
        if not isinstance(value, dict):
            raise invalid(f"Invalid {self._name(key)}: a hash was expected.", param=self._name(key))
        return ParamReader(value, self._name(key))

    def strings(self, key: str) -> list[str]:
        value = self._raw(key)
        if value is None or value == "":
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise invalid(
                f"Invalid array: {self._name(key)} must be a list of strings.",
                param=self._name(key),
            )
        return [v for v in value if isinstance(v, str)]

    def metadata(self) -> dict[str, str] | None:
        """``metadata[...]`` as a dict; an empty value means 'unset this key'."""
        value = self._raw("metadata")
        if value is None:
            return None
        if value == "":
            return {}
        if not isinstance(value, dict):
            raise invalid("Invalid metadata: a hash was expected.", param="metadata")
        return _checked_metadata(value)

    def passthrough(self, key: str) -> ParamValue | None:
        """A parameter accepted and kept as sent, for fields the stand-in does not act on."""
        return self._raw(key)

    def finish(self) -> None:
        """Refuse any parameter nobody read."""
        for key in self._params:
            if key not in self._read:
                raise invalid(
                    f"Received unknown parameter: {self._name(key)}",
                    code="parameter_unknown",
                    param=self._name(key),
                )


def _checked_metadata(value: dict[str, ParamValue]) -> dict[str, str]:
    if len(value) > MAX_METADATA_KEYS:
        raise invalid(
            f"Invalid metadata: at most {MAX_METADATA_KEYS} keys are allowed.", param="metadata"
        )
    result: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(item, str):
            raise invalid(f"Invalid metadata[{key}]: a string was expected.", param="metadata")
        if len(key) > MAX_METADATA_KEY_LENGTH:
            raise invalid(
                f"Metadata keys can be at most {MAX_METADATA_KEY_LENGTH} characters: {key!r}",
                param=f"metadata[{key}]",
            )
        if len(item) > MAX_METADATA_VALUE_LENGTH:
            raise invalid(
                f"Metadata values can be at most {MAX_METADATA_VALUE_LENGTH} characters "
                f"(metadata[{key}]).",
                param=f"metadata[{key}]",
            )
        result[key] = item
    return result


def merge_metadata(current: dict[str, str], update: dict[str, str] | None) -> dict[str, str]:
    """Apply a metadata update as Stripe does: keys are set, and empty values unset them."""
    if update is None:
        return dict(current)
    if not update:
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
