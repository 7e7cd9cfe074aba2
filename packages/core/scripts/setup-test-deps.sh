#!/bin/sh
# Installs what the chat-template parity test needs: Debian's python3-jinja2, the Jinja2 that
# transformers' apply_chat_template runs (src/templates/template-parity.test.ts renders every
# template of the corpus with it). Idempotent; without root or apt it says so and exits 0, and
# the test then fails naming the missing package.
set -u
if /usr/bin/python3 -c "import jinja2" >/dev/null 2>&1; then
  echo "setup-test-deps (core): python3-jinja2 already installed"
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-test-deps (core): python3-jinja2 is missing; install it with: sudo apt-get install python3-jinja2"
  exit 0
fi
run_apt() {
  if command -v flock >/dev/null 2>&1; then flock /tmp/distillery-apt.lock "$@"; else "$@"; fi
}
export DEBIAN_FRONTEND=noninteractive
if ! run_apt apt-get install -y --no-install-recommends python3-jinja2; then
  run_apt apt-get update && run_apt apt-get install -y --no-install-recommends python3-jinja2 \
    || echo "setup-test-deps (core): apt-get could not install python3-jinja2; the template parity test will fail"
fi
exit 0
