"""Type-system lifts: rules read from declared constraints (pydantic, msgspec, dataclass Literals)."""
