"""Which fields each state type allows, per query language."""

from __future__ import annotations

from stepstream.asl.validation.values import JSONATA, JSONPATH

STATE_TYPES = ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")

# Types that move on by Next or stop by End: true; the others choose (Choice) or stop.
FLOW_TYPES = frozenset({"Pass", "Task", "Wait", "Parallel", "Map"})
# Types that may carry Retry and Catch.
GUARDED_TYPES = frozenset({"Task", "Parallel", "Map"})

_COMMON = frozenset({"Type", "Comment", "QueryLanguage"})
_FLOW = frozenset({"Next", "End"})
_IO = frozenset({"InputPath", "OutputPath"})
_HANDLERS = frozenset({"Retry", "Catch"})
_RESULTS = frozenset({"ResultSelector", "ResultPath"})

_OWN: dict[str, dict[str, frozenset[str]]] = {
    "Pass": {
        JSONPATH: _IO | _FLOW | {"Parameters", "Result", "ResultPath", "Assign"},
        JSONATA: _FLOW | {"Output", "Assign"},
    },
    "Task": {
        JSONPATH: _IO | _FLOW | _HANDLERS | _RESULTS
        | {
            "Resource", "Parameters", "Credentials", "Assign",
            "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath",
        },
        JSONATA: _FLOW | _HANDLERS
        | {
            "Resource", "Arguments", "Output", "Credentials", "Assign",
            "TimeoutSeconds", "HeartbeatSeconds",
        },
    },
    "Choice": {
        JSONPATH: _IO | {"Choices", "Default", "Assign"},
        JSONATA: frozenset({"Choices", "Default", "Output", "Assign"}),
    },
    "Wait": {
        JSONPATH: _IO | _FLOW | {"Seconds", "SecondsPath", "Timestamp", "TimestampPath", "Assign"},
        JSONATA: _FLOW | {"Seconds", "Timestamp", "Output", "Assign"},
    },
    "Succeed": {JSONPATH: _IO, JSONATA: frozenset({"Output"})},
    "Fail": {
        JSONPATH: frozenset({"Error", "ErrorPath", "Cause", "CausePath"}),
        JSONATA: frozenset({"Error", "Cause"}),
    },
    "Parallel": {
        JSONPATH: _IO | _FLOW | _HANDLERS | _RESULTS | {"Branches", "Parameters", "Assign"},
        JSONATA: _FLOW | _HANDLERS | {"Branches", "Arguments", "Output", "Assign"},
    },
    "Map": {
        JSONPATH: _IO | _FLOW | _HANDLERS | _RESULTS
        | {
            "ItemProcessor", "Iterator", "ItemsPath", "ItemSelector", "Parameters", "Assign",
            "MaxConcurrency", "MaxConcurrencyPath",
            "ToleratedFailureCount", "ToleratedFailureCountPath",
            "ToleratedFailurePercentage", "ToleratedFailurePercentagePath",
            "Label", "ItemBatcher", "ItemReader", "ResultWriter",
        },
        JSONATA: _FLOW | _HANDLERS
        | {
            "ItemProcessor", "Items", "ItemSelector", "Output", "Assign",
            "MaxConcurrency", "ToleratedFailureCount", "ToleratedFailurePercentage",
            "Label", "ItemBatcher", "ItemReader", "ResultWriter",
        },
    },
}  # fmt: skip

# Fields of a Distributed Map (ItemProcessor.ProcessorConfig.Mode DISTRIBUTED).
DISTRIBUTED_ONLY = frozenset({"ItemReader", "ItemBatcher", "ResultWriter", "Label"})
# Of those, the ones that need S3, which is not here.
NEEDS_S3 = {"ItemReader": "reads the items from S3", "ResultWriter": "writes the results to S3"}

_ANY_STATE = frozenset().union(
    *(fields for by_lang in _OWN.values() for fields in by_lang.values())
)

_TERMINAL_HINTS = {
    "Succeed": "a Succeed state ends its scope; it cannot have {field}",
    "Fail": "a Fail state ends the execution; it cannot have {field}",
    "Choice": "a Choice state moves on through Choices and Default; it cannot have {field}",
}

ERROR_HANDLING = "{field} is allowed only on Task, Parallel and Map states, not on a {type} state"


def allowed(state_type: str, language: str) -> frozenset[str]:
    """The fields a state of this type may hold in this query language."""
    return _COMMON | _OWN[state_type][language]


def why_not_allowed(field: str, state_type: str, language: str) -> str:
    """A plain explanation of why ``field`` cannot appear in this state."""
    other = JSONATA if language == JSONPATH else JSONPATH
    if field in _OWN[state_type][other]:
        return (
            f"field '{field}' is {other}-only and not allowed in a {language} state"
            f" (this state's query language is {language})"
        )
    if field in _FLOW and state_type in _TERMINAL_HINTS:
        return _TERMINAL_HINTS[state_type].format(field=field)
    if field in _HANDLERS:
        return ERROR_HANDLING.format(field=field, type=state_type)
    if field in _ANY_STATE:
        return f"field '{field}' is not allowed in a {state_type} state"
    return f"unknown field '{field}' in a {state_type} state"


MACHINE_FIELDS = frozenset(
    {"Comment", "Version", "TimeoutSeconds", "QueryLanguage", "StartAt", "States"}
)
BRANCH_FIELDS = frozenset({"Comment", "QueryLanguage", "StartAt", "States"})
PROCESSOR_FIELDS = frozenset({"Comment", "ProcessorConfig", "StartAt", "States"})

RETRIER_FIELDS = frozenset(
    {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds",
     "JitterStrategy", "Comment"}
)  # fmt: skip
CATCHER_FIELDS = {
    JSONPATH: frozenset({"ErrorEquals", "Next", "ResultPath", "Assign", "Comment"}),
    JSONATA: frozenset({"ErrorEquals", "Next", "Output", "Assign", "Comment"}),
}
CHOICE_RULE_FIELDS_JSONATA = frozenset({"Condition", "Next", "Assign", "Output", "Comment"})
