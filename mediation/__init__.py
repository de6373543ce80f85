"""The mediator bank's domain: cases, seats, mediators, the rules and the use cases."""
