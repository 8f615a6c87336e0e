"""The dynamic miner: probe config classes with generated values and infer rules from what they say."""
