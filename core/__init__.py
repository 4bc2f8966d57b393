"""Voting Game's core: the rules, the voting service, the worker loop and the AWS adapters.

Nothing in this package imports Flask (tests/unit/test_layers.py checks it):
the web layer (`webapp/`) and the worker (`worker.py`) both build on it, and
data flows one way, from the web layer or the worker into the core, never back.
`core/aws/` is the only code that talks to AWS.
"""
