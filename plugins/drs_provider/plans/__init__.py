"""Recovery plans as code: model, loading, validation and JSON Schema (no Airflow, no boto3).

The entry points::

    load_plan_file(path)   -> Plan, or PlanError holding every issue in the file
    load_plans(directory)  -> PlanSet: the valid plans, and the issues of each broken file
    topological_waves(plan), wave_steps(plan), render_graph(plan), render_mermaid(plan)
    plan_json_schema()     -> the JSON Schema shipped as plans/schema.json
"""

from __future__ import annotations

from drs_provider.plans.graph import render_graph, render_mermaid, topological_waves, wave_steps
from drs_provider.plans.loader import PlanSet, load_plan_file, load_plans, plan_files
from drs_provider.plans.model import Plan, ServerSelector, Wave
from drs_provider.plans.schema import plan_json_schema

__all__ = [
    "Plan",
    "PlanSet",
    "ServerSelector",
    "Wave",
    "load_plan_file",
    "load_plans",
    "plan_files",
    "plan_json_schema",
    "render_graph",
    "render_mermaid",
    "topological_waves",
    "wave_steps",
]
