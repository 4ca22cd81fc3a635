"""Adapters: the boto3 implementations of the service ports. boto3 is imported only below this package."""
