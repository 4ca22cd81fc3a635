"""punctual dev: the whole system on one machine, AWS emulated (moto), no account needed."""
