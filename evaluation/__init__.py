"""Simulated runs and evaluation suites: run tasks on a simulated robot team, check the outcome in
the world itself, and report the multi-robot planning metrics (see docs/evaluation.md)."""
