# The team image: official Airflow 3.3.2 plus this project's pinned dependencies.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root requirements.lock pyproject.toml /opt/socialwh/
COPY --chown=airflow:root plugins /opt/socialwh/plugins
RUN pip install --no-cache-dir -r /opt/socialwh/requirements.lock \
 && pip install --no-cache-dir --no-deps -e /opt/socialwh
ENV PYTHONPATH=/opt/socialwh/plugins
