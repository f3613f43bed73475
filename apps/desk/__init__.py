"""The operators' web desk: the review queue, tickets with their execution graph and
history, decisions (single, with order corrections, in bulk), executions with stop,
users with roles, and the audit log. Served by `stepstream up` on 127.0.0.1.

Server-rendered pages (jinja2) over the same review desk the `stepstream review`
commands use; no asset comes from anywhere but this process.
"""
