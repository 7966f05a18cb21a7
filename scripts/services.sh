#!/usr/bin/env bash
# Make sure the real servers the integration tests use answer on loopback; start the ones that do not
# from their installed binaries (Debian packages). Idempotent; loopback only; never installs anything.
#   scripts/services.sh            check and start redis, nats, rabbitmq, pubsub
#   scripts/services.sh redis nats only those
# pubsub (Google's Pub/Sub emulator, Java) answers on 127.0.0.1:8085 or a random free port; its host:port is
# written to $AAT_PUBSUB_HOST_FILE (default /tmp/aat-pubsub.host) for when PUBSUB_EMULATOR_HOST is not set.
set -uo pipefail

wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(redis nats rabbitmq pubsub)

say() { printf 'services: %s\n' "$*"; }

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_port() {
  local name=$1 port=$2
  for _ in $(seq 1 150); do
    port_open 127.0.0.1 "$port" && { say "$name is up on 127.0.0.1:$port"; return 0; }
    sleep 0.2
  done
  say "$name did not come up on 127.0.0.1:$port within 30 s"
  return 1
}

start_redis() {
  command -v redis-server >/dev/null || { say "redis-server is not installed (apt-get install redis-server)"; return 1; }
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
}

start_nats() {
  [ -x /usr/sbin/nats-server ] || command -v nats-server >/dev/null || { say "nats-server is not installed (apt-get install nats-server)"; return 1; }
  local bin; bin=$(command -v nats-server || echo /usr/sbin/nats-server)
  mkdir -p /var/lib/nats-server 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec "$bin" -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
}

start_rabbitmq() {
  command -v rabbitmq-server >/dev/null || { say "rabbitmq-server is not installed (apt-get install rabbitmq-server)"; return 1; }
  rabbitmq-server -detached
}

# A free port picked by the kernel (bind to port 0 and read it back).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

PUBSUB_HOST_FILE=${AAT_PUBSUB_HOST_FILE:-/tmp/aat-pubsub.host}
PUBSUB_PORT=8085
PUBSUB_BIN=/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator

# is_pubsub PORT: the server on that port is the Pub/Sub emulator (its root answers "Ok").
is_pubsub() { [ "$(curl -fsS --max-time 2 "http://127.0.0.1:$1/" 2>/dev/null)" = "Ok" ]; }

start_pubsub() {
  [ -x "$PUBSUB_BIN" ] || { say "the Pub/Sub emulator is not installed (gcloud components install pubsub-emulator)"; return 1; }
  if port_open 127.0.0.1 "$PUBSUB_PORT"; then PUBSUB_PORT=$(free_port); fi
  nohup "$PUBSUB_BIN" --host=127.0.0.1 --port="$PUBSUB_PORT" >/tmp/aat-pubsub.log 2>&1 &
  echo "127.0.0.1:$PUBSUB_PORT" >"$PUBSUB_HOST_FILE"
}

find_pubsub() {
  local recorded
  recorded=$(sed -n 's#^127.0.0.1:\([0-9]*\)$#\1#p' "$PUBSUB_HOST_FILE" 2>/dev/null)
  for candidate in $recorded 8085; do
    if is_pubsub "$candidate"; then
      PUBSUB_PORT=$candidate
      echo "127.0.0.1:$candidate" >"$PUBSUB_HOST_FILE"
      return 0
    fi
  done
  return 1
}

status=0
for name in "${wanted[@]}"; do
  case "$name" in
    redis) port=6379 ;;
    nats) port=4222 ;;
    rabbitmq) port=5672 ;;
    pubsub)
      if find_pubsub; then say "pubsub already answers on 127.0.0.1:$PUBSUB_PORT"; continue; fi
      say "starting pubsub"
      start_pubsub || { status=1; continue; }
      wait_port pubsub "$PUBSUB_PORT" || status=1
      continue
      ;;
    *) say "unknown service $name (known: redis nats rabbitmq pubsub)"; status=1; continue ;;
  esac
  if port_open 127.0.0.1 "$port"; then
    say "$name already answers on 127.0.0.1:$port"
    continue
  fi
  say "starting $name"
  "start_$name" || { status=1; continue; }
  # RabbitMQ takes a while to boot its Erlang node.
  wait_port "$name" "$port" || status=1
done
exit $status
