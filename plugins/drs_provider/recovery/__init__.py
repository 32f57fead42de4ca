"""DRS domain logic with no Airflow in it: which servers a selector picks, what finished jobs
mean server by server, the run that preflight resolved, and DRS times.

Everything here works on plain DRS API data (the dicts boto3 returns) and the plan model, so
the hooks, operators, sensors, the factory, the tools and the tests share one definition.
"""
