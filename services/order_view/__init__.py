"""The orders view: a projection of history and receipt events into an orders table.

The process (``python -m services.order_view``) consumes the history topic (every batch
of events the orchestrator appends) and the receipts topic, and keeps one row per order
execution: status, path taken, error, retries, tracking number, receipt. The
``stepstream orders`` commands read the same tables.

Why not faust-streaming, the design card's stream processor: it was tried first (an
agent on the history topic writing a ``Table``, against the embedded broker) and it
works there, but it does not serve this view:

- A faust table lives in the worker's memory (its RocksDB store needs ``rocksdict``,
  not installed), with its changelog topic as the only durable copy. The embedded broker
  keeps everything in memory, so a broker restart (which the stack does by itself)
  loses the changelog and the history topic with it: the view of every finished order
  would be gone for good. Here the view is a database table that outlives the broker.
- The ``orders`` commands run in another process. Reading a faust table from outside
  takes an HTTP round trip to the worker's web server (one more port per stack, and no
  answer while the worker restarts) or a replay of the whole changelog per command;
  here they read the table directly.
- Start-up: with faust's default session timeout a worker waited about 31 s to join its
  group on the embedded broker, first start and restart alike (about 4 s with the
  timeout lowered to 6 s); this consumer joins in a few seconds with the repo's settings.

Idempotency does not need faust either: each row keeps the id of the last event it
applied, so a redelivered batch changes nothing, and a receipt is kept once per order.
"""
