#!/bin/sh
# Registers (or updates) the Fulfilment state machine; a new version only when it changed.
set -eu
exec stepstream create-state-machine Fulfilment \
    --definition /app/definitions/fulfilment.asl.json \
    --bindings /app/definitions/fulfilment.bindings.json
