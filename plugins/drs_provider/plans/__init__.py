"""Recovery plans as code: model, loading and validation (no Airflow, no boto3)."""
