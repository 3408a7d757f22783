#!/usr/bin/env bash
# dcloud beside Slurm on this machine, in one run (issue 4, benchmark 3):
#   true    1,000 jobs of `true`, submitted one after another by one client
#   sleep   200 jobs of `sleep 0.5` on 16 slots (ideal makespan 200 x 0.5 / 16 = 6.25 s)
# Slurm: bench/slurm_baseline.sh (a one-node Slurm on loopback, 16 CPUs, workloads W1 and W2,
# `sbatch --wrap` per job). dcloud: scripts/cluster with one worker of 16 one-core slots, jobs
# submitted by dcloud-bench-jobs over the signed API; every job runs in the worker's sandbox
# (bubblewrap, cgroup, seccomp), its usage receipt is signed and settled like any other.
# Prints one line per workload:
#   workload=NAME slurm_makespan_s=X dcloud_makespan_s=Y ratio=Y/X ...
# Usage: bench/vs_slurm.sh BIN_DIR [REPS]   (root; installs slurm-wlm and munge when missing)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:?usage: vs_slurm.sh BIN_DIR [REPS]}
reps=${2:-3}
tmp=$(mktemp -d /tmp/dcloud-vs-slurm.XXXXXX)
chmod 755 "$tmp"  # munged wants its socket path traversable by everyone
cluster_dir=$tmp/dcloud
cleanup() {
  DCLOUD_CLUSTER_DIR=$cluster_dir "$root/scripts/cluster" down >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

median() { sort -g | awk '{a[NR]=$1} END{if (!NR) exit 1; print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }

# ---- Slurm
echo "# slurm: $reps reps of W1 (1000 x true) and W2 (200 x sleep 0.5), 16 slots" >&2
WORKLOADS="W1 W2" REPS=$reps SLOTS=16 W2_SLOTS=16 N1=1000 N2=200 W2_SLEEP=0.5 INSTALL=1 \
  bash "$root/bench/slurm_baseline.sh" "$tmp/slurm" >"$tmp/slurm.out" 2>"$tmp/slurm.err" || {
  cat "$tmp/slurm.err" >&2
  exit 1
}
slurm_makespan() {  # the summary line's median makespan of workload $1
  awk -v w="$1" '$1 == "slurm" && $2 == w && / reps=/ {
    for (i = 1; i <= NF; i++) if ($i ~ /^makespan=/) { sub("makespan=", "", $i); print $i } }' \
    "$tmp/slurm.out"
}
slurm_true=$(slurm_makespan W1)
slurm_sleep=$(slurm_makespan W2)
grep '^calib' "$tmp/slurm.out" | head -1 | sed 's/^/# /' >&2

# ---- dcloud
echo "# dcloud: one worker with 16 one-core slots" >&2
DCLOUD_CLUSTER_DIR=$cluster_dir DCLOUD_BIN=$bin DCLOUD_WORKERS=1 DCLOUD_WORKER_CORES=16 \
  DCLOUD_WORKER_MEMORY_MB=16384 DCLOUD_DEMO_FUNDS=100000 "$root/scripts/cluster" up \
  2>"$tmp/cluster.err" || {
  cat "$tmp/cluster.err" >&2
  exit 1
}
url=$(cat "$cluster_dir/scheduler.url")
run_dcloud() {  # run_dcloud JOBS COMMAND... -> makespan seconds
  local out
  out=$("$bin/dcloud-bench-jobs" --scheduler "$url" --key "$cluster_dir/keys/user.json" \
    --jobs "$@") || {
    echo "dcloud-bench-jobs failed: $out" >&2
    tail -20 "$cluster_dir/logs/scheduler.log" "$cluster_dir/logs/worker1.log" >&2
    return 1
  }
  printf '%s\n' "$out" | sed -n 's/^makespan_s=//p'
}
true_runs=()
sleep_runs=()
for r in $(seq 1 "$reps"); do
  true_runs+=("$(run_dcloud 1000 -- true)")
  sleep_runs+=("$(run_dcloud 200 -- sleep 0.5)")
  echo "# dcloud rep=$r true_makespan_s=${true_runs[-1]} sleep_makespan_s=${sleep_runs[-1]}" >&2
done
dcloud_true=$(printf '%s\n' "${true_runs[@]}" | median)
dcloud_sleep=$(printf '%s\n' "${sleep_runs[@]}" | median)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", a / b}'; }
echo "workload=true_x1000 slots=16 reps=$reps slurm_makespan_s=$slurm_true" \
  "dcloud_makespan_s=$dcloud_true ratio=$(ratio "$dcloud_true" "$slurm_true")"
# 200 equal tasks on 16 slots take ceil(200 / 16) = 13 waves of 0.5 s at best (6.5 s); the mean
# load, 200 x 0.5 / 16 = 6.25 s, cannot be reached by any scheduler.
ideal=6.5
echo "workload=sleep0.5_x200 slots=16 reps=$reps slurm_makespan_s=$slurm_sleep" \
  "dcloud_makespan_s=$dcloud_sleep ratio=$(ratio "$dcloud_sleep" "$slurm_sleep") ideal_s=$ideal" \
  "slurm_over_ideal=$(ratio "$slurm_sleep" $ideal) dcloud_over_ideal=$(ratio "$dcloud_sleep" $ideal)"
