"""The Amazon States Language engine: no Kafka, no database, no clock of its own.

    machine = load_machine(definition)          # stepstream.asl.machine: validated, parsed
    runner = LocalRunner(machine, functions={...})   # stepstream.asl.local
    execution = runner.run({"statuscode": "200"})

The distributed orchestrator drives the same `Execution` (stepstream.asl.execution) with
real ports instead.
"""
