"""punctual: a self-hosted serverless task scheduler that fires on the second."""
