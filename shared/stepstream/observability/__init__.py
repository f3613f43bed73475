"""What an operator sees of a running process: health, metrics, logs and traces.

Every process serves ``/healthz`` and ``/metrics`` (see ``server``) when
``STEPSTREAM_HEALTH_PORT`` is set; the parts it is made of register their own health
checks (``health.PROCESS_CHECKS``) and count what they do (``metrics``), so a new process
gets both by starting the server.
"""
