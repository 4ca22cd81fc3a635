"""The one place that wires adapters into use cases (cf. cosmicpython's bootstrap.py).

INTERFACE STUB — the handlers helper completes it.
"""
