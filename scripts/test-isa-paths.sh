#!/usr/bin/env bash
# The parity and kernel tests again with the CPU kernels held to each lower
# instruction set this machine has (GOOGLENET_NATIVE_CPU): an AVX-512 CI
# machine then also checks the AVX2 path most CPUs run, and every machine the
# portable one. The test binaries are those `npm run test:rust` built: the
# library's unit tests, and the suite's modules named below (filters of the
# one integration-test binary, tests/suite).
set -euo pipefail
cd "$(dirname "$0")/.."
levels=(baseline)
# AVX-512 implies AVX2, so only such a machine has AVX2 as a lower level.
if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then levels+=(avx2); fi
for level in "${levels[@]}"; do
  echo "== GOOGLENET_NATIVE_CPU=$level"
  GOOGLENET_NATIVE_CPU=$level cargo test --release --target x86_64-unknown-linux-gnu -p googlenet-core --lib
  GOOGLENET_NATIVE_CPU=$level cargo test --release --target x86_64-unknown-linux-gnu -p googlenet-core --test suite -- \
    zoo_parity:: engine:: custom_graphs:: pytorch_parity:: resnet:: ops:: differential::
done
