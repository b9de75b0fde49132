#!/usr/bin/env bash
# A highly available Skiff on one machine, for trying it: a three-member etcd (Debian's
# /usr/bin/etcd, package etcd-server) on loopback ports and three `skiff server`s sharing
# it. The first server founds the cluster; the others join with only its token and the
# datastore endpoints. See docs/ha.md.
#
#   scripts/ha-demo.sh start [DIR]    start everything (default DIR /tmp/skiff-ha-demo)
#   scripts/ha-demo.sh status [DIR]   which processes run, who leads, the kubernetes Endpoints
#   scripts/ha-demo.sh stop [DIR]     stop the servers and etcd (keeps DIR; start again resumes)
#   scripts/ha-demo.sh clean [DIR]    stop, then remove DIR
#
# Environment: SKIFF_HA_BIND (default 127.0.0.1; 0.0.0.0 lets pods reach the servers),
# SKIFF_HA_PORT (first server's port, default 16443; the others take the next two),
# SKIFF_HA_ETCD_PORT (first etcd client port, default 23791; peers at +10).
set -euo pipefail

cmd=${1:-}
DIR=${2:-/tmp/skiff-ha-demo}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SKIFF=(node "$ROOT/bin/skiff.js")
BIND=${SKIFF_HA_BIND:-127.0.0.1}
PORT=${SKIFF_HA_PORT:-16443}
EPORT=${SKIFF_HA_ETCD_PORT:-23791}
ETCD=${ETCD:-/usr/bin/etcd}
MEMBERS=(1 2 3)

etcd_client() { echo "http://127.0.0.1:$((EPORT + $1 - 1))"; }
etcd_peer() { echo "http://127.0.0.1:$((EPORT + 10 + $1 - 1))"; }
endpoints() { local e=(); for i in "${MEMBERS[@]}"; do e+=("$(etcd_client "$i")"); done; (IFS=,; echo "${e[*]}"); }
server_port() { echo $((PORT + $1 - 1)); }
host() { if [ "$BIND" = 0.0.0.0 ]; then echo 127.0.0.1; else echo "$BIND"; fi; }
running() { [ -f "$DIR/pids/$1" ] && kill -0 "$(cat "$DIR/pids/$1")" 2>/dev/null; }

# Runs a command in the background with its output in DIR/logs/NAME.log and its pid in DIR/pids/NAME.
launch() {
  local name=$1; shift
  if running "$name"; then echo "$name already runs (pid $(cat "$DIR/pids/$name"))"; return; fi
  nohup "$@" >"$DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/pids/$name"
}

wait_for() { # NAME PATTERN SECONDS
  local i
  for ((i = 0; i < $3 * 5; i++)); do
    grep -q "$2" "$DIR/logs/$1.log" 2>/dev/null && return 0
    running "$1" || { echo "$1 exited; its log:" >&2; tail -20 "$DIR/logs/$1.log" >&2; return 1; }
    sleep 0.2
  done
  echo "$1 did not print '$2' in $3 s; its log: $DIR/logs/$1.log" >&2
  return 1
}

start() {
  [ -x "$ETCD" ] || { echo "no $ETCD: apt-get install etcd-server" >&2; exit 1; }
  mkdir -p "$DIR/logs" "$DIR/pids"
  local cluster=() i state=new
  for i in "${MEMBERS[@]}"; do cluster+=("etcd-$i=$(etcd_peer "$i")"); done
  [ -d "$DIR/etcd-1/member" ] && state=existing
  for i in "${MEMBERS[@]}"; do
    launch "etcd-$i" "$ETCD" --name "etcd-$i" --data-dir "$DIR/etcd-$i" \
      --listen-client-urls "$(etcd_client "$i")" --advertise-client-urls "$(etcd_client "$i")" \
      --listen-peer-urls "$(etcd_peer "$i")" --initial-advertise-peer-urls "$(etcd_peer "$i")" \
      --initial-cluster "$(IFS=,; echo "${cluster[*]}")" --initial-cluster-state "$state" \
      --initial-cluster-token skiff-ha-demo --logger zap --log-level warn
  done
  for ((i = 0; i < 100; i++)); do
    ETCDCTL_API=3 etcdctl --endpoints "$(endpoints)" endpoint health >/dev/null 2>&1 && break
    sleep 0.2
  done
  echo "etcd: $(endpoints)"

  local common=(--datastore-endpoint "$(endpoints)" --bind-address "$BIND" --disable-agent)
  launch server-1 "${SKIFF[@]}" server --data-dir "$DIR/server-1" --https-listen-port "$(server_port 1)" --node-name server-1 "${common[@]}"
  wait_for server-1 'ready at' 90
  local token
  token=$(cat "$DIR/server-1/token")
  # The others need only the token and the datastore: CA and keys come from etcd.
  for i in 2 3; do
    launch "server-$i" "${SKIFF[@]}" server --data-dir "$DIR/server-$i" --https-listen-port "$(server_port "$i")" --node-name "server-$i" \
      --server "https://$(host):$(server_port 1)" --token "$token" "${common[@]}"
  done
  wait_for server-2 'ready at' 90
  wait_for server-3 'ready at' 90

  cat <<EOF

Three servers share one etcd. Each has its own admin kubeconfig (same CA, same cluster):
$(for i in "${MEMBERS[@]}"; do echo "  server-$i  https://$(host):$(server_port "$i")  KUBECONFIG=$DIR/server-$i/kubeconfig.yaml  (log $DIR/logs/server-$i.log)"; done)

Try:
  export KUBECONFIG=$DIR/server-1/kubeconfig.yaml
  kubectl create configmap hello --from-literal=a=1
  KUBECONFIG=$DIR/server-2/kubeconfig.yaml kubectl get configmap hello      # written via 1, read via 2
  kubectl get endpoints kubernetes                                         # every live server
  kubectl get lease -n kube-system skiff-controllers                       # who runs controllers+scheduler
  $0 status $DIR
  kill -9 \$(cat $DIR/pids/server-1)                                        # ~10 s later another server leads
  kill -9 \$(cat $DIR/pids/etcd-2)                                          # etcd keeps quorum with 2 of 3

Join an agent to it:  skiff agent --server https://<this machine's IP>:$(server_port 1) --token \$(cat $DIR/server-1/token)
  (pods reach the API through the kubernetes Service only if the servers listen beyond loopback: SKIFF_HA_BIND=0.0.0.0)
Stop:   $0 stop $DIR      (start again resumes)     Remove everything:  $0 clean $DIR
EOF
}

status() {
  local name
  for name in etcd-1 etcd-2 etcd-3 server-1 server-2 server-3; do
    if running "$name"; then echo "$name: running (pid $(cat "$DIR/pids/$name"))"; else echo "$name: stopped"; fi
  done
  local i
  for i in "${MEMBERS[@]}"; do
    running "server-$i" || continue
    export KUBECONFIG=$DIR/server-$i/kubeconfig.yaml
    echo "controllers lease holder: $(kubectl get lease -n kube-system skiff-controllers -o jsonpath='{.spec.holderIdentity}' 2>&1)"
    kubectl get endpoints kubernetes 2>&1 || true
    break
  done
}

stop() {
  local name pid
  for name in server-3 server-2 server-1 etcd-3 etcd-2 etcd-1; do
    [ -f "$DIR/pids/$name" ] || continue
    pid=$(cat "$DIR/pids/$name")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
      echo "stopped $name"
    fi
    rm -f "$DIR/pids/$name"
  done
}

case "$cmd" in
  start) start ;;
  status) status ;;
  stop) stop ;;
  clean) stop; rm -rf "$DIR"; echo "removed $DIR" ;;
  *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
