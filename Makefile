# HEPML: two commands from a fresh clone on Debian.
#   make demo   installs system packages, builds in release, runs the main job
#   make test   installs system packages and the interop Python environment, runs every test

SWIFT ?= swift
RELEASE_FLAGS := -c release
TEST_FLAGS := -c release -Xswiftc -enable-testing
INTEROP_VENV := $(CURDIR)/.venv-interop
ROOT_VENV := $(CURDIR)/.venv-root

.PHONY: demo test deps build interop-venv bench clean fuzz-root

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product hepml

demo: build
	$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/hepml demo

interop-venv:
	@scripts/install-deps.sh --with-browser --with-slurm
	@scripts/interop-venv.sh $(INTEROP_VENV)
	@scripts/interop-venv.sh $(ROOT_VENV) root

test: deps interop-venv
	HEPML_PYTHON=$(INTEROP_VENV)/bin/python HEPML_ROOT_PYTHON=$(ROOT_VENV)/bin/python $(SWIFT) test $(TEST_FLAGS)

clean:
	rm -rf .build .build-* $(INTEROP_VENV) $(ROOT_VENV)

# libFuzzer over the ROOT reader (not part of `make test`, which runs the seeded mutation loop).
# HEPMLROOT is built with -sanitize=fuzzer,address into .build-fuzz and linked with fuzz/ROOTFuzzer.swift;
# the corpus starts from the small shared C++ ROOT files (trees with embedded baskets included).  make fuzz-root [FUZZ_SECONDS=300]
FUZZ_SECONDS ?= 60
FUZZ_BUILD := .build-fuzz/release
FUZZ_SEEDS := uproot-histograms.root uproot-issue33.root uproot-simple.root uproot-leaflist.root \
	uproot-issue-227a.root uproot-vectorVectorDouble.root uproot-small-flat-tree.root uproot-small-evnt-tree-fullsplit.root
fuzz-root: deps
	$(SWIFT) build -c release --target HEPMLROOT --build-path .build-fuzz -Xswiftc -sanitize=fuzzer,address
	swiftc -O -sanitize=fuzzer,address -parse-as-library fuzz/ROOTFuzzer.swift -I $(FUZZ_BUILD)/Modules \
		$(foreach m,CZlib CZstd CLZ4 CLZMA CSnappy,-Xcc -fmodule-map-file=Sources/CSystem/$(m)/module.modulemap) \
		$(FUZZ_BUILD)/HEPMLROOT.build/*.o $(FUZZ_BUILD)/HEPMLColumnar.build/*.o $(FUZZ_BUILD)/HEPMLCore.build/*.o $(FUZZ_BUILD)/HEPMLCompression.build/*.o \
		-lz -lzstd -llz4 -lxxhash -llzma -lsnappy -o $(FUZZ_BUILD)/fuzz-root
	mkdir -p .build-fuzz/corpus-root
	for seed in $(FUZZ_SEEDS); do [ ! -f ../shared/testdata/root/$$seed ] || cp -n ../shared/testdata/root/$$seed .build-fuzz/corpus-root/; done
	[ ! -f ../shared/repro/uproot-issue21.root ] || cp -n ../shared/repro/uproot-issue21.root .build-fuzz/corpus-root/
	ASAN_OPTIONS=detect_leaks=0 $(FUZZ_BUILD)/fuzz-root .build-fuzz/corpus-root -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048
