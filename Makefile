# Thin wrappers around ./dev.sh, which works without make on a fresh machine.
.PHONY: run test bench bundle bundle-check release lint
run:
	./dev.sh run
test:
	./dev.sh test
bench:
	./dev.sh bench
bundle:
	./dev.sh bundle
bundle-check:
	./dev.sh bundle-check
release:
	./dev.sh release
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
