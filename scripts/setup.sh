#!/usr/bin/env bash
# Installs what nearstore needs to build and test on a fresh Debian 12 machine, and nothing
# when it is all there already (safe to run any number of times).
set -euo pipefail

DEB_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev
  libboost1.81-dev libssl-dev
  clang-format clang-tidy wordnet-base
)
# Debian's own python3 (or none yet): the project's virtual environment needs python3-venv
# (pip installs into the system Python are refused, PEP 668) and the extension needs the
# headers. Another python3 first on PATH (pyenv, conda) brings its own.
case "$(command -v python3 || echo none)" in
  none | /usr/bin/python3 | /bin/python3) DEB_PACKAGES+=(python3 python3-venv python3-dev) ;;
esac

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# CMake 3.25+ and Ninja come from the list above (Debian 12 ships CMake 3.25.1); a newer CMake
# first on PATH is fine too.
