#!/bin/bash
# One device call: build the hand-assembled machete_sm90 tree, check, bench twice (the second with
# the tactics the first saved). Everything it reports lands in $OUT (7 files; the second bench appends to bench.log).
set -u
cd "$(dirname "$0")"
export PYTHONUNBUFFERED=1
B=$OUT/bench.log
{ date -u; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu --format=csv; nvcc --version | tail -2; } > $B 2>&1
TP=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
G=Ninja; command -v ninja >/dev/null || G="Unix Makefiles"
T0=$(date +%s)
{ cmake -S tree -B build -G "$G" -DBUILD_SHARED_LIBS=ON -DCMAKE_PREFIX_PATH="$TP" && cmake --build build -j 16; } > $OUT/build.log 2>&1
rc=$?; echo "build rc=$rc in $(( $(date +%s) - T0 )) s" | tee -a $B
if [ $rc -ne 0 ]; then grep -m3 -B2 -A25 -i 'error' $OUT/build.log | head -120; exit 3; fi
{ echo "== defined dynamic symbols outside machete_sm90:: (isolation)"; nm -DC --defined-only build/libmachete_sm90.so | grep -v ' machete_sm90::' ; echo "== count in machete_sm90::"; nm -DC --defined-only build/libmachete_sm90.so | grep -c ' machete_sm90::'; ls -la build/libmachete_sm90.so; } >> $B 2>&1
./build/machete_sm90_test --list-configs >> $B 2>&1
T1=$(date +%s)
./build/machete_sm90_test --check --json $OUT/check.json > $OUT/check.log 2>&1; echo "check rc=$? in $(( $(date +%s) - T1 )) s" | tee -a $B
T2=$(date +%s)
./build/machete_sm90_test --bench --styles gptq,awq --tactics $OUT/tactics.txt --json $OUT/bench.json >> $B 2>&1; echo "bench rc=$? in $(( $(date +%s) - T2 )) s" | tee -a $B
T3=$(date +%s)
./build/machete_sm90_test --bench --styles gptq,awq --tactics $OUT/tactics.txt --json $OUT/bench2.json >> $B 2>&1; echo "bench2 rc=$? in $(( $(date +%s) - T3 )) s" | tee -a $B
grep '^== check\|FAIL' $OUT/check.log | head -20
grep -A40 '^  op ' $B | head -40
grep 'profil\|^== bench\|OK\|FAILED' $B
