#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for vaelab's Slurm integration
# test and for trying `vaelab run --executor slurm` by hand. Needs root and
# Debian's packages: apt-get install -y slurm-wlm munge.
#
#   scripts/slurm-test-cluster.sh up DIR     # config, state and logs under DIR
#   export SLURM_CONF=DIR/slurm.conf         # point sbatch, squeue, ... at it
#   scripts/slurm-test-cluster.sh down DIR
#
# munged, slurmctld and slurmd run on localhost with proctrack/linuxproc and
# task/none (no cgroups needed) and no accounting database: vaelab reads job
# states from squeue, and from sacct or scontrol once a job has left the queue.
# On failure the script prints the daemons' own logs and exits non-zero.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[[ ($cmd == up || $cmd == down) && -n $dir ]] || { echo "usage: $0 up|down DIR" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

stop() {
  for f in "$dir"/slurmd.pid "$dir"/slurmctld.pid "$dir"/munged.pid; do
    [[ -f $f ]] && kill "$(cat "$f")" 2>/dev/null || true
  done
  sleep 1
  for f in "$dir"/slurmd.pid "$dir"/slurmctld.pid "$dir"/munged.pid; do
    [[ -f $f ]] && kill -9 "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
}

if [[ $cmd == down ]]; then
  stop
  exit 0
fi

fail() {
  echo "slurm test cluster: $*" >&2
  for log in munged.log slurmctld.log slurmd.log; do
    [[ -s $dir/$log ]] && { echo "--- $log" >&2; tail -n 30 "$dir/$log" >&2; }
  done
  stop
  exit 1
}

[[ $(id -u) == 0 ]] || fail "needs root (the daemons run as root here)"
for b in munged slurmctld slurmd sbatch squeue scontrol; do
  command -v "$b" >/dev/null || fail "$b not found: apt-get install -y slurm-wlm munge"
done

# munge: a private key and socket, so nothing on the machine is touched.
mkdir -p "$dir/munge"
chmod 700 "$dir/munge"
[[ -s $dir/munge/munge.key ]] || dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$dir/munge/munge.key"
socket=$dir/munge/munge.socket
munged --force --key-file="$dir/munge/munge.key" --socket="$socket" --pid-file="$dir/munged.pid" \
  --log-file="$dir/munged.log" --seed-file="$dir/munge/seed" || fail "munged did not start"

host=$(hostname -s)
mem=$(awk '/MemTotal/ {print int($2/1024*0.8)}' /proc/meminfo)
mkdir -p "$dir/state" "$dir/spool"
cat > "$dir/slurm.conf" <<CONF
ClusterName=vaelab-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
MinJobAge=3600
KillWait=10
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf
slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
for _ in $(seq 1 60); do
  state=$(sinfo -h -N -o '%T' 2>/dev/null | head -n1 || true)
  [[ $state == idle* ]] && { echo "slurm test cluster up: SLURM_CONF=$SLURM_CONF, node $host $state"; exit 0; }
  sleep 0.5
done
fail "node $host is not idle after 30 s (state: ${state:-unknown})"
