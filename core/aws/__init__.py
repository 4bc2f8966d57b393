"""The only code that talks to AWS: boto3 clients, DynamoDB and SQS adapters.

Botocore errors never leave this package: `errors.py` translates them into
the small family of domain errors that callers handle.
"""
