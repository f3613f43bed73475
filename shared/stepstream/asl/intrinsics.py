"""Intrinsic functions in JSONPath mode: ``States.Format('{}', $.name)`` and friends.

An invocation is parsed once (and cached) into an :class:`IntrinsicCall` tree whose
arguments are literals (strings in single quotes, numbers, ``true``, ``false``, ``null``),
paths (``$...`` data, ``$$...`` context, ``$name...`` variables) or nested calls, at most
ten deep. Parsing checks the function names, their argument counts, string escapes and
literal Format templates, so a definition can be judged before it runs.

Everything that goes wrong while an intrinsic runs (wrong argument types, an argument
path that matches nothing) raises ``StatesError(States.IntrinsicFailure)``: the name the
Amazon States Language gives to an intrinsic that failed. The cause follows Step
Functions' wording: "The function '<call>' had the following error: ...".
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, TypeAlias

from stepstream.asl import errors
from stepstream.asl.errors import StatesError
from stepstream.asl.intrinsic_arguments import InvalidArguments
from stepstream.asl.intrinsic_functions import FUNCTIONS, template_pieces
from stepstream.asl.json_values import compact_json
from stepstream.asl.jsonpath import PathNotFound, compile_path, path_error
from stepstream.asl.ports import Entropy

__all__ = [
    "INTRINSIC_ERROR",
    "IntrinsicCall",
    "IntrinsicSyntaxError",
    "LiteralArgument",
    "PathArgument",
    "compile_intrinsic",
    "evaluate_intrinsic",
    "is_intrinsic",
    "parse_intrinsic",
]

# The error every runtime failure of an intrinsic carries.
INTRINSIC_ERROR = errors.INTRINSIC_FAILURE
MAX_NESTING = 10

_LOOKS_LIKE_CALL = re.compile(r"States\.[A-Za-z0-9]+\s*\(.*\)\s*", re.DOTALL)
_NAME = re.compile(r"States\.[A-Za-z0-9]+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_ESCAPABLE = ("'", "{", "}", "\\")


class IntrinsicSyntaxError(ValueError):
    """An intrinsic invocation that does not parse, or calls a function wrongly."""

    def __init__(self, expr: str, reason: str) -> None:
        super().__init__(f"Invalid intrinsic function call {expr!r}: {reason}")
        self.expr = expr
        self.reason = reason


@dataclass(frozen=True, slots=True)
class LiteralArgument:
    """A literal; for a string, ``raw`` keeps the text between the quotes, escapes included."""

    value: Any
    raw: str | None = None


@dataclass(frozen=True, slots=True)
class PathArgument:
    path: str


@dataclass(frozen=True, slots=True)
class IntrinsicCall:
    name: str
    arguments: tuple[Argument, ...]
    text: str


Argument: TypeAlias = LiteralArgument | PathArgument | IntrinsicCall


def is_intrinsic(expr: str) -> bool:
    """Whether ``expr`` is meant as an intrinsic call (it may still fail to parse)."""
    return isinstance(expr, str) and _LOOKS_LIKE_CALL.fullmatch(expr) is not None


@functools.lru_cache(maxsize=2048)
def parse_intrinsic(expr: str) -> IntrinsicCall:
    """Parse ``expr`` into an :class:`IntrinsicCall`, or raise :class:`IntrinsicSyntaxError`."""
    if not isinstance(expr, str):
        raise IntrinsicSyntaxError(repr(expr), "an intrinsic function call must be a string")
    parser = _Parser(expr)
    parser.skip_spaces()
    call = parser.call(depth=1)
    parser.skip_spaces()
    if parser.pos != len(expr):
        parser.fail("unexpected text after the closing ')'")
    return call


def evaluate_intrinsic(
    expr: str, *, data: Any, context: Any, variables: Mapping[str, Any], entropy: Entropy
) -> Any:
    """The value of the intrinsic call ``expr``; raises ``StatesError`` when it fails."""
    return compile_intrinsic(expr)(data, lambda: context, variables, entropy)


# What a compiled call or argument computes from the data, the context object (a function
# giving it: it is built only when a $$ path reads it), the variables and the random source.
ContextSource = Callable[[], Any]
Compiled = Callable[[Any, ContextSource, Mapping[str, Any], Entropy], Any]


@functools.lru_cache(maxsize=2048)
def compile_intrinsic(expr: str) -> Compiled:
    """``expr`` parsed and turned into a function once, for every state transition after.

    A call that does not parse compiles to a function raising States.IntrinsicFailure,
    so the failure still happens where the call is evaluated.
    """
    try:
        call = parse_intrinsic(expr)
    except IntrinsicSyntaxError as error:
        failure = StatesError(INTRINSIC_ERROR, str(error))

        def fail(
            data: Any, context: ContextSource, variables: Mapping[str, Any], entropy: Entropy
        ) -> Any:
            raise failure

        return fail
    return _compile_call(expr, call)


def _compile_call(expr: str, call: IntrinsicCall) -> Compiled:
    implementation = FUNCTIONS[call.name].implementation
    arguments = tuple(
        _compile_argument(expr, call, position) for position in range(len(call.arguments))
    )
    name = call.name

    def run(
        data: Any, context: ContextSource, variables: Mapping[str, Any], entropy: Entropy
    ) -> Any:
        values = [argument(data, context, variables, entropy) for argument in arguments]
        try:
            return implementation(values, entropy)
        except InvalidArguments as error:
            raise _failure(expr, f"Invalid arguments in {name}: {error}") from None

    return run


def _compile_argument(expr: str, call: IntrinsicCall, position: int) -> Compiled:
    argument = call.arguments[position]
    if isinstance(argument, IntrinsicCall):
        return _compile_call(expr, argument)
    if isinstance(argument, PathArgument):
        return _compile_lookup(expr, argument.path)
    # A Format template keeps its escapes until it is filled in.
    raw = call.name == "States.Format" and position == 0 and argument.raw is not None
    value = argument.raw if raw else argument.value
    return lambda data, context, variables, entropy: value


def _compile_lookup(expr: str, path: str) -> Compiled:
    select = compile_path(path)
    from_context = path.startswith("$$")

    def lookup(
        data: Any, context: ContextSource, variables: Mapping[str, Any], entropy: Entropy
    ) -> Any:
        try:
            return select(data, context() if from_context else None, variables)
        except PathNotFound as error:
            if from_context:
                where = f"in the context object '{compact_json(context())}'"
            elif path.startswith(("$.", "$[")) or path == "$":
                where = f"in the input '{compact_json(data)}'"
            else:
                where = f"({error.reason})"
            detail = f"The JsonPath argument for the field '{path}' could not be found {where}"
            raise _failure(expr, detail) from None

    return lookup


def _failure(expr: str, detail: str) -> StatesError:
    return StatesError(INTRINSIC_ERROR, f"The function '{expr}' had the following error: {detail}")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, reason: str, *, at: int | None = None) -> NoReturn:
        position = self.pos if at is None else at
        raise IntrinsicSyntaxError(self.text, f"{reason} (at position {position})")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_spaces(self) -> None:
        while self.peek().isspace():
            self.pos += 1

    def call(self, depth: int) -> IntrinsicCall:
        start = self.pos
        match = _NAME.match(self.text, self.pos)
        if match is None:
            self.fail("expected an intrinsic function such as States.Format(...)")
        name = match.group()
        if name not in FUNCTIONS:
            self.fail(f"unknown intrinsic function {name}")
        if depth > MAX_NESTING:
            self.fail(f"intrinsic functions can be nested at most {MAX_NESTING} deep")
        self.pos = match.end()
        self.skip_spaces()
        if self.peek() != "(":
            self.fail(f"expected '(' after {name}")
        self.pos += 1
        arguments = self.arguments(depth)
        call = IntrinsicCall(name, tuple(arguments), self.text[start : self.pos])
        self.check(call, start)
        return call

    def arguments(self, depth: int) -> list[Argument]:
        arguments: list[Argument] = []
        self.skip_spaces()
        if self.peek() == ")":
            self.pos += 1
            return arguments
        while True:
            arguments.append(self.argument(depth))
            self.skip_spaces()
            if self.peek() == ")":
                self.pos += 1
                return arguments
            if self.peek() != ",":
                self.fail("expected ',' or ')' after an argument")
            self.pos += 1

    def check(self, call: IntrinsicCall, start: int) -> None:
        signature = FUNCTIONS[call.name]
        count = len(call.arguments)
        if count < signature.minimum or (
            signature.maximum is not None and count > signature.maximum
        ):
            arity = _arity(signature.minimum, signature.maximum)
            self.fail(f"{call.name} takes {arity}, got {count}", at=start)
        if call.name == "States.Format":
            template = call.arguments[0]
            if isinstance(template, LiteralArgument) and template.raw is not None:
                self.check_template(template.raw, count - 1, start)
            elif isinstance(template, LiteralArgument):
                self.fail("the first argument of States.Format must be a string", at=start)

    def check_template(self, template: str, values: int, start: int) -> None:
        try:
            holes = template_pieces(template).count(None)
        except InvalidArguments as error:
            self.fail(f"invalid States.Format template: {error}", at=start)
        if holes != values:
            reason = f"the States.Format template has {holes} '{{}}' but {values} values follow it"
            self.fail(reason, at=start)

    def argument(self, depth: int) -> Argument:
        self.skip_spaces()
        char = self.peek()
        if char == "'":
            return self.string()
        if char == "$":
            return self.path()
        if self.text.startswith("States.", self.pos):
            return self.call(depth + 1)
        return LiteralArgument(self.scalar())

    def string(self) -> LiteralArgument:
        self.pos += 1
        start = self.pos
        chars: list[str] = []
        while True:
            char = self.peek()
            if not char:
                self.fail("unterminated string: missing the closing quote")
            if char == "'":
                break
            if char == "\\":
                escaped = self.text[self.pos + 1 : self.pos + 2]
                if escaped not in _ESCAPABLE:
                    self.fail("a backslash must escape one of ' { } \\")
                chars.append(escaped)
                self.pos += 2
                continue
            chars.append(char)
            self.pos += 1
        raw = self.text[start : self.pos]
        self.pos += 1
        return LiteralArgument("".join(chars), raw)

    def path(self) -> PathArgument:
        start = self.pos
        depth = 0
        quote = ""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quote:
                if char == "\\":
                    self.pos += 1
                elif char == quote:
                    quote = ""
            elif char in ("'", '"') and depth:
                quote = char
            elif char in "[(":
                depth += 1
            elif char in "])":
                if not depth:
                    break
                depth -= 1
            elif not depth and (char == "," or char.isspace()):
                break
            self.pos += 1
        text = self.text[start : self.pos]
        reason = path_error(text)
        if reason is not None:
            self.fail(f"invalid path {text!r}: {reason}")
        return PathArgument(text)

    def scalar(self) -> Any:
        for word, value in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, self.pos) and not self._word_continues(len(word)):
                self.pos += len(word)
                return value
        match = _NUMBER.match(self.text, self.pos)
        if match is None or self._word_continues(match.end() - self.pos):
            self.fail(
                "expected a string in single quotes, a number, true, false, null, a path or a call"
            )
        text = match.group()
        number = float(text) if any(mark in text for mark in ".eE") else int(text)
        if not math.isfinite(number):
            self.fail(f"the number {text} is too large")
        self.pos = match.end()
        return number

    def _word_continues(self, length: int) -> bool:
        following = self.text[self.pos + length : self.pos + length + 1]
        return following.isalnum() or following in ("_", ".", "$")


def _arity(minimum: int, maximum: int | None) -> str:
    if maximum is None:
        return f"at least {minimum} argument{'s' if minimum != 1 else ''}"
    if minimum == maximum:
        return f"{minimum} argument{'s' if minimum != 1 else ''}"
    return f"{minimum} to {maximum} arguments"
