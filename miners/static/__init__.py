"""The static miner: AST analysis of validator methods."""
