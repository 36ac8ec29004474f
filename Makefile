# The two commands of the README. Both set up a fresh machine first (.ci/setup).
# uv is used from PATH, or as a module when .ci/setup just installed it with pip.
UV = $(shell command -v uv >/dev/null 2>&1 && echo uv || echo python3 -m uv)

.PHONY: run test setup setup-test

run: setup
	$(UV) run --frozen holdtrack dashboard

test: setup-test
	$(UV) run --frozen pytest

setup:
	bash .ci/setup

setup-test:
	bash .ci/setup --test
