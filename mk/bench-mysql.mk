# MySQL/MariaDB benchmark (issue 29): `make bench-mysql` prints, side by
# side, pymysql connect + SELECT + close without objpool, with it, and on
# one persistent connection, over the Unix socket, TCP loopback and a veth
# pair between network namespaces with 1 ms of added delay (bench/delayq
# stands in for netem where the kernel lacks it). `make bench` calls it.
.PHONY: bench-mysql
bench-mysql: $(BUILD)/libobjpool.so $(BUILD)/bench/delayq
	BUILD=$(BUILD) bench/mysql.sh
