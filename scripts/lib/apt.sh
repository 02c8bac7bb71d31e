# Sourced by the install scripts: Debian packages installed only where missing.
#   apt_missing pkg…      prints the packages of the list that are not installed
#   apt_need tag pkg…     sets `need` to those; when none is missing, says so and exits the script
#   apt_install pkg…      installs them (apt-get update first), without recommends
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_missing() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || echo "$pkg"
  done
}

apt_install() {
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

apt_need() {
  local tag=$1
  shift
  mapfile -t need < <(apt_missing "$@")
  if [ ${#need[@]} -eq 0 ]; then
    echo "$tag all present: $*"
    exit 0
  fi
}
