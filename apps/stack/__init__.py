"""The embedded stack: the broker and every process of stepstream on one machine, supervised."""
