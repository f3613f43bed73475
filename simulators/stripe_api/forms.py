"""Decoding Stripe's form encoding into nested parameters.

Stripe's v1 API takes ``application/x-www-form-urlencoded`` bodies whose keys carry the
nesting in brackets: ``metadata[order_id]=o-1``, ``expand[0]=latest_charge`` (the Python
SDK numbers list items) or ``expand[]=latest_charge`` (curl users write this), and
``automatic_payment_methods[enabled]=true``. Values stay text; each endpoint reads them
into the types it needs.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from .errors import invalid

ParamValue = str | dict[str, "ParamValue"] | list["ParamValue"]
Params = dict[str, ParamValue]

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")
_APPEND = ""


def decode(text: str) -> Params:
    """Nested parameters from a form-encoded string (a body or a query string)."""
    tree: dict[str, object] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        _insert(tree, _split_key(key), value, key)
    result = _finish(tree)
    assert isinstance(result, dict)
    return result


def _split_key(key: str) -> list[str]:
    match = _KEY.match(key)
    if match is None:
        raise invalid(f"Invalid parameter name: {key!r}", param=key)
    return [match.group(1), *_PART.findall(match.group(2))]


def _insert(tree: dict[str, object], parts: list[str], value: str, key: str) -> None:
    node = tree
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if part == _APPEND:
            # ``a[]`` appends: give it the next free position among its siblings.
            part = str(_next_index(node))
        if last:
            if isinstance(node.get(part), dict):
                raise invalid(f"Invalid value for {key}: a hash was expected.", param=key)
            node[part] = value
            return
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise invalid(
                f"Invalid {_display(parts[: depth + 1])}: sent both as a value and a hash.",
                param=_display(parts[: depth + 1]),
            )
        node = child


def _next_index(node: dict[str, object]) -> int:
    indices = [int(k) for k in node if k.isdigit()]
    return max(indices) + 1 if indices else 0


def _finish(node: object) -> ParamValue:
    """Turn the raw tree into params, making a dict whose keys are all digits a list."""
    if isinstance(node, str):
        return node
    assert isinstance(node, dict)
    if node and all(key.isdigit() for key in node):
        return [_finish(node[key]) for key in sorted(node, key=int)]
    return {key: _finish(child) for key, child in node.items()}


def _display(parts: list[str]) -> str:
    return parts[0] + "".join(f"[{part}]" for part in parts[1:])
