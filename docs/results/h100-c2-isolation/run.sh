#!/usr/bin/env bash
# Issue 7 on C2: the emitted library next to a second copy of the same TensorRT-LLM code.
# Run on the GPU machine from the repository root, with the extracted tree at out/w4a16-sm90:
#   bash docs/results/h100-c2-isolation/run.sh OUTDIR
# 1. builds the tree twice (shared, W4A16_SM90_HIDE_UPSTREAM_SYMBOLS ON and OFF);
# 2. builds libtrtllm_common.so from the same upstream sources, exporting tensorrt_llm:: symbols as
#    TensorRT-LLM's own libraries do (the "second copy");
# 3. links the emitted test program against that copy first and the emitted library second, runs its
#    quick check, and counts the run-time bindings from the emitted library into the second copy
#    (LD_DEBUG=bindings): 0 with isolation; without it, the emitted library's calls go to the copy.
set -euo pipefail
out=${1:?OUTDIR}; mkdir -p "$out"
tree=out/w4a16-sm90; t=$tree/third_party/tensorrt_llm
cuda=$(dirname "$(dirname "$(command -v nvcc)")")
for hide in ON OFF; do
  cmake -S $tree -B /tmp/iso-$hide -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
    -DW4A16_SM90_HIDE_UPSTREAM_SYMBOLS=$hide > /dev/null
done
( cmake --build /tmp/iso-ON -j 8 > "$out/build-on.log" ) & ( cmake --build /tmp/iso-OFF -j 8 > "$out/build-off.log" ) & wait
g++ -shared -fPIC -O2 -std=c++17 -I$t/include -I$t -isystem $cuda/include \
  $t/tensorrt_llm/common/logger.cpp $t/tensorrt_llm/common/stringUtils.cpp $t/tensorrt_llm/common/tllmException.cpp \
  -o /tmp/libtrtllm_common.so
for hide in ON OFF; do
  b=/tmp/iso-$hide
  echo "== isolation $hide" | tee -a "$out/summary.txt"
  echo "tensorrt_llm:: symbols exported by libw4a16_sm90.so: $(nm -DC --defined-only $b/libw4a16_sm90.so | grep -c 'tensorrt_llm::' || true)" | tee -a "$out/summary.txt"
  g++ -o $b/both $b/CMakeFiles/w4a16_sm90_test.dir/test/w4a16_sm90_test.cu.o -Wl,--no-as-needed \
    /tmp/libtrtllm_common.so $b/libw4a16_sm90.so -L$cuda/lib64 -lcublas -lcudart -Wl,-rpath,/tmp:$b:$cuda/lib64
  set +e
  LD_DEBUG=bindings LD_DEBUG_OUTPUT=/tmp/bind-$hide $b/both --check --quick > "$out/run-$hide.log" 2>&1
  echo "test program exit: $?" | tee -a "$out/summary.txt"
  set -e
  echo "bindings from libw4a16_sm90.so to libtrtllm_common.so: $(cat /tmp/bind-$hide.* | grep 'binding file .*libw4a16_sm90.so' | grep -c 'to /tmp/libtrtllm_common.so' || true)" | tee -a "$out/summary.txt"
  cat /tmp/bind-$hide.* | grep 'binding file .*libw4a16_sm90.so' | grep 'to /tmp/libtrtllm_common.so' | head -5 >> "$out/summary.txt" || true
done
