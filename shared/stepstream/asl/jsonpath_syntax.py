"""The grammar of ASL paths: JSONPath text parsed once into frozen steps.

Step Functions evaluates paths with the Jayway JsonPath library, so this grammar follows
it: dot and bracket children, array indexes (negative ones count from the end), index
unions, ``[start:end]`` slices, ``*`` wildcards, ``..`` descent, ``[?(...)]`` filters and
a trailing function such as ``length()``. On top of that come the ASL additions: a
``$$`` root for the context object, a ``$name`` root for a workflow variable, and
backslash escapes in dot names (``$.store\\.book`` names the key ``store.book``).

Filter conditions are parsed here too (see :mod:`stepstream.asl.jsonpath_filter` for how
they are judged), because a filter holds paths and a path holds filters.
"""

from __future__ import annotations

import functools
import re
from typing import Any, NoReturn

from stepstream.asl.jsonpath_ast import (
    And,
    Child,
    Children,
    Comparison,
    Condition,
    Constant,
    Descendants,
    Exists,
    Filter,
    Function,
    Index,
    Indexes,
    Not,
    Operand,
    Or,
    Path,
    Regex,
    RootKind,
    Slice,
    Step,
    Wildcard,
)

FUNCTIONS = frozenset(
    {"length", "size", "min", "max", "avg", "stddev", "sum", "keys", "first", "last"}
)
COMPARISONS = ("===", "!==", "==", "!=", "<=", ">=", "=~", "<", ">")
WORD_OPERATORS = ("subsetof", "contains", "noneof", "anyof", "empty", "size", "nin", "in")

# Characters that end a dot name inside a filter, where operators follow paths directly.
_FILTER_NAME_STOPS = frozenset(" \t\r\n.[]()=!<>&|,~")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"\s*(-?\d+)\s*")


class PathSyntaxError(ValueError):
    """A path that does not parse; ``reason`` says what is wrong and where."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"Invalid JSONPath {path!r}: {reason}")
        self.path = path
        self.reason = reason


@functools.lru_cache(maxsize=4096)
def parse_path(text: str) -> Path:
    """Parse ``text`` into a :class:`Path`, or raise :class:`PathSyntaxError`."""
    if not isinstance(text, str):
        raise PathSyntaxError(repr(text), "a path must be a string")
    parser = _Parser(text)
    path = parser.path(in_filter=False)
    if parser.pos != len(text):
        parser.fail(f"unexpected {text[parser.pos]!r}")
    return path


def step_is_definite(step: Step, last: bool) -> bool:
    """Whether ``step`` (the last one when ``last``) picks at most one node, as Jayway decides."""
    if isinstance(step, Child | Index | Function):
        return True
    return isinstance(step, Children) and last


def _build(text: str, root: RootKind, variable: str | None, steps: list[Step]) -> Path:
    last = len(steps) - 1
    # A trailing function always yields one value, whatever the steps before it found.
    definite = bool(steps) and isinstance(steps[-1], Function)
    definite = definite or all(step_is_definite(step, i == last) for i, step in enumerate(steps))
    keys: list[str | int] = []
    for step in steps:
        if isinstance(step, Child):
            keys.append(step.name)
        elif isinstance(step, Index):
            keys.append(step.index)
    simple = len(keys) == len(steps)
    return Path(
        text, root, variable, tuple(steps), definite, simple, tuple(keys) if simple else None
    )


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, reason: str) -> NoReturn:
        raise PathSyntaxError(self.text, f"{reason} at position {self.pos}")

    def peek(self, offset: int = 0) -> str:
        at = self.pos + offset
        return self.text[at] if at < len(self.text) else ""

    def skip_spaces(self) -> None:
        while self.peek() in (" ", "\t", "\r", "\n"):
            self.pos += 1

    def expect(self, char: str) -> None:
        if self.peek() != char:
            found = repr(self.peek()) if self.peek() else "the end"
            self.fail(f"expected {char!r} but found {found}")
        self.pos += 1

    # -- paths -----------------------------------------------------------------------

    def path(self, *, in_filter: bool) -> Path:
        start = self.pos
        root, variable = self.root(in_filter=in_filter)
        steps: list[Step] = []
        while self.peek() in (".", "["):
            if steps and isinstance(steps[-1], Function):
                self.fail("a function such as length() must be the last step")
            steps.append(self.step(in_filter=in_filter))
        return _build(self.text[start : self.pos], root, variable, steps)

    def root(self, *, in_filter: bool) -> tuple[RootKind, str | None]:
        char = self.peek()
        if in_filter and char == "@":
            self.pos += 1
            return "current", None
        if char != "$":
            self.fail("a path must start with '$'")
        self.pos += 1
        if self.peek() == "$":
            if in_filter:
                self.fail("the context object '$$' cannot be used inside a filter")
            self.pos += 1
            return "context", None
        if self.peek() in ("", ".", "[") or (in_filter and self.peek() in _FILTER_NAME_STOPS):
            return "data", None
        if in_filter:
            self.fail("variables cannot be used inside a filter")
        return "variable", self.variable_name()

    def variable_name(self) -> str:
        start = self.pos
        while self.peek() and self.peek() not in (".", "["):
            self.pos += 1
        name = self.text[start : self.pos]
        if not name.isidentifier():
            self.pos = start
            self.fail(f"{name!r} is not a valid variable name")
        return name

    def step(self, *, in_filter: bool) -> Step:
        if self.peek() == "[":
            return self.bracket()
        self.pos += 1  # the dot
        if self.peek() == ".":
            self.pos += 1
            return Descendants(self.after_dot(in_filter=in_filter, descent=True))
        return self.after_dot(in_filter=in_filter, descent=False)

    def after_dot(self, *, in_filter: bool, descent: bool) -> Step:
        char = self.peek()
        if char == "*":
            self.pos += 1
            return Wildcard()
        if char == "[":
            return self.bracket()
        name = self.dot_name(in_filter=in_filter)
        if self.peek() == "(":
            if descent:
                self.fail("a function cannot follow '..'")
            return self.function(name)
        return Child(name)

    def dot_name(self, *, in_filter: bool) -> str:
        chars: list[str] = []
        start = self.pos
        while self.peek():
            char = self.peek()
            if char == "\\":
                if self.pos + 1 >= len(self.text):
                    self.fail("a backslash must escape a character")
                chars.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char in (".", "[", "(") or (in_filter and char in _FILTER_NAME_STOPS):
                break
            if char.isspace():
                self.fail("use bracket notation ['my name'] for a name with blanks")
            chars.append(char)
            self.pos += 1
        if self.pos == start:
            self.fail("expected a name after '.'")
        return "".join(chars)

    def function(self, name: str) -> Function:
        if name not in FUNCTIONS:
            self.fail(f"unknown function {name}(); known: {', '.join(sorted(FUNCTIONS))}")
        self.expect("(")
        self.skip_spaces()
        self.expect(")")
        return Function(name)

    def bracket(self) -> Step:
        self.expect("[")
        self.skip_spaces()
        char = self.peek()
        step: Step
        if char in ("'", '"'):
            step = self.quoted_names()
        elif char == "*":
            self.pos += 1
            step = Wildcard()
        elif char == "?":
            self.pos += 1
            self.expect("(")
            step = Filter(self.condition())
            self.skip_spaces()
            self.expect(")")
        elif char and (char in "-:" or char.isdigit()):
            step = self.indexes()
        else:
            self.fail("expected a quoted name, an index, a slice, '*' or a filter inside '[ ]'")
        self.skip_spaces()
        self.expect("]")
        return step

    def quoted_names(self) -> Step:
        names = [self.quoted()]
        self.skip_spaces()
        while self.peek() == ",":
            self.pos += 1
            self.skip_spaces()
            if self.peek() not in ("'", '"'):
                self.fail("expected a quoted name after ','")
            names.append(self.quoted())
            self.skip_spaces()
        return Child(names[0]) if len(names) == 1 else Children(tuple(names))

    def quoted(self) -> str:
        quote = self.peek()
        self.pos += 1
        chars: list[str] = []
        while True:
            char = self.peek()
            if not char:
                self.fail(f"unterminated string, missing closing {quote}")
            self.pos += 1
            if char == quote:
                return "".join(chars)
            if char == "\\":
                if not self.peek():
                    self.fail("a backslash must escape a character")
                char = self.peek()
                self.pos += 1
            chars.append(char)

    def indexes(self) -> Step:
        end = self.text.find("]", self.pos)
        if end < 0:
            self.fail("missing ']'")
        body = self.text[self.pos : end]
        if ":" in body:
            step: Step = self.slice(body)
        else:
            numbers = [self.integer(part) for part in body.split(",")]
            step = Index(numbers[0]) if len(numbers) == 1 else Indexes(tuple(numbers))
        self.pos = end
        return step

    def slice(self, body: str) -> Slice:
        parts = body.split(":")
        if len(parts) != 2:
            self.fail("a slice takes the form [start:end]; a step is not supported")
        start, end = (None if not part.strip() else self.integer(part) for part in parts)
        return Slice(start, end)

    def integer(self, text: str) -> int:
        match = _INTEGER.fullmatch(text)
        if match is None:
            self.fail(f"{text.strip()!r} is not an integer index")
        return int(match.group(1))

    # -- filters -----------------------------------------------------------------------

    def condition(self) -> Condition:
        left = self.conjunction()
        while self.match("||"):
            left = Or(left, self.conjunction())
        return left

    def conjunction(self) -> Condition:
        left = self.negation()
        while self.match("&&"):
            left = And(left, self.negation())
        return left

    def negation(self) -> Condition:
        self.skip_spaces()
        if self.peek() == "!" and self.peek(1) != "=":
            self.pos += 1
            return Not(self.negation())
        return self.primary()

    def primary(self) -> Condition:
        self.skip_spaces()
        if self.peek() == "(":
            self.pos += 1
            inner = self.condition()
            self.skip_spaces()
            self.expect(")")
            return inner
        left = self.operand(regex=False)
        operator = self.operator()
        if operator is None:
            if isinstance(left, Path):
                return Exists(left)
            if isinstance(left, Constant) and isinstance(left.value, bool):
                return left
            self.fail("expected a comparison operator")
        return Comparison(left, operator, self.operand(regex=operator == "=~"))

    def match(self, token: str) -> bool:
        self.skip_spaces()
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def operator(self) -> str | None:
        self.skip_spaces()
        for symbol in COMPARISONS:
            if self.text.startswith(symbol, self.pos):
                self.pos += len(symbol)
                return symbol
        for word in WORD_OPERATORS:
            after = self.pos + len(word)
            if self.text.startswith(word, self.pos) and not self.text[after : after + 1].isalnum():
                self.pos = after
                return word
        return None

    def operand(self, *, regex: bool) -> Operand:
        self.skip_spaces()
        char = self.peek()
        if char in ("@", "$"):
            return self.path(in_filter=True)
        if regex and char == "/":
            return self.regex()
        return Constant(self.literal())

    def regex(self) -> Regex:
        self.pos += 1
        start = self.pos
        while self.peek() and self.peek() != "/":
            self.pos += 2 if self.peek() == "\\" else 1
        if not self.peek():
            self.fail("unterminated regular expression, missing closing '/'")
        source = self.text[start : self.pos]
        self.pos += 1
        flags = 0
        while self.peek().isalpha():
            flags |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}.get(
                self.peek(), 0
            )
            self.pos += 1
        try:
            return Regex(re.compile(source, flags))
        except re.error as error:
            self.fail(f"invalid regular expression /{source}/: {error}")

    def literal(self) -> Any:
        self.skip_spaces()
        char = self.peek()
        if char in ("'", '"'):
            return self.quoted()
        if char == "[":
            return self.sequence("[", "]", self.literal)
        if char == "{":
            return dict(self.sequence("{", "}", self.member))
        for word, value in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return value
        number = _NUMBER.match(self.text, self.pos)
        if number is None:
            self.fail("expected a path, a string, a number, true, false, null or a list")
        self.pos = number.end()
        text = number.group()
        return float(text) if any(mark in text for mark in ".eE") else int(text)

    def member(self) -> tuple[str, Any]:
        self.skip_spaces()
        if self.peek() not in ("'", '"'):
            self.fail("expected a quoted key")
        key = self.quoted()
        self.skip_spaces()
        self.expect(":")
        return key, self.literal()

    def sequence(self, opening: str, closing: str, item: Any) -> list[Any]:
        self.expect(opening)
        items: list[Any] = []
        self.skip_spaces()
        if self.peek() == closing:
            self.pos += 1
            return items
        while True:
            items.append(item())
            self.skip_spaces()
            if self.peek() == closing:
                self.pos += 1
                return items
            self.expect(",")
