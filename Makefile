# The two commands of the README (`make run`, `make test`) and the edit-test loop
# (`make check`). Each sets up a fresh machine first (.ci/setup); `make run` installs only
# what running needs, the others add the dev group (pytest, playwright, ruff, mypy).
# uv is used from PATH, or as a module when .ci/setup just installed it with pip.
UV = $(shell command -v uv >/dev/null 2>&1 && echo uv || echo python3 -m uv)

# Python's byte-code caches are written (an environment may ask for none): without them
# every process, every xdist worker and every `holdtrack` a test starts compiles numpy,
# pandas, streamlit and the project from source again (collection 8.7 s instead of 2.6 s).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test check lint setup setup-test

run: setup
	$(UV) run --frozen --no-dev holdtrack dashboard

# Three pytest workers on two cores: a part of the suite waits on real time (pushes,
# browsers, BLE links), and every test is load-robust (it waits on conditions, not sleeps).
test: setup-test
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy
	$(UV) run --frozen pytest -n 3 --dist worksteal

# The fast set: no Bluetooth stack, no browser, nothing marked slow.
check: setup-test
	$(UV) run --frozen pytest -q -n 2 --dist worksteal -m "not slow and not ble and not browser"

lint: setup-test
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy

setup:
	bash .ci/setup

setup-test:
	bash .ci/setup --test
