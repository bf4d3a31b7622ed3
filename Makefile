# mecllm top-level commands. `make demo` and `make test` work on a fresh Debian machine:
# both run scripts/setup.sh (apt-get) first.
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
CMAKE_FLAGS ?=

.PHONY: all setup build demo test test-release test-asan bench clean

all: build

setup:
	bash scripts/setup.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: setup $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	bash scripts/demo.sh $(BUILD)/bin/mecllm

test: build test-release test-asan

test-release: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

# Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer. The LibTorch parts are left
# out of this build (MECLLM_WITH_TORCH=OFF): LibTorch itself is not built with the sanitizers
# and its translation units double the 2-core build time; they run in the release suite above.
test-asan: setup
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMECLLM_SANITIZE=ON \
	  -DMECLLM_WITH_TORCH=OFF -DMECLLM_BUILD_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 900

bench: build
	$(BUILD)/bin/mecllm bench env --out runs/bench

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
