"""Facts every layer shares: DRS API limits and ID shapes, AWS tag limits, the DAG's fixed names.

One home for each number and name, imported by the plan model, the hooks and operators, the
factory, the tools and the tests alike. No imports: every layer may depend on this module.
(The simulator keeps its own copies on purpose: it fakes DRS and speaks only its wire API.)
"""

from __future__ import annotations

# --- DRS API (botocore's drs service model, 2020-02-26) -----------------------------------

#: Source server IDs: ``s-`` and 17 letters or digits.
SOURCE_SERVER_ID_PATTERN = r"^s-[0-9a-zA-Z]{17}$"
#: Job IDs: ``drsjob-`` and 17 letters or digits.
JOB_ID_PATTERN = r"^drsjob-[0-9a-zA-Z]{17}$"
#: StartRecovery takes 1..200 source servers.
MAX_SERVERS_PER_START_RECOVERY = 200
#: DescribeSourceServers filters take up to 200 IDs.
SOURCE_SERVER_IDS_PER_REQUEST = 200
#: DescribeJobs filters take up to 1000 job IDs.
JOB_IDS_PER_REQUEST = 1000
#: DescribeRecoveryInstances filters, TerminateRecoveryInstances and StartFailbackLaunch take up to 200 IDs.
RECOVERY_INSTANCES_PER_REQUEST = 200
#: Servers per job when a plan does not say: the common account quota (servers per job).
DEFAULT_MAX_SERVERS_PER_JOB = 100
#: Account quotas assumed by preflight unless Airflow's ``[drs]`` config says otherwise.
DEFAULT_MAX_SERVERS_IN_ACTIVE_JOBS = 500
DEFAULT_MAX_CONCURRENT_JOBS = 20
#: Replicating source servers an account may have (Service Quotas L-C1D14A2B's documented default).
DEFAULT_MAX_REPLICATING_SERVERS = 300

#: Native recovery plans (CreateRecoveryPlan, CreateRecoveryPlanStep): at most 20 steps and 100
#: source servers a plan, 1..100 servers a SERVER step, a WAIT step of 1..120 minutes.
MAX_STEPS_PER_RECOVERY_PLAN = 20
MAX_SERVERS_PER_RECOVERY_PLAN = 100
MAX_SERVERS_PER_RECOVERY_PLAN_STEP = 100
RECOVERY_PLAN_WAIT_MINUTES = (1, 120)
#: A native recovery plan's description holds at most 1024 characters.
RECOVERY_PLAN_DESCRIPTION_LENGTH = 1024
#: Tags on the native recovery plans a plan is mirrored into: the plan, and which part (``1/2``).
TAG_NATIVE_PLAN = "drs:plan"
TAG_NATIVE_PART = "drs:part"

# --- AWS tags ------------------------------------------------------------------------------

TAG_KEY_LENGTH = (1, 128)
TAG_VALUE_LENGTH = (0, 256)
#: An AWS resource carries at most 50 tags.
MAX_TAGS_PER_RESOURCE = 50
#: Tags on every DRS job a plan task starts, naming the task: a retry finds its jobs by them, and
#: a recovery instance's job tells which run launched it.
TAG_DAG_ID = "airflow:dag_id"
TAG_RUN_ID = "airflow:run_id"
TAG_TASK_ID = "airflow:task_id"
TAG_MAP_INDEX = "airflow:map_index"
#: Which part of a split selection a job holds, e.g. ``2/5`` (for people; not for matching).
TAG_CHUNK = "airflow:chunk"

# --- run modes (docs/reference/run-parameters.md) ------------------------------------------------------

MODE_DRILL = "drill"
MODE_RECOVERY = "recovery"
#: Bring a recovered plan home: back to the region (or site) its servers came from.
MODE_FAILBACK = "failback"
#: Every mode a plan run may have, in the order plans, messages and the trigger form list them.
RUN_MODES = (MODE_DRILL, MODE_RECOVERY, MODE_FAILBACK)
#: The modes an approval stops when its plan does not say (its documented default, older than
#: failback: an approval written for a failover is not asked on the way home). Every other step
#: kind runs in all :data:`RUN_MODES` by default.
APPROVAL_MODES = (MODE_DRILL, MODE_RECOVERY)
#: Run types a recovery may have: triggered by a person (UI, REST API, CLI), or by a task of
#: another DAG on a person's behalf (``drs_failover``'s TriggerDagRunOperator); never scheduled.
RECOVERY_RUN_TYPES = ("manual", "operator_triggered")
#: The run parameters every plan DAG takes (docs/reference/run-parameters.md); preflight refuses any other.
RUN_PARAMS = (
    "mode",
    "confirm",
    "waves",
    "point_in_time",
    "keep_instances",
    "relaunch_recovered",
    "failback_drill",
)
#: The run parameter that says what a run does (one of :data:`RUN_MODES`).
MODE_PARAM = "mode"
#: The run parameter that lets a recovery launch over servers that were really recovered.
RELAUNCH_RECOVERED_PARAM = "relaunch_recovered"
#: The run parameter that makes a failback a rehearsal: drills in the origin region, nothing
#: re-protected, the recovery region untouched.
FAILBACK_DRILL_PARAM = "failback_drill"
#: The run parameter that keeps a drill's instances (its cleanup skipped).
KEEP_INSTANCES_PARAM = "keep_instances"

# --- the DAG a plan becomes (docs/explanation/dag-and-waves.md) -----------------------------------------

DAG_ID_PREFIX = "drs_plan_"
PREFLIGHT_TASK_ID = "preflight"
#: The lifecycle teardown tasks after every wave: ``cleanup`` (drills with a cleanup policy), ``report``.
CLEANUP_TASK_ID = "cleanup"
REPORT_TASK_ID = "report"
#: A plan with ``failback_order: reverse`` (and edges between waves) also holds its waves in this
#: task group, their edges reversed (``failback-reverse.<wave>.start_recovery``, ...): a failback
#: runs them, every other mode the wave groups. The task ``wave-order`` after ``preflight`` picks
#: one of the two for the run. Hyphens keep both apart from any wave's name.
FAILBACK_REVERSE_GROUP = "failback-reverse"
WAVE_ORDER_TASK_ID = "wave-order"
#: Task IDs inside each wave's task group (``<wave>.start_recovery``, ...).
START_RECOVERY_TASK = "start_recovery"
WAIT_FOR_RECOVERY_TASK = "wait_for_recovery"
RETURN_VALUE_XCOM_KEY = "return_value"
#: XCom key of a wave's per-server results (pushed by ``wait_for_recovery`` whatever its verdict).
SERVERS_XCOM_KEY = "servers"
#: XCom key of ``start_recovery`` while it waits for DRS capacity: why (the Recovery view shows it).
CAPACITY_WAIT_XCOM_KEY = "capacity_wait"
#: XCom key of ``start_recovery``: the optional servers it launched (the sensor reads it).
OPTIONAL_SERVERS_XCOM_KEY = "optional_source_server_ids"
#: XCom key of a failback's ``start_recovery``: the region its jobs run in (the sensor waits there).
HOME_REGION_XCOM_KEY = "home_region"
#: XCom key of a failback's ``start_recovery``: FAILBACK source server ID -> the plan's server.
FAILBACK_SERVERS_XCOM_KEY = "failback_servers"
#: XCom key of a runbook step that passed at once or failed as ``optional`` (its state and message).
STEP_OUTCOME_XCOM_KEY = "step_outcome"
#: XCom keys every task of a plan DAG leaves for the run report: when it started, why it failed.
TASK_STARTED_XCOM_KEY = "task_started"
TASK_ERROR_XCOM_KEY = "task_error"


#: The region failover's DAG, and the run ID prefix of the plan runs it starts.
FAILOVER_DAG_ID = "drs_failover"
FAILOVER_RUN_PREFIX = "failover__"


def failover_plan_run_id(failover_run_id: str) -> str:
    """The run ID of each plan's recovery run that a ``drs_failover`` run starts."""
    return f"{FAILOVER_RUN_PREFIX}{failover_run_id}"


def dag_id_of(plan_name: str) -> str:
    """The DAG ID of a plan: ``drs_plan_<plan>``."""
    return f"{DAG_ID_PREFIX}{plan_name}"


def wave_task_id(wave: str, task: str) -> str:
    """The full task ID of a task in a wave's group: ``<wave>.<task>``."""
    return f"{wave}.{task}"


def wave_group_of_task(task_id: str) -> str:
    """The full ID of the wave's task group a task is in: ``<wave>`` for ``<wave>.<task>``,
    ``failback-reverse.<wave>`` for a reversed failback's task ("" outside a group)."""
    return task_id.rpartition(".")[0]


def wave_of_task(task_id: str) -> str:
    """The wave a task of a wave's group belongs to: its innermost group."""
    return wave_group_of_task(task_id).rpartition(".")[2]
