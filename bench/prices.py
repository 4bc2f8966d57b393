"""AWS on-demand list prices used to turn counted requests into dollars.

us-east-1, as published on the AWS pricing pages; DynamoDB's on-demand
throughput prices are the ones in force since the price cut of 1 November
2024 (half the earlier $1.25 / $0.25), SQS standard queues have cost $0.40
per million requests for years. Recorded here on 2026-11-28; check them
against the pricing pages before budgeting with these figures. Free tiers
(1M SQS requests a month, 25 GB of DynamoDB storage) are left out.
"""

PRICES_AS_OF = "2026-11-28 (DynamoDB on-demand prices in force since 2024-11-01)"
REGION = "us-east-1"

SQS_PER_MILLION_REQUESTS = 0.40  # standard queue; each 64 KB of payload is one request
DDB_PER_MILLION_WRITE_UNITS = 0.625  # on-demand write request units
DDB_PER_MILLION_READ_UNITS = 0.125  # on-demand read request units


def dollars(sqs_requests: float, write_units: float, read_units: float) -> float:
    return (
        sqs_requests * SQS_PER_MILLION_REQUESTS
        + write_units * DDB_PER_MILLION_WRITE_UNITS
        + read_units * DDB_PER_MILLION_READ_UNITS
    ) / 1e6
