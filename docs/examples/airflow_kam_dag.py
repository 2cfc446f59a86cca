"""Airflow DAG: the KAM reports each quarter, with `kam run` as the task.

Copy this file into Airflow's dags/ folder and set the paths below. It assumes KAM
Workbooks is installed on the worker (``make env`` in KAM_HOME builds .venv and the
``kam-workbooks`` kernel) and that the ERP export lands in DATA before the run.
See docs/scheduling.md for what each exit code means and what to do about it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.operators.bash import BashOperator

KAM_HOME = "/opt/kam-workbooks"
DATA = "/srv/erp-exports/kam"
MAPPING = "/srv/erp-exports/kam/mapping.yml"
REPORTS = "/srv/reports/kam"

KAM = f"{KAM_HOME}/.venv/bin/kam"
COMMON = f"--data {DATA} --mapping {MAPPING} --out {REPORTS} --quiet"

with DAG(
    dag_id="kam_quarterly_reports",
    description="KAM Workbooks: account value, key account selection and the KAM benchmark",
    # 06:30 on the 5th day of each quarter: the export of the quarter just closed is in.
    schedule="30 6 5 1,4,7,10 *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={
        # Exit 1 (unusable data) and 2 (usage) do not heal by retrying; exit 4 might.
        # One retry keeps the rule simple; the log says which case it was.
        "retries": 1,
        "retry_delay": timedelta(minutes=30),
        # On timeout Airflow sends SIGTERM: kam stops the kernel, publishes nothing
        # half-written and exits 143.
        "execution_timeout": timedelta(hours=3),
    },
) as dag:
    validate = BashOperator(
        task_id="validate_data",
        bash_command=f"{KAM} validate --data {DATA} --mapping {MAPPING}",
    )
    # One task per workbook: a failing workbook does not stop the others, and Airflow
    # shows which one failed (`kam run all` stops at the first failure).
    reports = [
        BashOperator(task_id=f"report_{workbook}",
                     bash_command=f"{KAM} run {workbook} {COMMON}")
        for workbook in ("value", "selection", "benchmark")
    ]
    validate >> reports
