# Shared shell helpers for scripts/test, scripts/cluster and scripts/demo. Source it.

# A free TCP port on 127.0.0.1 (the kernel picks it; a tiny race remains until the server binds).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# pg_up DIR: a private PostgreSQL cluster in DIR/pg, listening on 127.0.0.1 and a socket in DIR/pg.
# Sets PG_PORT and PG_URL (a libpq connection string for the postgres superuser).
pg_up() {
  local dir=$1 durable=${2:-no}
  local pgbin=/usr/lib/postgresql/15/bin
  mkdir -p "$dir/pg"; chmod 0755 "$dir" "$dir/pg"; chown postgres:postgres "$dir/pg"
  PG_PORT=$(free_port)
  local opts="-k $dir/pg -p $PG_PORT -c listen_addresses=127.0.0.1 -c max_connections=300"
  [ "$durable" = no ] && opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  # Extra server settings for profiling, e.g. "-c shared_preload_libraries=pg_stat_statements".
  opts="$opts ${DCLOUD_PG_OPTS:-}"
  runuser -u postgres -- $pgbin/initdb -D "$dir/pg/data" -U postgres -A trust -E UTF8 \
    --locale=C.UTF-8 --no-sync >"$dir/pg/initdb.log" 2>&1
  runuser -u postgres -- $pgbin/pg_ctl -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 60 \
    -o "$opts" start >/dev/null
  PG_URL="host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres"
}

pg_down() {
  local dir=$1
  [ -d "$dir/pg/data" ] || return 0
  runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$dir/pg/data" -m fast -w -t 30 \
    stop >/dev/null 2>&1 || true
}

# redis_up DIR: Redis on 127.0.0.1. Sets REDIS_PORT.
redis_up() {
  local dir=$1
  mkdir -p "$dir/redis"
  REDIS_PORT=$(free_port); echo "$REDIS_PORT" > "$dir/redis/port.txt"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$dir/redis" --daemonize yes \
    --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" --save "" \
    --appendonly no --databases 1024 >/dev/null
  local i
  for i in $(seq 1 200); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "redis did not start: $(tail -5 "$dir/redis/redis.log")" >&2
  return 1
}

redis_down() {
  local dir=$1
  [ -f "$dir/redis/port.txt" ] || return 0
  redis-cli -p "$(cat "$dir/redis/port.txt")" shutdown nosave >/dev/null 2>&1 || true
}
