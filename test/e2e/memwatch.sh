#!/usr/bin/env bash
# usage: memwatch.sh OUTFILE ROOTPID...
# Every 0.5 s sums the PSS (MiB) of the given processes and all their descendants and writes the
# peak so far to OUTFILE. Ends when all the roots are gone (or when killed).
out=$1
shift
peak=0
while :; do
  alive=0
  for r in "$@"; do [ -d "/proc/$r" ] && alive=1; done
  [ $alive = 0 ] && break
  pids="$*"
  frontier="$*"
  while [ -n "$frontier" ]; do
    next=""
    for p in $frontier; do next="$next $(cat /proc/"$p"/task/*/children 2>/dev/null)"; done
    next=$(echo $next)
    pids="$pids $next"
    frontier="$next"
  done
  tot=0
  for p in $pids; do
    kb=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null)
    tot=$((tot + ${kb:-0}))
  done
  tot=$((tot / 1024))
  if [ $tot -gt $peak ]; then
    peak=$tot
    echo "$peak" >"$out"
  fi
  sleep 0.5
done
