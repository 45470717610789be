"""Delivery promise: the options a cart has for a destination, with dates and costs,
decided by the same sourcing engine and cost model as orders."""
