# The image that docker-compose.yaml builds: the official Airflow image plus this provider.
#
# Installing the distribution (not only mounting plugins/) is what registers the provider and
# the Recovery view: Airflow finds providers through the `apache_airflow_provider` entry point
# and plugins through `airflow.plugins` (the mounted drs_recovery_view.py then defines none).
# The compose file still mounts ./dags and ./plugins, and puts /opt/airflow/plugins first on
# PYTHONPATH, so edits to plans and provider code take effect without a rebuild. Rebuild
# (`docker compose build`) after changing dependencies in pyproject.toml.
FROM apache/airflow:3.3.2-python3.11

COPY --chown=airflow:0 pyproject.toml README.md /opt/airflow/provider-src/
COPY --chown=airflow:0 plugins/drs_provider /opt/airflow/provider-src/plugins/drs_provider
COPY --chown=airflow:0 simulator/pyproject.toml simulator/README.md /opt/airflow/simulator-src/
COPY --chown=airflow:0 simulator/src /opt/airflow/simulator-src/src

# Every Airflow process imports airflow_local_settings from $AIRFLOW_HOME/config first: this one
# makes each daemon import the provider before it forks its task processes, parses and trigger
# runner (drs_provider.preload), also where ./plugins is not mounted (docker-compose.aws.yaml).
COPY --chown=airflow:0 plugins/airflow_local_settings.py /opt/airflow/config/airflow_local_settings.py

# The package's extras to install. The default, `local`, brings the DRS simulator and moto's
# server, which docker-compose.yaml runs for every AWS service; docker-compose.aws.yaml builds
# with EXTRAS="" so that an image meant for real AWS carries no local AWS.
ARG EXTRAS=local

# Naming the image's own Airflow version keeps pip from moving Airflow while it resolves
# the provider's pins (boto3/botocore inside aiobotocore's window). An empty EXTRAS installs
# the bare package (pip refuses "path[]"). The `local` extra requires drs-simulator, which is
# not on PyPI: its source is named in the same pip call whenever extras are, so pip takes it.
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" "/opt/airflow/provider-src${EXTRAS:+[${EXTRAS}]}" \
        ${EXTRAS:+/opt/airflow/simulator-src} \
    && rm -rf /opt/airflow/provider-src /opt/airflow/simulator-src
