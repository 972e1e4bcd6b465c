"""A virtual instrument that drives Kiln's HTTP API as a lab would (`python -m instrument`)."""
