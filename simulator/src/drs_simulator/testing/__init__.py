"""Test support for suites that run against the simulator in their own process.

``plugin``: pytest fixtures (``pytest_plugins = ["drs_simulator.testing.plugin"]``; pytest is then
needed). ``failback_fleet``: a two-region fleet and the steps failback tests share.
"""
