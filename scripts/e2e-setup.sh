#!/usr/bin/env bash
# Installs the Debian packages the end-to-end suites need (test/e2e/**):
#   a real desktop node   xvfb x11-utils (xdpyinfo) x11vnc websockify imagemagick (convert, display, import)
#   the browser client    chromium novnc (its core/rfb.js is served to the page)
#   the X2Go client suite pyhoca-cli python3-x2go
#   native clients through the helper (client/): a real X2Go server over SSH and both clients
#                         openssh-server x2goserver x2goserver-xsession x2goclient
#   the bench             haproxy
#   launchers (agent/launchers/): per-user Xvnc desktops  tigervnc-standalone-server xauth xterm sudo
#                                 a single-node Slurm     slurm-wlm munge
# Idempotent: packages already installed are skipped, `apt-get update` runs at most once and
# only when something is missing. Uses sudo only when not root. Debian 12 (bookworm).
set -euo pipefail

PACKAGES=(
  xvfb x11-utils x11vnc websockify novnc imagemagick
  chromium
  pyhoca-cli python3-x2go
  openssh-server x2goserver x2goserver-xsession x2goclient
  haproxy
  tigervnc-standalone-server xauth xterm sudo
  slurm-wlm munge
)

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo -n); fi
export DEBIAN_FRONTEND=noninteractive

installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done

start=$(date +%s)
if [ "${#missing[@]}" -eq 0 ]; then
  echo "e2e-setup: all ${#PACKAGES[@]} packages already installed: ${PACKAGES[*]}"
else
  echo "e2e-setup: installing ${missing[*]}"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  for pkg in "${missing[@]}"; do
    installed "$pkg" || { echo "e2e-setup: $pkg did not install" >&2; exit 1; }
  done
  echo "e2e-setup: installed ${missing[*]} in $(( $(date +%s) - start )) s"
fi

# What the suites call, so a missing binary fails here rather than inside a test (daemons live in /usr/sbin).
export PATH="$PATH:/usr/sbin:/sbin"
for bin in Xvfb xdpyinfo x11vnc websockify convert display import chromium haproxy pyhoca-cli sshd x2goclient x2golistsessions_root Xvnc xauth xterm sudo visudo runuser sbatch scancel squeue slurmctld slurmd munged; do
  command -v "$bin" >/dev/null || { echo "e2e-setup: $bin not on PATH" >&2; exit 1; }
done
test -f /usr/share/novnc/core/rfb.js || { echo "e2e-setup: /usr/share/novnc/core/rfb.js missing" >&2; exit 1; }
/usr/bin/python3 -c 'import x2go' || { echo "e2e-setup: python3-x2go not importable by /usr/bin/python3" >&2; exit 1; }

for pkg in "${PACKAGES[@]}"; do
  printf '  %-20s %s\n' "$pkg" "$(dpkg-query -W -f='${Version}' "$pkg")"
done
