"""The rule schema: typed rules and corpus files, canonical YAML, and the predicate evaluator."""
