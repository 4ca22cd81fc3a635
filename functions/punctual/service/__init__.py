"""Use cases against ports. No boto3, no AWS types: adapters are injected (see bootstrap.py)."""
