"""Public API of the corpus pipeline: re-exports only (implementations in private/)."""

load("//corpus/private:corpus.bzl", _corpus = "corpus")
load("//corpus/private:library_corpus.bzl", _library_corpus = "library_corpus")

corpus = _corpus
library_corpus = _library_corpus
