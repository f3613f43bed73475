"""Stand-ins for the outside world (Stripe, a carrier), as real HTTP servers on 127.0.0.1."""
