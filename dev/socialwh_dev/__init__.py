"""Development-only parts of socialwh: the platform API sandboxes and the sample-data generators.

Not shipped to Airflow workers or the Docker image (the runtime package is ``socialwh``);
``make demo`` and ``make test`` install it (``requirements-dev.lock``).
"""
