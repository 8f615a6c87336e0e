"""Public API of the corpus pipeline: re-exports only (implementations in private/)."""

load("//corpus/private:corpus.bzl", _corpus = "corpus")

corpus = _corpus
