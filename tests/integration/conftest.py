import pytest


@pytest.fixture(autouse=True, scope="module")
def _isolated_database(module_database):
    """Every module here runs against a database of its own on the test server."""
    return module_database
