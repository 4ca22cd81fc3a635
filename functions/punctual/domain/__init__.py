"""Pure domain: task model, schedule expressions, next-run computation and errors. No I/O, no boto3."""
