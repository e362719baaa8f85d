"""DAG tests parse the real DAG files with Airflow, without a metadata DB, network or secrets."""

import os
import tempfile

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-home-"))
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")
