#!/usr/bin/env bash
# Sets up a fresh machine for faultfinder: the Debian servers the tests and the lab use, and a
# virtualenv with the Python dependencies from pyproject. Safe to run again: it only adds what
# is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(postgresql redis-server haproxy nginx-light dnsmasq-base iptables iproute2 procps
          util-linux chromium prometheus prometheus-blackbox-exporter prometheus-alertmanager
          wrk time)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done

if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
    echo "setup: run 'sudo make setup' (or apt-get install ${missing[*]}) and try again" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  # The packages' own services must not start: tests and the lab start their own, on their
  # own ports, and a system redis on 6379 would only get in the way.
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    > /tmp/faultfinder-apt.log 2>&1 || { tail -n 30 /tmp/faultfinder-apt.log >&2; exit 1; }
  if [ "$created_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q -e '.[dev]' -e ./lab  # the runtime, and the fault lab's package
echo "setup: ready (.venv, $(.venv/bin/python --version))"
