#!/bin/bash
# The batch job of the `slurm` launcher (Open OnDemand's batch-connect pattern), submitted by
# `as-user slurm-submit` as the user; runs on the compute node in ~/.edge-desktops/SESSION_ID:
# an X authority cookie, Xvnc on a free display (-displayfd) and a free port on the node's
# address, the session command, then HOST:PORT written to ./endpoint atomically (a temporary
# name, then mv) once RFB answers. The job lives as long as Xvnc; scancel ends it all, and the
# desktop ends when the session command exits.
#
# A site template: the RFB port has no VNC password, so anyone who can reach the compute node's
# address can reach the desktop. Give desktops nodes (or a network) only the agent's node reaches.
#
#   slurm-desktop.sh GEOMETRY DEPTH COMMAND [ARG...]
set -euo pipefail
export PATH=/usr/local/bin:/usr/bin:/bin
umask 077
geometry=$1 depth=$2
shift 2
dir=$PWD auth=$PWD/Xauthority
rm -f endpoint endpoint.tmp displayfd
: >"$auth"
cookie=$(mcookie)
echo "add :0 . $cookie" | xauth -q -f "$auth" source -
host=${SLURMD_NODENAME:-$(hostname)}
address=$(getent ahostsv4 "$host" | awk 'NR == 1 { print $1 }')
[ -n "$address" ] || { echo "cannot resolve $host" >&2; exit 1; }

listening() { (exec 9<>"/dev/tcp/$address/$1") 2>/dev/null; }

xvnc= display= port=
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 20000))
  listening "$port" && continue
  rm -f displayfd && mkfifo displayfd
  Xvnc -displayfd 3 -auth "$auth" -rfbport "$port" -interface "$address" -nolisten tcp \
    -SecurityTypes None -geometry "$geometry" -depth "$depth" -desktop "${USER:-$(id -un)}" 3>displayfd </dev/null >>xvnc.log 2>&1 &
  xvnc=$!
  # Xvnc writes the display once it accepts connections; EOF without one means it failed (port taken).
  if read -r -t 30 display <displayfd && [ -n "$display" ]; then break; fi
  kill "$xvnc" 2>/dev/null || true
  xvnc= display=
  echo "attempt $attempt: Xvnc did not start on port $port" >&2
done
rm -f displayfd
[ -n "$xvnc" ] || { echo "Xvnc did not start" >&2; exit 1; }
echo "add :$display . $cookie" | xauth -q -f "$auth" source -

(
  DISPLAY=:$display XAUTHORITY=$auth "$@" || true
  kill "$xvnc" 2>/dev/null || true
) </dev/null >>session.log 2>&1 &

for _ in $(seq 1 100); do listening "$port" && break; sleep 0.1; done
printf '%s:%s\n' "$host" "$port" >"$dir/endpoint.tmp"
mv "$dir/endpoint.tmp" "$dir/endpoint"
wait "$xvnc" || true
