"""kiln-check: check ML job configs against kiln's validated invariant corpora.

    kiln-check --library transformers my_config.yaml

As a library:

    from kiln_check import available_versions, check_config, load_library_corpus
    available_versions("transformers")                      # ["5.23.0", ...], newest first
    findings = check_config(load_library_corpus("transformers", "5.23.0"), {"GenerationConfig": {"max_new_tokens": 0}})

The checker's modules keep their layout in kiln's repository under this package
(`tools/`, `miners/`, `corpus/`), where they import one another by those names; so
this package puts its own directory first on the import path, and nothing but
`kiln_check` is installed at the top of site-packages.
"""

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from tools.check import available_versions, check_config, load_library_corpus, main, run  # noqa: E402

__all__ = ["available_versions", "check_config", "load_library_corpus", "main", "run"]
