import pytest


@pytest.fixture(autouse=True, scope="module")
def _isolated_database(module_database):
    """Every module here runs against a database of its own on the test server."""
    return module_database


@pytest.fixture(scope="module")
def sandbox_root():
    """The sandbox APIs with the configured world, served from a thread for this module: their
    root URL (a platform's base URL is f"{root}/{prefix}")."""
    from socialwh.config import load_config
    from socialwh_dev.sandbox.server import start_in_thread

    server, root = start_in_thread(load_config())
    yield root
    server.shutdown()
    server.server_close()
