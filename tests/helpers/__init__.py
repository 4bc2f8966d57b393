"""What the tests share that is not a fixture, one module per job (fixtures live in
conftest.py files; tests import helpers from here, never from a conftest or another test)."""
