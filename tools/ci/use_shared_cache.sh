#!/usr/bin/env bash
# In a GitHub Actions step (.github/workflows/ci.yml): point the remote configs at
# the team's REAPI cache in user.bazelrc, and export KILN_CACHE_FLAGS for later steps.
#   KILN_REMOTE_CACHE   the cache endpoint, grpc:// or grpcs:// (empty: no shared cache)
#   KILN_REMOTE_HEADER  optional header carrying the credential, NAME=VALUE
#   KILN_CACHE_CONFIG   remote-cache (read and write) or ci-readonly (read only)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

: "${GITHUB_ENV:?run this in a GitHub Actions step (GITHUB_ENV is not set)}"
case ${KILN_CACHE_CONFIG:-} in
  remote-cache | ci-readonly) ;;
  *)
    echo "error: KILN_CACHE_CONFIG is '${KILN_CACHE_CONFIG:-}'; it must be remote-cache or ci-readonly" >&2
    exit 2
    ;;
esac

# A self-hosted runner keeps its workspace: never reuse the last job's credential.
rm -f user.bazelrc
if [[ -z ${KILN_REMOTE_CACHE:-} ]]; then
  echo "::notice::no shared cache: set the repository variable KILN_REMOTE_CACHE to your REAPI endpoint"
  echo "KILN_CACHE_FLAGS=" >>"$GITHUB_ENV"
  exit 0
fi
if [[ ! $KILN_REMOTE_CACHE =~ ^grpcs?:// ]]; then
  echo "error: KILN_REMOTE_CACHE is '$KILN_REMOTE_CACHE'; it must start with grpc:// or grpcs://" >&2
  exit 2
fi
{
  echo "build:remote-cache --remote_cache=$KILN_REMOTE_CACHE"
  if [[ -n ${KILN_REMOTE_HEADER:-} ]]; then
    echo "build:remote-cache --remote_header=$KILN_REMOTE_HEADER"
  fi
} >user.bazelrc
chmod 600 user.bazelrc
echo "KILN_CACHE_FLAGS=--config=$KILN_CACHE_CONFIG" >>"$GITHUB_ENV"
echo "shared cache: $KILN_REMOTE_CACHE (--config=$KILN_CACHE_CONFIG)"
