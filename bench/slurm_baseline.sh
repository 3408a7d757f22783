#!/usr/bin/env bash
# Vendored from the team's shared bench scripts (shared/bench/slurm-baseline.sh), unchanged below,
# so that scripts/bench vs-slurm works from a clone.
# slurm-baseline.sh -- reproducible single-host Slurm throughput baseline.
#
# Sets up (idempotently) a private one-node Slurm cluster on 127.0.0.1 inside
# WORKDIR (own munged socket/key, own slurm.conf via SLURM_CONF; nothing under
# /etc is touched), runs the workloads, prints result lines, and stops every
# daemon it started (by PID).  Needs root (jobs run as root, daemons as root).
#
# Usage:  slurm-baseline.sh [WORKDIR]            (default /tmp/slurm-baseline)
#   WORKDIR must be new/empty or a previous WORKDIR of this script (it holds a
#   .slurm-baseline marker); state/spool/log/etc/out in it are wiped each run.
#
# Workloads (WORKLOADS env, space separated, default "L1 W0 W1 W1A W1P W2 W2A"):
#   L1   LAT_N single `sbatch --wrap=true` jobs one after another on an idle
#        cluster; latency = submit -> job gone from squeue (20 ms polling)
#   W0   N1 x `sbatch --hold --wrap=true` (submit-only rate, jobs then scancel'd)
#   W1   N1 x `sbatch --wrap=true` (one client, sequential), SLOTS slots
#   W1A  one `sbatch --array=1-N1 --wrap=true`, SLOTS slots
#   W1P  N1 x `sbatch --wrap=true` from SUBMITTERS parallel clients, SLOTS slots
#   W2   N2 x `sbatch --wrap="sleep W2_SLEEP"` into partition w2, which is
#        capped at W2_SLOTS CPUs (MaxCPUsPerNode); ideal = N2*W2_SLEEP/W2_SLOTS
#   W2A  one `sbatch --array=1-N2%W2_SLOTS --wrap="sleep W2_SLEEP"`
# Workloads are interleaved inside each of the REPS repetitions; per-rep lines
# and a min/median/max summary per workload are printed.  A "calib" line gives
# the machine's bare fork+exec rate (/bin/true from bash) before and after, to
# normalise against background load when comparing with another scheduler,
# plus idle_cpu_busy = machine CPU use by *other* processes while Slurm idles.
#
# Timing: t0 = just before the first sbatch; submit_s = until the last sbatch
# returned; makespan = t0 until squeue shows no job in PD/R/CG/CF/S state
# (polled every POLL s, so makespan has +POLL s resolution).  Completion is
# verified through jobcomp/filetxt (every job must be COMPLETED, ExitCode=0:0).
# cpu_busy = machine-wide CPU utilisation during the rep (includes other
# tenants); slurmctld_cpu_s/slurmd_cpu_s = CPU seconds used by those daemons.
#
# Output lines (stdout; also appended to WORKDIR/results.txt, raw CSV in
# WORKDIR/raw.csv):
#   slurm W1 rep=1 n=1000 slots=64 submit_s=.. submit_rate=.. jobs/s makespan=.. s throughput=.. jobs/s cpu_busy=..% ...
#   slurm W1 n=1000 slots=64 reps=3 submit_rate=MED jobs/s makespan=MED s throughput=MED jobs/s
#         submit_rate_min=.. submit_rate_max=.. makespan_min=.. makespan_max=.. cpu_busy_med=..%
#   slurm W2 ... ideal=6.25 s overhead=.. s efficiency=..
# Exit status: 0 ok, 1 failure (message on stderr starting with "FAIL:").
#
# Knobs (env): N1=1000 N2=200 REPS=3 LAT_N=10 SLOTS=64 W2_SLOTS=16 W2_SLEEP=0.5
#   SUBMITTERS=4 CTLD_PORT=6817 SLURMD_PORT=6818 POLL=0.2 WAIT_TIMEOUT=900
#   SUBMIT_TIMEOUT=900 SCHEDULER_TYPE=sched/backfill SCHED_PARAMS=<see below>
#   JOBCOMP=filetxt|none  DEBUG_LEVEL=error  MUNGE_THREADS=10
#   JOB_OUTPUT=/dev/null (sbatch -o/-e; e.g. "$WORK/out/%j.out" for real files)
#   INSTALL=1 (apt-get install slurm-wlm munge if missing)
#   KEEP=0 (1: leave the daemons running after a successful run; a later run
#           on the same WORKDIR stops them first)
# Cleanup by hand (only if a run was SIGKILLed):
#   kill $(cat WORKDIR/run/slurmd.pid WORKDIR/run/slurmctld.pid WORKDIR/munge-run/munged.pid)
set -uo pipefail

WORK=$(realpath -m "${1:-${WORK:-/tmp/slurm-baseline}}")
N1=${N1:-1000}
N2=${N2:-200}
REPS=${REPS:-3}
SLOTS=${SLOTS:-64}
W2_SLOTS=${W2_SLOTS:-16}
W2_SLEEP=${W2_SLEEP:-0.5}
SUBMITTERS=${SUBMITTERS:-4}
CTLD_PORT=${CTLD_PORT:-6817}
SLURMD_PORT=${SLURMD_PORT:-6818}
POLL=${POLL:-0.2}
WAIT_TIMEOUT=${WAIT_TIMEOUT:-900}
SUBMIT_TIMEOUT=${SUBMIT_TIMEOUT:-900}
SCHEDULER_TYPE=${SCHEDULER_TYPE:-sched/backfill}
# SchedulerParameters default: chosen empirically on this 2-core VM for *burst*
# makespan.  The HTC guide's sustained-rate example (batch_sched_delay=20,
# sched_min_interval=2000000, bf_interval=300, ...) needed ~180 s for W1A here
# and plain defaults 27-45 s, versus ~16 s with this set.  "" = Slurm defaults.
SCHED_PARAMS=${SCHED_PARAMS-batch_sched_delay=0,sched_min_interval=0,default_queue_depth=1000,bf_interval=1,bf_continue,max_rpc_cnt=150}
JOBCOMP=${JOBCOMP:-filetxt}
DEBUG_LEVEL=${DEBUG_LEVEL:-error}
MUNGE_THREADS=${MUNGE_THREADS:-10}
JOB_OUTPUT=${JOB_OUTPUT:-/dev/null}
WORKLOADS=${WORKLOADS-"L1 W0 W1 W1A W1P W2 W2A"}
LAT_N=${LAT_N:-10}
INSTALL=${INSTALL:-1}
KEEP=${KEEP:-0}

CONF=$WORK/etc/slurm.conf
RESULTS=$WORK/results.txt
RAW=$WORK/raw.csv
JOBCOMP_FILE=$WORK/log/jobcomp.txt
MUNGE_SOCK=$WORK/munge-run/munge.sock
export SLURM_CONF=$CONF
unset SLURM_JOB_ID SLURM_JOBID SBATCH_PARTITION SLURM_PARTITION

log()  { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die()  { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
now()  { date +%s.%N; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", a-b}'; }
fdiv() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b<=0) print "inf"; else printf "%.1f", a/b}'; }

# ---------------------------------------------------------------- processes
declare -A PIDS=()
CHILD_PGIDS=()   # process groups of our background sbatch loops (setsid)
pid_alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }
# A PID from a pid file is ours only if its command line or environment
# mentions our WORKDIR (guards against PID reuse / foreign processes).
pid_is_ours() {
    local p=$1
    pid_alive "$p" || return 1
    { tr '\0' ' ' < /proc/"$p"/cmdline; } 2>/dev/null | grep -qF -- "$WORK" && return 0
    { tr '\0' '\n' < /proc/"$p"/environ; } 2>/dev/null | grep -qxF -- "SLURM_CONF=$CONF" && return 0
    return 1
}
stop_pid() {   # stop_pid NAME PID
    local name=$1 p=$2 i
    pid_alive "$p" || return 0
    kill -TERM "$p" 2>/dev/null
    for ((i = 0; i < 100; i++)); do pid_alive "$p" || { log "stopped $name (pid $p)"; return 0; }; sleep 0.1; done
    log "WARN: $name (pid $p) ignored SIGTERM for 10 s, sending SIGKILL"
    kill -KILL "$p" 2>/dev/null; sleep 0.2
}
# slurmstepd processes are forked by our slurmd and reparented; find them via
# their inherited SLURM_CONF (only ours carry $CONF).
our_stepds() {
    local p
    for p in $(pgrep -x slurmstepd 2>/dev/null); do
        { tr '\0' '\n' < /proc/"$p"/environ; } 2>/dev/null | grep -qxF -- "SLURM_CONF=$CONF" && echo "$p"
    done
}
# stop all our slurmstepd processes together: TERM, up to 5 s grace, then KILL
stop_stepds() {
    local ps p i
    ps=$(our_stepds)
    [[ -n $ps ]] || return 0
    kill -TERM $ps 2>/dev/null
    for ((i = 0; i < 50; i++)); do
        ps=$(for p in $ps; do pid_alive "$p" && echo "$p"; done)
        [[ -n $ps ]] || break
        sleep 0.1
    done
    if [[ -n $ps ]]; then log "WARN: sending SIGKILL to leftover slurmstepd: $(echo $ps)"; kill -KILL $ps 2>/dev/null; fi
    log "stopped our slurmstepd processes"
}
teardown() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ $KEEP == 1 && $rc == 0 ]]; then
        log "KEEP=1: daemons left running: ${PIDS[*]:-none}  (export SLURM_CONF=$CONF)"
        exit $rc
    fi
    local p
    for p in "${CHILD_PGIDS[@]}"; do   # our own sbatch client loops, if still running
        pid_alive "$p" && kill -TERM -- "-$p" 2>/dev/null && log "stopped sbatch loop (pgid $p)"
    done
    # on an aborted run, cancel our jobs first so that job steps end cleanly
    if ((rc != 0)) && pid_alive "${PIDS[slurmctld]:-}"; then
        timeout 10 scancel -u "$(id -un)" 2>/dev/null
        local i
        for ((i = 0; i < 50; i++)); do queue_empty 2>/dev/null && break; sleep 0.2; done
    fi
    [[ -n ${PIDS[slurmd]:-} ]] && stop_pid slurmd "${PIDS[slurmd]}"
    [[ -n ${PIDS[slurmctld]:-} ]] && stop_pid slurmctld "${PIDS[slurmctld]}"
    stop_stepds
    [[ -n ${PIDS[munged]:-} ]] && stop_pid munged "${PIDS[munged]}"
    exit $rc
}
trap teardown EXIT
trap 'die "interrupted"' INT TERM

# wait_until TIMEOUT_S DESCRIPTION CMD... : poll CMD every POLL s.
wait_until() {
    local to=$1 what=$2; shift 2
    local deadline; deadline=$(awk -v t="$(now)" -v d="$to" 'BEGIN{printf "%.3f", t+d}')
    while :; do
        "$@" && return 0
        if awk -v n="$(now)" -v d="$deadline" 'BEGIN{exit !(n>d)}'; then
            die "timeout after ${to}s waiting for: $what"
        fi
        sleep "$POLL"
    done
}

# ---------------------------------------------------------------- install
ensure_packages() {
    local missing=()
    command -v slurmctld >/dev/null || missing+=(slurmctld)
    command -v slurmd    >/dev/null || missing+=(slurmd)
    command -v sbatch    >/dev/null || missing+=(slurm-client)
    command -v munged    >/dev/null || missing+=(munge)
    ((${#missing[@]} == 0)) && return 0
    [[ $INSTALL == 1 ]] || die "missing packages: ${missing[*]} (apt-get install slurm-wlm munge)"
    log "installing: slurm-wlm munge"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y slurm-wlm munge \
        >"$WORK/apt.log" 2>&1 || die "apt-get install failed, see $WORK/apt.log"
}

# ---------------------------------------------------------------- setup
write_conf() {
    local jobcomp_lines
    if [[ $JOBCOMP == filetxt ]]; then
        jobcomp_lines="JobCompType=jobcomp/filetxt
JobCompLoc=$JOBCOMP_FILE"
    else
        jobcomp_lines="JobCompType=jobcomp/none"
    fi
    local sp_line=""
    [[ -n $SCHED_PARAMS ]] && sp_line="SchedulerParameters=$SCHED_PARAMS"
    cat >"$CONF" <<EOF
# generated by slurm-baseline.sh -- single node on loopback
ClusterName=baseline
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCK
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
$jobcomp_lines
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=$SCHEDULER_TYPE
$sp_line
PriorityType=priority/basic
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/run/slurmctld.pid
SlurmdPidFile=$WORK/run/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
SlurmctldDebug=$DEBUG_LEVEL
SlurmdDebug=$DEBUG_LEVEL
# high-throughput settings (https://slurm.schedmd.com/high_throughput.html)
MaxJobCount=200000
MaxArraySize=100001
MinJobAge=2
MessageTimeout=30
SlurmctldTimeout=120
SlurmdTimeout=300
InactiveLimit=0
KillWait=5
Waittime=0
ReturnToService=2
# the node advertises SLOTS CPUs regardless of the real core count
SlurmdParameters=config_overrides
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$SLOTS RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
PartitionName=w2 Nodes=localhost MaxCPUsPerNode=$W2_SLOTS MaxTime=INFINITE State=UP
EOF
}

port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

setup() {
    [[ $(id -u) == 0 ]] || die "must run as root"
    # safety: WORKDIR gets parts of it wiped; refuse "/" & co. and any existing
    # non-empty directory that this script did not create (marker file)
    [[ $WORK =~ ^/[^/]+/.+ ]] || die "WORKDIR must be at least two levels deep (got '$WORK')"
    if [[ -d $WORK && -n $(ls -A "$WORK" 2>/dev/null) && ! -f $WORK/.slurm-baseline ]]; then
        die "$WORK exists, is not empty and was not created by this script (no .slurm-baseline marker)"
    fi
    mkdir -p "$WORK" || die "cannot create $WORK"
    touch "$WORK/.slurm-baseline"
    ensure_packages
    # stop leftovers of a previous run of *this* workdir (pid files we wrote)
    local f p
    for f in "$WORK/run/slurmd.pid" "$WORK/run/slurmctld.pid" "$WORK/munge-run/munged.pid"; do
        [[ -f $f ]] || continue
        p=$(cat "$f" 2>/dev/null)
        if pid_is_ours "$p"; then stop_pid "leftover $(basename "$f" .pid)" "$p"; fi
        rm -f "$f"
    done
    stop_stepds
    # fresh state every run (job ids restart, no stale jobs), keep munge key
    rm -rf "${WORK:?}/state" "${WORK:?}/spool" "${WORK:?}/run" "${WORK:?}/log" "${WORK:?}/etc" "${WORK:?}/out" "${WORK:?}/munge-run"
    mkdir -p "$WORK"/{state,spool,run,log,etc,out,munge,munge-run} || die "mkdir failed"
    chmod 755 "$WORK" "$WORK/munge-run"; chmod 700 "$WORK/munge"
    if [[ ! -s $WORK/munge/munge.key ]]; then
        dd if=/dev/urandom of="$WORK/munge/munge.key" bs=1024 count=1 status=none || die "munge key"
    fi
    chmod 400 "$WORK/munge/munge.key"
    : >"$RESULTS.tmp"
    write_conf
    port_free "$CTLD_PORT"   || die "port $CTLD_PORT busy (set CTLD_PORT=...)"
    port_free "$SLURMD_PORT" || die "port $SLURMD_PORT busy (set SLURMD_PORT=...)"
}

start_daemons() {
    log "starting munged ($MUNGE_THREADS threads)"
    munged -F --socket="$MUNGE_SOCK" --key-file="$WORK/munge/munge.key" \
        --pid-file="$WORK/munge-run/munged.pid" --seed-file="$WORK/munge/munged.seed" \
        --log-file="$WORK/log/munged.log" --num-threads="$MUNGE_THREADS" \
        >"$WORK/log/munged.out" 2>&1 &
    PIDS[munged]=$!
    wait_until 20 "munged to answer on $MUNGE_SOCK" \
        bash -c "kill -0 ${PIDS[munged]} 2>/dev/null || exit 0; munge -S '$MUNGE_SOCK' -n 2>/dev/null | unmunge -S '$MUNGE_SOCK' >/dev/null 2>&1"
    pid_alive "${PIDS[munged]}" || die "munged exited: $(tail -n 3 "$WORK/log/munged.out")"

    log "starting slurmctld (port $CTLD_PORT)"
    slurmctld -D -c -i -f "$CONF" >"$WORK/log/slurmctld.out" 2>&1 &
    PIDS[slurmctld]=$!
    wait_until 60 "slurmctld to answer (scontrol ping)" \
        bash -c 'pid_ok() { kill -0 '"${PIDS[slurmctld]}"' 2>/dev/null; }; pid_ok || exit 0; scontrol ping 2>/dev/null | grep -q UP'
    pid_alive "${PIDS[slurmctld]}" || die "slurmctld exited: $(tail -n 5 "$WORK/log/slurmctld.out" "$WORK/log/slurmctld.log" 2>/dev/null)"

    log "starting slurmd (port $SLURMD_PORT, node localhost, $SLOTS CPUs advertised)"
    slurmd -D -N localhost -f "$CONF" >"$WORK/log/slurmd.out" 2>&1 &
    PIDS[slurmd]=$!
    wait_until 60 "node localhost to become idle (sinfo)" \
        bash -c 'kill -0 '"${PIDS[slurmd]}"' 2>/dev/null || exit 0; [[ $(sinfo -h -n localhost -p debug -o %T 2>/dev/null) == idle ]]'
    pid_alive "${PIDS[slurmd]}" || die "slurmd exited: $(tail -n 5 "$WORK/log/slurmd.out" "$WORK/log/slurmd.log" 2>/dev/null)"

    log "sinfo: $(sinfo -h -o '%P %a %D %T %c' | tr '\n' ';')"
    local h
    h=$(timeout 60 srun -N1 -n1 hostname 2>&1) || die "srun hostname failed: $h"
    log "srun hostname -> $h"
}

# ---------------------------------------------------------------- measurement
active_jobs() {  # prints count of not-finished jobs; fails if squeue fails
    local out
    out=$(squeue -h -t PD,R,CG,CF,S,RQ,RS,RH,SO,SI -o %i 2>/dev/null) || return 1
    [[ -z $out ]] && echo 0 || wc -l <<<"$out"
}
queue_empty() { local c; c=$(active_jobs) && [[ $c == 0 ]]; }

jobcomp_count() { if [[ -f $JOBCOMP_FILE ]]; then wc -l <"$JOBCOMP_FILE"; else echo 0; fi; }

# wait until at least WANT jobcomp records were appended after line FROM
jobcomp_wait() {
    [[ $JOBCOMP == filetxt ]] || return 0
    local from=$1 want=$2 tries=0 got
    while :; do   # slurmctld appends records asynchronously; allow a settle
        got=$(( $(jobcomp_count) - from ))
        ((got >= want)) && return 0
        ((tries++ > 100)) && die "jobcomp: only $got/$want completion records in $JOBCOMP_FILE"
        sleep 0.2
    done
}
# verify_jobcomp FROM_LINE EXPECTED : all records after FROM_LINE COMPLETED/0:0
verify_jobcomp() {
    [[ $JOBCOMP == filetxt ]] || return 0
    local from=$1 want=$2 bad
    jobcomp_wait "$from" "$want"
    bad=$(tail -n +"$((from + 1))" "$JOBCOMP_FILE" | grep -vc 'JobState=COMPLETED .*ExitCode=0:0')
    ((bad == 0)) || die "jobcomp: $bad of $want jobs not COMPLETED with ExitCode=0:0 (see $JOBCOMP_FILE)"
}

# machine-wide busy jiffies and total jiffies, from /proc/stat
cpu_sample() { awk '/^cpu /{b=$2+$3+$4+$7+$8+$9; t=b+$5+$6; print b, t}' /proc/stat; }
# CPU seconds (utime+stime) used so far by one of our daemons
proc_cpu_s() {
    local p=$1
    [[ -r /proc/$p/stat ]] || { echo 0; return; }
    awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); printf "%.2f", ($12+$13)/hz}' /proc/"$p"/stat
}

submit_loop() {  # submit_loop N PARTITION CMD [extra sbatch args] (sequential, one client)
    local n=$1 part=$2 cmd=$3 i; shift 3
    for ((i = 0; i < n; i++)); do
        sbatch -Q --parsable -p "$part" -o "$JOB_OUTPUT" -e "$JOB_OUTPUT" "$@" --wrap="$cmd" >/dev/null || return 1
    done
}
export -f submit_loop
export JOB_OUTPUT

# measure NAME REP N SLOTS MODE(seq|array|par|held) PARTITION CMD [ARRAYSPEC]
measure() {
    local name=$1 rep=$2 n=$3 slots=$4 mode=$5 part=$6 cmd=$7 aspec=${8:-}
    queue_empty || wait_until "$WAIT_TIMEOUT" "queue to drain before $name" queue_empty
    local jc0 t0 t1 t2 out c0 c1 ctl0 ctl1 sd0 sd1 load
    load=$(cut -d' ' -f1 /proc/loadavg)
    ctl0=$(proc_cpu_s "${PIDS[slurmctld]}"); sd0=$(proc_cpu_s "${PIDS[slurmd]}")
    c0=$(cpu_sample)
    jc0=$(jobcomp_count)
    t0=$(now)
    case $mode in
    seq | held)
        local extra=(); [[ $mode == held ]] && extra=(--hold)
        # background + wait, so that SIGINT/SIGTERM to this script is handled at once
        setsid timeout "$SUBMIT_TIMEOUT" bash -c 'submit_loop "$@"' _ "$n" "$part" "$cmd" "${extra[@]}" &
        CHILD_PGIDS+=("$!")
        wait "$!" || die "$name rep $rep: sbatch loop failed or exceeded ${SUBMIT_TIMEOUT}s" ;;
    par)
        local k per=$((n / SUBMITTERS)) rem=$((n % SUBMITTERS)) pids=() m
        for ((k = 0; k < SUBMITTERS; k++)); do
            m=$per; ((k < rem)) && m=$((m + 1))
            setsid timeout "$SUBMIT_TIMEOUT" bash -c 'submit_loop "$@"' _ "$m" "$part" "$cmd" &
            pids+=($!); CHILD_PGIDS+=("$!")
        done
        for k in "${pids[@]}"; do wait "$k" || die "$name rep $rep: a parallel sbatch client failed"; done ;;
    array)
        out=$(timeout "$SUBMIT_TIMEOUT" sbatch -Q --parsable -p "$part" --array="$aspec" \
            -o "$JOB_OUTPUT" -e "$JOB_OUTPUT" --wrap="$cmd" 2>&1) \
            || die "$name rep $rep: sbatch --array failed: $out" ;;
    esac
    t1=$(now)
    if [[ $mode == held ]]; then
        # submit-only measurement: jobs were held, cancel them and wait
        [[ $(active_jobs) == "$n" ]] || die "$name rep $rep: expected $n held jobs, squeue shows $(active_jobs)"
        scancel -u "$(id -un)" || die "$name rep $rep: scancel failed"
        wait_until "$WAIT_TIMEOUT" "$name rep $rep: held jobs to be cancelled" queue_empty
        jobcomp_wait "$jc0" "$n"
        t2=$t1
    else
        wait_until "$WAIT_TIMEOUT" "$name rep $rep: all $n jobs to finish" queue_empty
        t2=$(now)
        c1=$(cpu_sample)
        verify_jobcomp "$jc0" "$n"
    fi
    [[ -n ${c1:-} ]] || c1=$(cpu_sample)
    ctl1=$(proc_cpu_s "${PIDS[slurmctld]}"); sd1=$(proc_cpu_s "${PIDS[slurmd]}")
    local sub mk busy
    sub=$(fsub "$t1" "$t0"); mk=$(fsub "$t2" "$t0")
    busy=$(awk -v a="$c0" -v b="$c1" 'BEGIN{split(a,x," "); split(b,y," "); d=y[2]-x[2]; printf "%.0f", ((d > 0) ? 100*(y[1]-x[1])/d : 0)}')
    [[ $mode == held ]] && mk=0
    echo "$name,$rep,$n,$slots,$sub,$mk,$load,$busy,$(fsub "$ctl1" "$ctl0"),$(fsub "$sd1" "$sd0")" >>"$RAW"
    local line="slurm $name rep=$rep n=$n slots=$slots submit_s=$sub submit_rate=$(fdiv "$n" "$sub") jobs/s"
    [[ $mode == held ]] || line+=" makespan=$mk s throughput=$(fdiv "$n" "$mk") jobs/s"
    line+=" cpu_busy=${busy}% load1_before=$load slurmctld_cpu_s=$(fsub "$ctl1" "$ctl0") slurmd_cpu_s=$(fsub "$sd1" "$sd0")"
    echo "$line"; echo "$line" >>"$RESULTS.tmp"
}

# latency LAT_N sequential single `true` jobs on an idle cluster: submit ->
# gone from squeue, polled every 20 ms.  Prints per-rep median/min/max.
latency() {
    local rep=$1 i t0 t1 lats=() jc0 l
    queue_empty || wait_until "$WAIT_TIMEOUT" "queue to drain before L1" queue_empty
    jc0=$(jobcomp_count)
    for ((i = 0; i < LAT_N; i++)); do
        t0=$(now)
        sbatch -Q --parsable -p debug -o "$JOB_OUTPUT" -e "$JOB_OUTPUT" --wrap=true >/dev/null \
            || die "L1 rep $rep: sbatch failed"
        POLL=0.02 wait_until 60 "L1 rep $rep: single job to finish" queue_empty
        t1=$(now)
        lats+=("$(fsub "$t1" "$t0")")
    done
    verify_jobcomp "$jc0" "$LAT_N"
    l=$(printf '%s\n' "${lats[@]}" | sort -g | awk '{a[NR]=$1} END{m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "latency_med=%.3f s latency_min=%.3f s latency_max=%.3f s", m, a[1], a[NR]}')
    echo "L1,$rep,$LAT_N,$SLOTS,0,$(printf '%s\n' "${lats[@]}" | sort -g | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'),$(cut -d' ' -f1 /proc/loadavg),0,0,0" >>"$RAW"
    local line="slurm L1 rep=$rep n=$LAT_N $l"
    echo "$line"; echo "$line" >>"$RESULTS.tmp"
}

# summarize NAME [IDEAL]
summarize() {
    local name=$1 ideal=${2:-}
    awk -F, -v w="$name" -v ideal="$ideal" '
    function med(a, k) { return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
    function srt(a, k,   i, j, t) { for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
    $1 == w { k++; n = $3; s = $4; sr[k] = ($5 > 0) ? $3 / $5 : 0; mk[k] = $6; tp[k] = ($6 > 0) ? $3 / $6 : 0; bz[k] = $8 }
    END {
        if (!k) exit 1
        srt(sr, k); srt(mk, k); srt(tp, k); srt(bz, k)
        printf "slurm %s n=%d slots=%d reps=%d submit_rate=%.1f jobs/s", w, n, s, k, med(sr, k)
        if (mk[k] > 0) printf " makespan=%.2f s throughput=%.1f jobs/s", med(mk, k), med(tp, k)
        printf " submit_rate_min=%.1f submit_rate_max=%.1f", sr[1], sr[k]
        if (mk[k] > 0) printf " makespan_min=%.2f makespan_max=%.2f", mk[1], mk[k]
        if (ideal != "") printf " ideal=%.2f s overhead=%.2f s efficiency=%.2f", ideal, med(mk, k) - ideal, ideal / med(mk, k)
        printf " cpu_busy_med=%d%%\n", med(bz, k)
    }' "$RAW"
}

# process-spawn floor of this machine right now: N1 sequential fork+exec of
# /bin/true from bash (a scheduler cannot launch jobs faster than this per core)
calibrate() {
    local t0 t1 i c0 c1 bg
    # background CPU use (other tenants; our daemons are idle here) over 3 s
    c0=$(cpu_sample); sleep 3; c1=$(cpu_sample)
    bg=$(awk -v a="$c0" -v b="$c1" 'BEGIN{split(a,x," "); split(b,y," "); d=y[2]-x[2]; printf "%.0f", ((d > 0) ? 100*(y[1]-x[1])/d : 0)}')
    t0=$(now)
    for ((i = 0; i < N1; i++)); do /bin/true; done
    t1=$(now)
    local line="calib fork_exec_true n=$N1 rate=$(fdiv "$N1" "$(fsub "$t1" "$t0")") /s idle_cpu_busy=${bg}% load1=$(cut -d' ' -f1 /proc/loadavg)"
    echo "$line"; echo "$line" >>"$RESULTS.tmp"
}

# ---------------------------------------------------------------- main
main() {
    setup
    {
        echo "# slurm-baseline $(date -u +%FT%TZ) host=$(hostname) cpus=$(nproc) mem=$(awk '/MemTotal/{printf "%.1fGiB", $2/1048576}' /proc/meminfo) load=$(cut -d' ' -f1-3 /proc/loadavg)"
        echo "# $(slurmctld -V) munge=$(munged -V 2>&1 | awk '{print $1}') kernel=$(uname -r)"
        echo "# SCHEDULER_TYPE=$SCHEDULER_TYPE SCHED_PARAMS=$SCHED_PARAMS JOBCOMP=$JOBCOMP SLOTS=$SLOTS W2_SLOTS=$W2_SLOTS JOB_OUTPUT=$JOB_OUTPUT REPS=$REPS"
    } | tee -a "$RESULTS.tmp"
    echo "workload,rep,n,slots,submit_s,makespan_s,load1_before,cpu_busy_pct,slurmctld_cpu_s,slurmd_cpu_s" >"$RAW"
    start_daemons
    calibrate

    local w r ideal
    ideal=$(awk -v n="$N2" -v s="$W2_SLEEP" -v k="$W2_SLOTS" 'BEGIN{printf "%.2f", n*s/k}')
    # interleave workloads within each repetition so that background-load
    # drift hits all of them alike
    for ((r = 1; r <= REPS; r++)); do
        for w in $WORKLOADS; do
            case $w in
            L1)  latency "$r" ;;
            W0)  measure W0  "$r" "$N1" "$SLOTS" held  debug true ;;
            W1)  measure W1  "$r" "$N1" "$SLOTS" seq   debug true ;;
            W1A) measure W1A "$r" "$N1" "$SLOTS" array debug true "1-$N1" ;;
            W1P) measure W1P "$r" "$N1" "$SLOTS" par   debug true ;;
            W2)  measure W2  "$r" "$N2" "$W2_SLOTS" seq   w2    "sleep $W2_SLEEP" ;;
            W2A) measure W2A "$r" "$N2" "$W2_SLOTS" array debug "sleep $W2_SLEEP" "1-$N2%$W2_SLOTS" ;;
            *) die "unknown workload $w (known: L1 W0 W1 W1A W1P W2 W2A)" ;;
            esac
        done
    done
    echo "# summary (median over reps; min/max alongside)" | tee -a "$RESULTS.tmp"
    for w in $WORKLOADS; do
        case $w in
        L1) awk -F, '$1 == "L1" {v[++k] = $6} END {if (!k) exit; for (i = 2; i <= k; i++) {t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t}
                printf "slurm L1 reps=%d latency_med_of_rep_medians=%.3f s min=%.3f max=%.3f\n", k, v[int((k + 1) / 2)], v[1], v[k]}' "$RAW" ;;
        W2|W2A) summarize "$w" "$ideal" ;;
        *) summarize "$w" ;;
        esac | tee -a "$RESULTS.tmp"
    done
    calibrate
    local sd; sd=$(sdiag 2>/dev/null | grep -E 'Jobs (submitted|started|completed)|Total backfilled jobs \(since last slurm start\)' | tr -s ' ' | tr '\n' ';')
    echo "# sdiag: $sd" | tee -a "$RESULTS.tmp" >/dev/null
    cat "$RESULTS.tmp" >>"$RESULTS"; rm -f "$RESULTS.tmp"
    log "results appended to $RESULTS; raw per-rep data in $RAW; config $CONF"
}

main "$@"
