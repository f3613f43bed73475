"""The Step Functions API over a running stepstream stack, in Step Functions' names and shapes."""
