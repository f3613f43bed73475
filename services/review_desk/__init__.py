"""The review desk: tickets of orders that failed in a way the definition does not know.

The process (``python -m services.review_desk``) takes tickets in from the human-review
topic into its own database, once per task token. Operators work through
``services.review_desk.desk.ReviewDesk`` (the ``stepstream review`` commands): list and
show tickets with their execution, and resolve one with retry, compensate or fail, which
answers the waiting task with ``{"decision", "note", "operator"}`` (and ``"changes"``,
corrections to the order checked by ``edits``, for a retry). The same database holds the
web desk's users and sessions (``accounts``), who holds which ticket, and the audit log
(``audit``); the web desk itself is an entry point, ``apps.desk``.
"""
