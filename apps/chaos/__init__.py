"""`stepstream chaos`: many orders through a planned sequence of faults, judged by an audit
of the system's own records (see README, "Chaos runs")."""
