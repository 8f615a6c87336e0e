"""Corpus assembly: merge + dedup + fingerprint, and the validation gate."""
