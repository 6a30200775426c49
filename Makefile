# HEPML: two commands from a fresh clone on Debian.
#   make demo   installs system packages, builds in release, runs the main job
#   make test   installs system packages and the interop Python environment, runs every test

SWIFT ?= swift
RELEASE_FLAGS := -c release
TEST_FLAGS := -c release -Xswiftc -enable-testing
INTEROP_VENV := $(CURDIR)/.venv-interop

.PHONY: demo test deps build interop-venv bench clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product hepml

demo: build
	$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/hepml demo

interop-venv:
	@scripts/install-deps.sh --with-browser
	@scripts/interop-venv.sh $(INTEROP_VENV)

test: deps interop-venv
	HEPML_PYTHON=$(INTEROP_VENV)/bin/python $(SWIFT) test $(TEST_FLAGS)

clean:
	rm -rf .build .build-* $(INTEROP_VENV)
