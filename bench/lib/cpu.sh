# CPU time, in clock ticks, for the side-by-side benchmarks (access-log.sh,
# events.sh): where a feature's cost lands, per request, which req/s alone
# cannot tell on a machine whose other load moves from round to round.
# Sourced, not run.

# One process's user + system time.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# All of PostgreSQL's processes (backends, walwriter, checkpointer, ...).
pg_ticks() { cat /proc/[0-9]*/stat 2>/dev/null | awk '$2 == "(postgres)" {s += $14 + $15} END {print s + 0}'; }
# The machine's stolen time (a virtual machine's CPU taken by its host).
steal_ticks() { awk '$1 == "cpu" {print $9}' /proc/stat; }
HZ=$(getconf CLK_TCK)
