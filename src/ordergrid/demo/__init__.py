"""Seeded sample US retail network and order stream for demos and load tests."""
