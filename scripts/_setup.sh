# Shared set-up for scripts/main.sh and scripts/test.sh: sourced, not run.
# Makes .venv with the project installed, and installs the Debian packages named in $NEED_DEBS
# when their binaries are missing. Says clearly what to do where it cannot.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '[floorwatch] %s\n' "$*" >&2; }

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
    say "Python 3.11 or newer is needed (found: $("$PYTHON" --version 2>&1 || echo none))."
    say "Install it (Debian/Ubuntu: apt-get install python3 python3-venv) or set PYTHON=/path/to/python3.11."
    exit 1
fi

install_debs() {  # install_debs binary:package ...
    local missing=()
    for pair in "$@"; do
        local binary="${pair%%:*}" package="${pair##*:}"
        command -v "$binary" >/dev/null 2>&1 || [ -x "/usr/sbin/$binary" ] || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing Debian packages: ${missing[*]}"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo="sudo"
        else
            say "cannot install ${missing[*]}: not root and no password-less sudo."
            say "Run: sudo apt-get update && sudo apt-get install -y ${missing[*]}  then run this again."
            exit 1
        fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        say "no apt-get here: install ${missing[*]} with your system's package manager, then run this again."
        exit 1
    fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    # The packages may start their services; the tests start their own on free ports instead.
    for service in mosquitto influxdb; do
        $sudo service "$service" stop >/dev/null 2>&1 || true
    done
}

setup_venv() {  # setup_venv EXTRAS  (e.g. "dev" or "")
    local extras="$1" spec="." stamp=".venv/.floorwatch-installed"
    [ -n "$extras" ] && spec=".[$extras]"
    if [ ! -x .venv/bin/python ]; then
        say "creating the virtual environment .venv"
        "$PYTHON" -m venv .venv || {
            say "python3 -m venv failed: on Debian/Ubuntu run apt-get install python3-venv"; exit 1; }
    fi
    local want
    want="$(sha256sum pyproject.toml | cut -c1-16)-$extras"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "installing floorwatch$([ -n "$extras" ] && echo " with [$extras]") into .venv"
        .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
        .venv/bin/python -m pip install -q -e "$spec"
        echo "$want" > "$stamp"
    fi
}
