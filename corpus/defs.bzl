"""Public API of the corpus pipeline: re-exports only (implementations in private/)."""

load("//corpus/private:corpus.bzl", _corpus = "corpus")
load("//corpus/private:corpus_diff.bzl", _corpus_diff = "corpus_diff")
load("//corpus/private:library_corpora.bzl", _library_corpora = "library_corpora")
load("//corpus/private:library_corpus.bzl", _library_corpus = "library_corpus")

corpus = _corpus
corpus_diff = _corpus_diff
library_corpora = _library_corpora
library_corpus = _library_corpus
