# Shared by the scripts: system packages, the persistent target and tools dirs.
# shellcheck shell=bash

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tributary-target}"
TOOLS_DIR="${TRIBUTARY_TOOLS_DIR:-$HOME/.cache/tributary-tools}"
export PATH="$TOOLS_DIR/bin:$PATH"

log() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages the build needs (protoc for the gRPC code of us and etcd-client)
# plus any extra ones given, when they are missing.
ensure_packages() {
    local missing=()
    command -v protoc >/dev/null || missing+=(protobuf-compiler)
    [ -e /usr/include/google/protobuf/descriptor.proto ] || missing+=(libprotobuf-dev)
    command -v cc >/dev/null || missing+=(build-essential)
    command -v pkg-config >/dev/null || missing+=(pkg-config)
    for p in "$@"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

ensure_sqllogictest() {
    if ! sqllogictest --version 2>/dev/null | grep -q '0.29.1'; then
        log "installing sqllogictest-bin 0.29.1 into $TOOLS_DIR"
        # A separate target dir: this build shares nothing with ours.
        CARGO_TARGET_DIR="$TOOLS_DIR/target" cargo install sqllogictest-bin --version 0.29.1 --locked --root "$TOOLS_DIR" --quiet
        rm -rf "$TOOLS_DIR/target"
    fi
}

# A free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits until a TCP port accepts connections.
wait_port() {
    local port=$1 what=$2 tries=${3:-300}
    for _ in $(seq "$tries"); do
        if (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "$what did not come up on port $port" >&2
    return 1
}
