"""Validation of Amazon States Language definitions, as strict as AWS, all errors at once.

``validate`` lists every problem (an empty list means valid), ``check`` raises them
together as one ``InvalidDefinition``, and ``load_definition`` parses JSON text first.
"""

from stepstream.asl.validation.errors import DefinitionError, InvalidDefinition
from stepstream.asl.validation.machine import check, load_definition, validate

__all__ = ["DefinitionError", "InvalidDefinition", "check", "load_definition", "validate"]
