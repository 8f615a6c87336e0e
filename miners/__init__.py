"""Miners: extract config-validation rules ("invariants") from ML libraries."""
