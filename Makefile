# Two commands matter: `make run` (the gateway) and `make test` (the suite).
# uv manages the environment; it is installed with pip when missing.
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)

.PHONY: run test bench lint sync uv protos

uv:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

sync: uv
	@$(UV) sync --frozen --quiet
	@# xds-protos ships an older copy of OpenTelemetry's protos at the same paths, which
	@# may land over opentelemetry-proto's own; the trace exporter needs the latter.
	@$(UV) sync --frozen --quiet --reinstall-package opentelemetry-proto

run: sync
	$(UV) run openresponses-gw run

lint: sync
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy

test: lint
	$(UV) run pytest -q

bench: sync
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(UV) run python tests/benchmark.py

# Regenerate extproc/generated/ from proto/ (the generated code is committed).
protos: sync
	$(UV) run python proto/generate.py
