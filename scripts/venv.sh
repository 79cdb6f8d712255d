# Sourced (not run) by scripts/setup_python.sh, demo.sh and test.sh from the repository root:
# makes the project's virtual environment .venv once and puts its bin/ first on PATH, so that
# python3, pip, pytest and the `nearstore` command the server tests start are the
# environment's. Debian 12's own python3 refuses `pip install` (PEP 668, "externally
# managed"); in a virtual environment it is allowed (scripts/setup.sh installs python3-venv).
# pip inside reads the same configuration as outside (/etc/pip.conf, ~/.config/pip/pip.conf,
# PIP_* variables). NEARSTORE_VENV names another directory.
NEARSTORE_VENV=$(realpath -m "${NEARSTORE_VENV:-.venv}")
# Made again (--clear) when it is not usable: half made (created without python3-venv), or
# made by a Python that is gone.
if ! "$NEARSTORE_VENV/bin/python" -m pip --version >/dev/null 2>&1; then
  echo "setup: creating the virtual environment $NEARSTORE_VENV"
  python3 -m venv --clear "$NEARSTORE_VENV"
fi
export VIRTUAL_ENV="$NEARSTORE_VENV"
export PATH="$NEARSTORE_VENV/bin:$PATH"
hash -r
