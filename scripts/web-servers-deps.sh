#!/usr/bin/env bash
# Installs the web servers tests/integration/first-party-snippets.test.ts runs
# the first-party snippets (deploy/first-party/) in: nginx, Apache, Caddy and
# PHP's built-in server with curl. The test starts each as its own process on a
# free port with a config of its own; the system services are never started.
# Idempotent: installs only the packages that are missing; run as root (or with sudo).
#
# Debian starts a package's service as it installs it (and nginx and Apache
# would then both want port 80): a policy-rc.d that exits 101 forbids that.
# One that is there already (a container's) is left as it is; else a temporary
# one is put in place for the install and removed after, whatever happens.
PACKAGES=(nginx apache2-bin caddy php-cli php-curl)

set -euo pipefail
. "$(dirname "$0")/lib/apt.sh"

apt_need "[web-servers-deps]" "${PACKAGES[@]}"

POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
  as_root sh -c "printf '#!/bin/sh\n# web-servers-deps.sh: start no service while installing\nexit 101\n' > $POLICY && chmod 755 $POLICY"
  trap 'as_root rm -f "$POLICY"' EXIT
fi

echo "[web-servers-deps] installing ${need[*]}"
# apache2-bin: the server and its modules without the apache2 package's site,
# config and service; php-cli and php-curl without the php metapackage, which
# would bring Apache's mod_php.
apt_install "${need[@]}"

# The packages also enable their services for the next boot (nginx's and
# Caddy's default sites on port 80): switch that off for the ones installed
# here, and stop one that started anyway (a policy-rc.d not honoured).
for svc in nginx caddy; do
  case " ${need[*]} " in *" $svc "*) ;; *) continue ;; esac
  if command -v systemctl >/dev/null; then
    as_root systemctl disable --quiet "$svc" >/dev/null 2>&1 || true
    if systemctl is-active --quiet "$svc" 2>/dev/null; then as_root systemctl stop "$svc" || true; fi
  fi
done
echo "[web-servers-deps] done"
