# Thin wrappers around ./dev.sh, which works without make on a fresh machine.
.PHONY: run test bench bundle lint
run:
	./dev.sh run
test:
	./dev.sh test
bench:
	./dev.sh bench
bundle:
	./dev.sh bundle
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
