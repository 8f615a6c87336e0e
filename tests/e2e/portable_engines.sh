#!/usr/bin/env bash
# A portable ONNX Runtime engine is the same bytes whichever x86-64 level builds it, and an
# ISA-tied one is not: the shipped models are compiled natively and under QEMU's user-mode
# emulation of x86-64-v3 CPUs (Intel Haswell, AMD EPYC Rome), where ONNX Runtime
# dispatches by what the emulated CPUID reports (//engines/onnxruntime:cross_isa_check).
# So an AVX-512 machine shows what an AVX2 host builds, and the other way round.
# Installs qemu-user (Debian) when missing. Only on x86-64 hosts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source tests/e2e/lib.sh

if [[ $(uname -m) != x86_64 ]]; then
  echo "portable engines: skipped, this host is $(uname -m): the check emulates other x86-64 levels on an x86-64 host"
  exit 0
fi
if ! command -v qemu-x86_64 >/dev/null; then
  echo "installing qemu-user (Debian)"
  source tools/bazel/debian_sid.sh
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user >/dev/null
fi
./bazelw run //engines/onnxruntime:cross_isa_check -- --qemu "$(command -v qemu-x86_64)" 2>"${TMPDIR:-/tmp}/kiln-cross-isa.log" ||
  { tail -n 20 "${TMPDIR:-/tmp}/kiln-cross-isa.log" >&2; die "the cross-ISA check failed"; }
echo "portable engines: identical whichever level builds them; ISA-tied ones follow the level"
