#!/usr/bin/env bash
# The CUDA check of the LibTorch code paths (docs/llm.md, "CUDA check"), for a GPU machine that has
# a CUDA build of PyTorch (its LibTorch headers, libraries and CMake config), a C++ compiler, nvcc,
# cmake and ninja, but none of mecllm's other build dependencies and no network.
#
# Prepared on a Debian bookworm machine, in the repository root (.devdeps/ must be git-ignored):
#   mkdir -p .devdeps/debs && (cd .devdeps/debs && apt-get download libfmt-dev libfmt9 \
#     libspdlog-dev libspdlog1.10 nlohmann-json3-dev libcli11-dev libyaml-cpp-dev libyaml-cpp0.7 \
#     libgtest-dev libgmock-dev googletest libbenchmark-dev libbenchmark1debian libsentencepiece-dev \
#     libsentencepiece0 libprotobuf-lite32 libpcre2-dev libpcre2-8-0 libpcre2-16-0 libpcre2-32-0 \
#     libpcre2-posix3 libcpp-httplib-dev libcpp-httplib0.11 pkgconf pkgconf-bin libpkgconf3)
#   for f in .devdeps/debs/*.deb; do dpkg -x "$f" .devdeps/root; done
#   mkdir -p .devdeps/shared/models .devdeps/shared/golden
#   cp -r ../shared/models/stories260K .devdeps/shared/models/ && cp ../shared/golden/* .devdeps/shared/golden/
#   rm -rf .devdeps/debs                           # need not travel
#   mkdir -p .devdeps/src && git archive HEAD | tar -x -C .devdeps/src   # optional, see below
# then on the GPU machine, with .devdeps carried along: scripts/device_cuda_check.sh, or, to build
# the committed tree rather than a working tree holding other people's unfinished edits:
#   DEVDEPS=$PWD/.devdeps .devdeps/src/scripts/device_cuda_check.sh
#
# Environment: OUT (logs; default /tmp/mecllm-cuda-check), PYTHON (the Python holding torch;
# default /opt/torch/.venv/bin/python3, else python3) or TORCH_CMAKE (LibTorch's CMake prefix),
# DEVDEPS (default .devdeps), BUILD_DIR (default /tmp/mecllm-build-cuda), JOBS (16), CONFIGURE_ONLY=1
# (stop after cmake: a dry run of the dependency setup on any machine), FORCE_SHIM=1 (skip
# LibTorch's own CMake package; TORCH_INC/TORCH_LIB then name its headers and libraries).
# Exit status: 0 when both CUDA test programs pass, else the first failing stage's.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-/tmp/mecllm-cuda-check}
DEVDEPS=$(cd "$ROOT" && realpath -m "${DEVDEPS:-.devdeps}")
DEV=$DEVDEPS/root
BUILD=${BUILD_DIR:-/tmp/mecllm-build-cuda}
JOBS=${JOBS:-16}
mkdir -p "$OUT" "$BUILD"
exec > >(tee -a "$OUT/check.log") 2>&1

fail() {
  echo "DEVICE-CHECK FAILED: $*"
  exit "${2:-1}"
}
stage() { echo; echo "==== $* ($(date -u +%H:%M:%S))"; }

stage "tools"
set -x
uname -a
cat /etc/os-release 2>/dev/null | head -2
nvidia-smi || echo "nvidia-smi failed"
CXX=${CXX:-$(command -v g++ || command -v c++ || true)}
[[ -n $CXX ]] || fail "no C++ compiler (g++/c++) on this machine"
"$CXX" --version | head -1
NVCC=$(command -v nvcc || ls /usr/local/cuda/bin/nvcc 2>/dev/null || true)
[[ -n $NVCC ]] && "$NVCC" --version | tail -2 || echo "no nvcc on PATH (LibTorch's CMake config may need it)"
command -v cmake >/dev/null || fail "no cmake"
cmake --version | head -1
command -v ninja >/dev/null || fail "no ninja"
ninja --version
PYTHON=${PYTHON:-/opt/torch/.venv/bin/python3}
[[ -x $PYTHON ]] || PYTHON=$(command -v python3)
TORCH_CMAKE=${TORCH_CMAKE:-$("$PYTHON" -c 'import torch; print(torch.utils.cmake_prefix_path)')} || fail "no torch in $PYTHON"
[[ -d $TORCH_CMAKE ]] || fail "no LibTorch CMake config at '$TORCH_CMAKE'"
"$PYTHON" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'
[[ -d $DEV/usr/lib/x86_64-linux-gnu ]] || fail "$DEV is missing: prepare .devdeps (see the head of this script) and carry it"
[[ -f $DEVDEPS/shared/models/stories260K/stories260K.bin ]] || fail "$DEVDEPS/shared lacks stories260K"

# pkg-config: the carried pkgconf over the carried .pc files, their prefix moved to $DEV/usr.
PC=$BUILD/pkgconfig
mkdir -p "$PC"
for f in "$DEV"/usr/lib/x86_64-linux-gnu/pkgconfig/*.pc "$DEV"/usr/share/pkgconfig/*.pc; do
  sed "s#^prefix=/usr\$#prefix=$DEV/usr#" "$f" >"$PC/$(basename "$f")"
done
cat >"$BUILD/pkg-config" <<EOF
#!/bin/sh
PKG_CONFIG_LIBDIR=$PC PKG_CONFIG_PATH= LD_LIBRARY_PATH=$DEV/usr/lib/x86_64-linux-gnu exec $DEV/usr/bin/pkgconf "\$@"
EOF
chmod +x "$BUILD/pkg-config"
"$BUILD/pkg-config" --cflags --libs sentencepiece libpcre2-8 || fail "carried pkgconf does not run"

stage "configure"
CUDA_ROOT=""
[[ -n $NVCC ]] && CUDA_ROOT=$(dirname "$(dirname "$(realpath "$NVCC")")")
TORCH_PKG=$("$PYTHON" -c 'import torch, os; print(os.path.dirname(torch.__file__))' 2>/dev/null || true)
TORCH_ABI=$("$PYTHON" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))' 2>/dev/null || echo 1)
# LibTorch's CUDA config looks for NVTX3 only inside its own source tree: point it at the toolkit's.
NVTX3_DIR=""
for d in ${CUDA_ROOT:+"$CUDA_ROOT/include" "$CUDA_ROOT/targets/x86_64-linux/include"} /usr/local/cuda/include \
         ${TORCH_PKG:+$(ls -d "$TORCH_PKG"/../nvidia/*/include 2>/dev/null)}; do
  [[ -d $d/nvtx3 ]] && { NVTX3_DIR=$d; break; }
done
echo "CUDA root '$CUDA_ROOT', NVTX3 in '$NVTX3_DIR', torch package '$TORCH_PKG' (C++11 ABI $TORCH_ABI)"
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}  # H100/H200; skips LibTorch's GPU probe
export PKG_CONFIG=$BUILD/pkg-config
COMMON=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$CXX"
  -DMECLLM_WITH_TORCH=ON -DMECLLM_BUILD_TESTS=ON -DMECLLM_BUILD_BENCH=OFF
  -DPKG_CONFIG_EXECUTABLE="$BUILD/pkg-config"
  -DCMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE=PRE_TEST -DCMAKE_POLICY_VERSION_MINIMUM=3.5)
# Attempt 1: LibTorch's own CMake package (with the CUDA toolkit it asks for).
configured=0
if [[ ${FORCE_SHIM:-0} != 1 ]]; then
  timeout 180 cmake -S "$ROOT" -B "$BUILD" "${COMMON[@]}" \
    "-DCMAKE_PREFIX_PATH=$DEV/usr;$TORCH_CMAKE" \
    -DCMAKE_PROJECT_INCLUDE="$ROOT/scripts/device_cuda_stubs.cmake" \
    ${CUDA_ROOT:+-DCUDAToolkit_ROOT="$CUDA_ROOT" -DCMAKE_CUDA_COMPILER="$NVCC"} \
    ${NVTX3_DIR:+-Dnvtx3_dir="$NVTX3_DIR" -DUSE_SYSTEM_NVTX=ON} \
    -DCMAKE_CUDA_ARCHITECTURES=90 && configured=1
  [[ $configured == 1 ]] || { cp "$BUILD/CMakeFiles/CMakeConfigureLog.yaml" "$OUT/" 2>/dev/null;
                              echo "LibTorch's CMake package failed: falling back to scripts/device_torch_shim"; }
fi
# Attempt 2: the shim package (libraries and headers of the same torch, no CUDA toolkit lookup).
if [[ $configured != 1 ]]; then
  TORCH_INC=${TORCH_INC:-$TORCH_PKG/include}
  TORCH_LIB=${TORCH_LIB:-$TORCH_PKG/lib}
  [[ -d $TORCH_INC/torch/csrc/api/include && -d $TORCH_LIB ]] || fail "no LibTorch headers/libs under '$TORCH_PKG'" 2
  rm -rf "$BUILD/CMakeCache.txt" "$BUILD/CMakeFiles"
  timeout 180 cmake -S "$ROOT" -B "$BUILD" "${COMMON[@]}" \
    "-DCMAKE_PREFIX_PATH=$DEV/usr" -DTorch_DIR="$ROOT/scripts/device_torch_shim" \
    -DMECLLM_TORCH_INCLUDE_DIR="$TORCH_INC" -DMECLLM_TORCH_LIB_DIR="$TORCH_LIB" -DMECLLM_TORCH_CXX11_ABI="$TORCH_ABI" \
    || fail "cmake configure failed with both LibTorch's package and the shim" 2
fi

[[ ${CONFIGURE_ONLY:-0} == 1 ]] && { echo "CONFIGURE_ONLY=1: stopping after configure"; exit 0; }

stage "build"
timeout 330 ninja -C "$BUILD" -j "$JOBS" -k 0 test_llm_cuda test_compress_cuda || fail "build failed (see above)" 3

stage "run"
export LD_LIBRARY_PATH=$DEV/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export MECLLM_SHARED_DIR=$DEVDEPS/shared
TESTS=(llm/test_llm_cuda compress/test_compress_cuda)
for t in "${TESTS[@]}"; do
  ldd "$BUILD/tests/$t" | grep -E "not found|torch_cuda|cudart|sentencepiece|protobuf" || true
done
# run_all LABEL [VAR=VALUE...]: every test case in its own process (a crash loses only that case),
# stdout line-buffered; appends to $OUT/<program>.log; sets CRASHED (cases that died on a signal)
# and FAILED (cases that did not pass).
run_all() {
  local label=$1; shift
  CRASHED=(); FAILED=()
  for t in "${TESTS[@]}"; do
    local name bin cases c r
    name=$(basename "$t"); bin=$BUILD/tests/$t
    cases=$("$bin" --gtest_list_tests | awk '/^[^ ]/{s=$1} /^  /{print s $1}')
    for c in $cases; do
      echo "---- [$label] $name $c" | tee -a "$OUT/$name.log"
      env "$@" timeout 180 stdbuf -oL -eL "$bin" --gtest_filter="$c" >>"$OUT/$name.log" 2>&1
      r=$?
      echo "---- [$label] $name $c exit $r" | tee -a "$OUT/$name.log"
      if [[ $r -gt 128 ]]; then CRASHED+=("$bin:$c"); fi
      if [[ $r -ne 0 ]] || grep -q "SKIPPED \]" <(tail -n 5 "$OUT/$name.log"); then FAILED+=("$bin:$c"); fi
    done
  done
  echo "[$label] failed: ${FAILED[*]:-none}; crashed: ${CRASHED[*]:-none}"
}
run_all default
rc=0
if ((${#FAILED[@]})); then rc=5; fi
if ((${#CRASHED[@]})); then
  stage "diagnose crash"
  first=${CRASHED[0]}
  GDB=$(command -v cuda-gdb || ls /usr/local/cuda/bin/cuda-gdb 2>/dev/null || true)
  if [[ -n $GDB ]]; then
    timeout 120 "$GDB" -q -batch -ex "set pagination off" -ex run -ex bt \
      -ex "info threads" --args "${first%%:*}" --gtest_filter="${first#*:}" >"$OUT/backtrace.log" 2>&1
    grep -E "^#|signal|SIG" "$OUT/backtrace.log" | head -n 40
  fi
  # The runtime's AVX-512 kernels never run on the AVX2-only development machines: rule them out.
  for c in "${CRASHED[@]}"; do
    echo "---- [simd avx2] ${c#*:}" | tee -a "$OUT/retries.log"
    env MECLLM_SIMD=avx2 timeout 180 stdbuf -oL -eL "${c%%:*}" --gtest_filter="${c#*:}" >>"$OUT/retries.log" 2>&1
    echo "---- [simd avx2] ${c#*:} exit $?" | tee -a "$OUT/retries.log"
  done
  # Linked without the system's libprotobuf (src/llm/CMakeLists.txt links one first for Debian's
  # LibTorch; the pip LibTorch carries its own protobuf).
  if [[ -n $TORCH_PKG ]] && grep -q "MECLLM_PROTOBUF_LIBRARY:FILEPATH=/" "$BUILD/CMakeCache.txt"; then
    cmake "$BUILD" -DMECLLM_PROTOBUF_LIBRARY="$TORCH_PKG/lib/libc10.so" >/dev/null &&
      timeout 120 ninja -C "$BUILD" -j "$JOBS" test_llm_cuda test_compress_cuda >/dev/null &&
      for c in "${CRASHED[@]}"; do
        echo "---- [no system protobuf] ${c#*:}" | tee -a "$OUT/retries.log"
        timeout 180 stdbuf -oL -eL "${c%%:*}" --gtest_filter="${c#*:}" >>"$OUT/retries.log" 2>&1
        echo "---- [no system protobuf] ${c#*:} exit $?" | tee -a "$OUT/retries.log"
      done
  fi
fi
set +x
stage "summary"
cat "$OUT"/test_*.log "$OUT"/retries.log 2>/dev/null | grep -E "CUDA-CHECK|^---- .* exit|Failure|Expected|Which is|^  Actual" \
  | tee "$OUT/summary.txt"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee -a "$OUT/summary.txt"
[[ $rc -eq 0 ]] && echo "DEVICE-CHECK PASSED" || echo "DEVICE-CHECK FAILED: test exit $rc"
exit $rc
