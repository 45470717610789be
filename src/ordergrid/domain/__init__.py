"""Pure domain model of ordergrid: no I/O, no clocks, no randomness."""
