#!/bin/sh
# Installs what the engine's optional checks need: Debian's python3-torch (the PyTorch logits
# parity test and `npm run bench:engine`) and libopenblas0-pthread (the BLAS the bench measures
# PyTorch with). Idempotent; without root or apt it prints why it skipped and exits 0, and the
# torch-dependent test then skips with that reason.
set -u
if /usr/bin/python3 -c "import torch, numpy" >/dev/null 2>&1 && dpkg -s libopenblas0-pthread >/dev/null 2>&1; then
  echo "setup-test-deps: python3-torch and libopenblas0-pthread already installed"
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "setup-test-deps: skipped (not root); install python3-torch libopenblas0-pthread with apt to run the PyTorch parity test"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-test-deps: skipped (no apt-get on this machine)"
  exit 0
fi
run_apt() {
  if command -v flock >/dev/null 2>&1; then flock /tmp/distillery-apt.lock "$@"; else "$@"; fi
}
export DEBIAN_FRONTEND=noninteractive
if ! run_apt apt-get install -y --no-install-recommends python3-torch python3-numpy libopenblas0-pthread; then
  run_apt apt-get update && run_apt apt-get install -y --no-install-recommends python3-torch python3-numpy libopenblas0-pthread \
    || echo "setup-test-deps: apt-get failed; the PyTorch parity test will skip"
fi
exit 0
