# mk/bench-tls.mk - `make bench-tls`: HTTPS per request without objpool,
# with its trust-store pool (tls-ca://) and with one requests.Session,
# side by side (bench/tls.sh; `make bench` runs it after its tables).
.PHONY: bench-tls
bench-tls: $(BUILD)/libobjpool.so
	BUILD=$(BUILD) bench/tls.sh
