"""ordergrid: open-source order orchestration for omnichannel retail."""

__version__ = "0.1.0"
