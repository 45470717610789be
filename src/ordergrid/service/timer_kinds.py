"""The kinds of durable timers the worker runs (deadline kinds are the domain's)."""

from __future__ import annotations

#: Re-source the units a failure freed.
REALLOCATE = "reallocate"
#: Move the unpicked work of a paused or closed location.
LOCATION_UNAVAILABLE = "location_unavailable"
#: Re-allocate reservations a stock feed left uncovered.
STOCK_DISCREPANCY = "stock_discrepancy"
#: Source the orders waiting in a policy's batch window, together.
BATCH_SOURCING = "batch_sourcing"
#: Release a cart reservation's hold when its time is up.
RESERVATION_EXPIRY = "reservation_expiry"
