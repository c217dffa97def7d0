#!/usr/bin/env bash
# The Debian packages the tests need, installed by the project itself so that a fresh machine (and CI)
# has them: nothing installed by hand survives to the next machine. Idempotent and quiet when all are
# present. One list for the whole project: add a package here, never in a second script.
set -euo pipefail

PACKAGES=(
  bubblewrap        # the per-job sandbox (issue 10)
  python3           # /usr/bin/python3 runs the job sandbox's agent (src/activities/job_sandbox_agent.py)
  rpm               # rpmbuild for real RPM fixtures served by the Koji stand-in (issue 9)
  createrepo-c      # the createrepo directive (issue 9)
  rabbitmq-server   # fedora-messaging (AMQP) tests (issue 12)
  chromium          # the Web UI browser test (issue 11)
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing Debian packages: ${missing[*]} (run as root: apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
