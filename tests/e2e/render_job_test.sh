#!/usr/bin/env bash
# End to end: start a local region, render the sample scene through scheduler, workers (bubblewrap,
# Blender), gateway and ledger; kill one worker and then the scheduler mid-job; check that every
# task succeeded exactly once, that every frame is a valid PNG in the bucket, that the bill was
# settled with the 2 % fee, that reputations rose, and that the ledger verifies.
set -euo pipefail
root=$1
bin=$2
export DCLOUD_BIN=$bin
export DCLOUD_CLUSTER_DIR=$(mktemp -d /tmp/dcloud-e2e.XXXXXX)
export DCLOUD_HEARTBEAT_TIMEOUT_MS=4000
cluster=$root/scripts/cluster
passed=0
failed=0
check() {  # check NAME CONDITION-COMMAND...
  local name=$1; shift
  if "$@"; then echo "ok   - $name"; passed=$((passed + 1))
  else echo "FAIL - $name"; failed=$((failed + 1)); fi
}
finish() {
  local rc=$?
  if [ $failed -gt 0 ] || [ $rc -ne 0 ]; then
    for f in "$DCLOUD_CLUSTER_DIR"/logs/*.log; do
      [ -f "$f" ] && { echo "--- $(basename "$f") (tail)"; tail -25 "$f"; }
    done
  fi
  "$cluster" down >/dev/null 2>&1 || true
  echo "$passed passed, $failed failed"
  [ $failed -eq 0 ] && [ $rc -eq 0 ]
}
trap finish EXIT
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

"$cluster" up
eval "$("$cluster" env)"
dcloud=$bin/dcloud

scene=$DCLOUD_CLUSTER_DIR/scene.blend
blender -b --factory-startup --python "$root/samples/render/make_scene.py" -- "$scene" >/dev/null 2>&1
check "sample scene built" test -s "$scene"

balance_before=$("$dcloud" balance --json | json 'd["balance_micros"]')

# A bid below every worker's price is refused with the lowest acceptable price.
set +e
low=$("$dcloud" submit render "$scene" --frames 1-6 --max-price 0.1 2>&1)
rc=$?
set -e
check "low bid refused" test $rc -ne 0
check "low bid answer names the acceptable price 0.4" grep -q '0.4' <<<"$low"

job=$("$dcloud" submit render "$scene" --frames 1-6 --chunk 1 --max-price 1 --name e2e)
check "job submitted" test -n "$job"

# Kill one worker while it holds a task: its task must run again elsewhere. The victim is one
# that has already finished a task, so both providers have earned something to check below.
victim=""
for i in $(seq 1 600); do
  state=$("$dcloud" job "$job" --json)
  running_worker=$(json '" ".join(sorted({t["worker_id"] for t in d["tasks"] if t["state"] in ("leased","running")} & {t.get("worker_id","") for t in d["tasks"] if t["state"]=="succeeded"}))' <<<"$state")
  if [ -n "$running_worker" ]; then
    for n in 1 2; do
      if grep -q "registered as worker ${running_worker%% *}" "$DCLOUD_CLUSTER_DIR/logs/worker$n.log"; then victim=$n; fi
    done
    [ -n "$victim" ] && break
  fi
  sleep 0.2
done
check "found a worker holding a task" test -n "$victim"
"$cluster" kill-worker "$victim"
echo "killed worker $victim mid-job"

# Kill the scheduler too, while the survivor works, and start it again: nothing is lost and no
# task runs to success twice (bookings, leases and attempts live in PostgreSQL).
"$cluster" kill-scheduler
echo "killed the scheduler"
sleep 1
"$cluster" start-scheduler
check "scheduler restarted on its port" curl -fsS "$DCLOUD_SCHEDULER_URL/healthz" -o /dev/null

set +e
timeout 600 "$dcloud" wait "$job" >/dev/null
rc=$?
set -e
check "job finished successfully after losing a worker" test $rc -eq 0
final=$("$dcloud" job "$job" --json)
check "job state succeeded" test "$(json 'd["state"]' <<<"$final")" = succeeded
check "some task needed a second attempt" test "$(json 'max(t["attempts"] for t in d["tasks"])' <<<"$final")" -ge 2
successes=$(psql "$DCLOUD_DB" -Atc "SELECT COUNT(*) FROM scheduler.outbox WHERE job_id = '$job' AND receipt->>'exit_code' = '0'")
check "each of the six tasks succeeded exactly once" test "$successes" -eq 6

# Every frame is a valid PNG in the bucket, fetched with the user's own S3 keys.
bucket=$(json 'd["output_bucket"]' <<<"$final")
out=$DCLOUD_CLUSTER_DIR/frames
mkdir -p "$out"
/usr/bin/aws --endpoint-url "$DCLOUD_S3_ENDPOINT" s3 cp --recursive "s3://$bucket/jobs/$job/" "$out/" >/dev/null
for f in 1 2 3 4 5 6; do
  png=$(printf '%s/frame_%05d.png' "$out" "$f")
  check "frame $f is a PNG" sh -c "file '$png' | grep -q 'PNG image data, 320 x 240'"
done
urls=$(json 'len([u for t in d["tasks"] for u in t["outputs"]])' <<<"$final")
check "six frame URLs reported" test "$urls" -eq 6

# The bill: settled on the ledger, 2 % to the treasury, balances and reputations moved.
for i in $(seq 1 100); do
  final=$("$dcloud" job "$job" --json)
  [ "$(json 'd["cost_micros"] == d["settled_micros"]' <<<"$final")" = True ] && break
  sleep 0.2
done
cost=$(json 'd["cost_micros"]' <<<"$final")
check "the job cost something" test "$cost" -gt 0
check "every charge settled" test "$(json 'd["settled_micros"]' <<<"$final")" -eq "$cost"
balance_after=$("$dcloud" balance --json | json 'd["balance_micros"]')
check "owner paid exactly the bill" test $((balance_before - balance_after)) -eq "$cost"
check "owner reputation rose" test "$("$dcloud" balance --json | json 'd["reputation_micros"]')" -gt 0
paid_providers=0
for n in 1 2; do
  id=$(DCLOUD_KEY=$DCLOUD_CLUSTER_DIR/keys/provider$n.json "$dcloud" whoami)
  rep=$("$dcloud" reputation "$id" --json | json 'd["reputation_micros"]')
  [ "$rep" -gt 0 ] && paid_providers=$((paid_providers + 1))
done
check "both providers earned reputation" test $paid_providers -eq 2
treasury=$(DCLOUD_KEY=$DCLOUD_CLUSTER_DIR/keys/ledger.json "$dcloud" whoami)
fees=$("$dcloud" reputation "$treasury" --json | json 'd["balance_micros"]')
check "treasury holds about 2 % of the bill" python3 -c "import sys; sys.exit(0 if abs($fees - $cost*0.02) <= 8 else 1)"
check "ledger chain verifies" "$bin/dcloud-ledger" verify --db "$DCLOUD_DB"

# The live log: every task's Blender output and the job's end, through Redis and SSE.
logs=$("$dcloud" logs "$job")
check "logs carry Blender's output" grep -q "Saved: '/work/out/frame_00001.png'" <<<"$logs"
check "logs show the lost worker's task leased again" \
  test "$(grep -c 'leased to worker' <<<"$logs")" -ge 7
check "logs end with the job's end" grep -q -- '-- job succeeded' <<<"$logs"

# Every service answers /healthz and serves Prometheus metrics.
survivor=$((3 - victim))
for svc in "scheduler:$(cat "$DCLOUD_CLUSTER_DIR/scheduler.port")" \
           "gateway:$(cat "$DCLOUD_CLUSTER_DIR/gateway.port")" \
           "ledger:$(cat "$DCLOUD_CLUSTER_DIR/ledger.port")" \
           "worker$survivor:$(cat "$DCLOUD_CLUSTER_DIR/worker$survivor.port")"; do
  name=${svc%%:*}; port=${svc##*:}
  check "$name answers /healthz" sh -c "curl -fsS http://127.0.0.1:$port/healthz | grep -q ok"
  check "$name serves /metrics" sh -c "curl -fsS http://127.0.0.1:$port/metrics 2>/dev/null | grep -q '^# TYPE'"
done

# S3 refuses a wrong secret and a scoped key outside its prefix changes nothing.
set +e
AWS_SECRET_ACCESS_KEY=wrong /usr/bin/aws --endpoint-url "$DCLOUD_S3_ENDPOINT" s3 ls "s3://$bucket/" >/dev/null 2>&1
rc=$?
set -e
check "wrong S3 secret refused" test $rc -ne 0
