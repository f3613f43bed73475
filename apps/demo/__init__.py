"""`stepstream demo`: the embedded stack, one order down every path, and the books balanced."""
