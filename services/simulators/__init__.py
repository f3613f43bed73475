"""Stand-ins for the outside services stepstream talks to, as real HTTP servers on 127.0.0.1."""
