#!/usr/bin/env bash
# Workspace status (.bazelrc --workspace_status_command): the source revision, which
# stamped builds (--stamp) write into OCI image annotations. Outside a git checkout
# the revision is "unknown".
commit=$(git rev-parse HEAD 2>/dev/null) || commit=unknown
if [[ $commit != unknown ]] && [[ -n $(git status --porcelain --untracked-files=no 2>/dev/null) ]]; then
  commit="$commit-dirty"
fi
echo "STABLE_GIT_COMMIT $commit"
