# HEPML: two commands from a fresh clone on Debian.
#   make demo   installs system packages, builds in release, runs the main job
#   make test   installs system packages and the interop Python environment, runs every test

SWIFT ?= swift
RELEASE_FLAGS := -c release
TEST_FLAGS := -c release -Xswiftc -enable-testing
INTEROP_VENV := $(CURDIR)/.venv-interop
ROOT_VENV := $(CURDIR)/.venv-root

.PHONY: demo test deps build interop-venv bench clean fuzz fuzz-libraries fuzz-root fuzz-parquet fuzz-npz fuzz-npy fuzz-csv fuzz-dqm-config fuzz-econt-config

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product hepml

demo: build
	$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/hepml demo

interop-venv:
	@scripts/install-deps.sh --with-browser --with-slurm --with-servers
	@scripts/interop-venv.sh $(INTEROP_VENV)
	@scripts/interop-venv.sh $(ROOT_VENV) root

test: deps interop-venv
	HEPML_PYTHON=$(INTEROP_VENV)/bin/python HEPML_ROOT_PYTHON=$(ROOT_VENV)/bin/python $(SWIFT) test $(TEST_FLAGS)

clean:
	rm -rf .build .build-* $(INTEROP_VENV) $(ROOT_VENV)

# libFuzzer with the address sanitizer over every reader (not part of `make test`, which runs the
# seeded bad-input suite, Tests/hepmlCLITests/BadInputSuite.swift). `make fuzz [FUZZ_SECONDS=60]`
# runs each reader FUZZ_SECONDS; `make fuzz-<reader>` one of them. The libraries are built with
# -sanitize=fuzzer,address into .build-fuzz and linked with the harness in fuzz/; each corpus starts
# from the shared test files (scripts/fuzz-seed-corpus.sh); crashes land in .build-fuzz/crashes-<reader>/.
FUZZ_SECONDS ?= 60
FUZZ_BUILD := .build-fuzz/release
FUZZ_READERS := root parquet npz npy csv dqm-config econt-config
FUZZ_SWIFTC := swiftc -O -sanitize=fuzzer,address -parse-as-library -I $(FUZZ_BUILD)/Modules \
	$(foreach m,CZlib CDeflate CZstd CLZ4 CLZMA CSnappy COpenBLAS,-Xcc -fmodule-map-file=Sources/CSystem/$(m)/module.modulemap) \
	-Xcc -fmodule-map-file=$(FUZZ_BUILD)/CVectorKernels.build/module.modulemap -Xcc -ISources/CVectorKernels/include
FUZZ_CODEC_LIBS := -lz -ldeflate -lzstd -llz4 -lxxhash -llzma -lsnappy
fuzz_objects = $(foreach m,$(1),$(FUZZ_BUILD)/$(m).build/*.o)
FUZZ_COLUMNAR := $(call fuzz_objects,HEPMLColumnar HEPMLCore HEPMLCompression)
FUZZ_SEEDS := uproot-histograms.root uproot-issue33.root uproot-simple.root uproot-leaflist.root \
	uproot-issue-227a.root uproot-vectorVectorDouble.root uproot-small-flat-tree.root uproot-small-evnt-tree-fullsplit.root
FUZZ_RUN = ASAN_OPTIONS=detect_leaks=0 $(FUZZ_BUILD)/fuzz-$(1) .build-fuzz/corpus-$(1) -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	-rss_limit_mb=2048 -artifact_prefix=.build-fuzz/crashes-$(1)/

fuzz: $(addprefix fuzz-,$(FUZZ_READERS))

fuzz-libraries: deps
	$(SWIFT) build -c release --target HEPMLROOT --build-path .build-fuzz -Xswiftc -sanitize=fuzzer,address
	$(SWIFT) build -c release --target HEPMLNN --build-path .build-fuzz -Xswiftc -sanitize=fuzzer,address
	$(SWIFT) build $(RELEASE_FLAGS) --product hepml

fuzz-corpus-%: fuzz-libraries
	mkdir -p .build-fuzz/corpus-$* .build-fuzz/crashes-$*
	scripts/fuzz-seed-corpus.sh $* .build-fuzz/corpus-$* $$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/hepml

fuzz-root: fuzz-corpus-root
	$(FUZZ_SWIFTC) fuzz/ROOTFuzzer.swift $(call fuzz_objects,HEPMLROOT) $(FUZZ_COLUMNAR) $(FUZZ_CODEC_LIBS) -o $(FUZZ_BUILD)/fuzz-root
	$(call FUZZ_RUN,root)

fuzz-parquet fuzz-npz fuzz-npy fuzz-csv: fuzz-%: fuzz-corpus-%
	$(FUZZ_SWIFTC) -D FUZZ_$(shell echo $* | tr a-z A-Z) fuzz/TableFuzzer.swift $(FUZZ_COLUMNAR) $(FUZZ_CODEC_LIBS) -o $(FUZZ_BUILD)/fuzz-$*
	$(call FUZZ_RUN,$*)

fuzz-dqm-config: fuzz-corpus-dqm-config
	$(FUZZ_SWIFTC) -module-name HEPMLDQMConfigFuzzer fuzz/DQMConfigFuzzer.swift Sources/HEPMLDQM/Inputs/DQMInputs.swift \
		Sources/HEPMLDQM/Inputs/DQMHistogram.swift $(call fuzz_objects,HEPMLCore) -o $(FUZZ_BUILD)/fuzz-dqm-config
	$(call FUZZ_RUN,dqm-config)

fuzz-econt-config: fuzz-corpus-econt-config
	$(FUZZ_SWIFTC) fuzz/ModelFilesFuzzer.swift $(call fuzz_objects,HEPMLNN HEPMLTensor HEPMLCore CVectorKernels) \
		-o $(FUZZ_BUILD)/fuzz-econt-config
	$(call FUZZ_RUN,econt-config)
