"""The entry points: the command line, the stack supervisor and the demo. Nothing imports them."""
