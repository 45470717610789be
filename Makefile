.PHONY: demo test bench bench-quick
demo:
	python3 dev.py demo
test:
	python3 dev.py test
bench:
	python3 dev.py bench
bench-quick:
	python3 dev.py bench --quick
