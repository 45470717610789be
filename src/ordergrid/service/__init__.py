"""Use cases: each command handled in one transaction through the unit-of-work port."""
