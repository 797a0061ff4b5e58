# File pooling benchmark (issue 4): `make bench-files` prints, side by side,
# ns per fopen+fgets+fclose without objpool, pooled (validate=stat and
# validate=none) and with a kept-open FILE (the limit). `make bench` calls it.
.PHONY: bench-files
bench-files: $(BUILD)/libobjpool.so $(BUILD)/tests/filebench
	BUILD=$(BUILD) bench/files.sh
