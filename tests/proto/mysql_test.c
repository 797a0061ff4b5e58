/* mysql_test.c - the MySQL parser (preload/conn/proto/mysql.c and
 * mysql_answer.c) alone, on the bytes MariaDB 10.11 exchanged with PyMySQL,
 * PHP mysqli (mysqlnd), Perl DBD::mysql (libmariadb) and node mysql2,
 * captured with strace: handshakes (native, an ed25519 switch, refused,
 * TLS), result sets with and without CLIENT_DEPRECATE_EOF and with
 * MariaDB's cached metadata, multiple results, prepared statements,
 * cursors, LOCAL INFILE, progress reports, what is never reusable, and
 * COM_QUIT as the goodbye.
 * Each CASE is replayed whole, split at every byte and byte by byte
 * (harness.h); the packets past 16 MiB are fed from memory (big_row_cases
 * and after).
 */
#include "harness.h"

#define P proto_mysql_ops

/* PyMySQL 1.0.2 on the Unix socket (caps 0x003ba28d: CLIENT_MYSQL set, no
 * CLIENT_DEPRECATE_EOF): handshake, queries, CALL, multi-statements, LOCAL
 * INFILE, COM_PING, COM_INIT_DB, COM_RESET_CONNECTION, COM_QUIT. */
#define GREETING "d\x00\x00\x00\x0a" "5.5.5-10.11.19-MariaDB-0+deb12u1\x00\x05\x00\x00\x00OU=p@+UJ\x00\xfe" \
    "\xf7\x08\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00UKY^LCI&~k{J\x00mysql_n" \
    "ative_password\x00"
#define PY_RESP "\x89\x00\x00\x01\x8d\xa2;\x00\xff\xff\xff\x00-\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00u1\x00\x14\x0e" "fl\x9e\xb9Lk\xe2 \xc9\x8a" \
    "\xf7\xf1\xca\xc3^\xa2\xf1Q\x95" "db1\x00mysql_native_password\x00" "6\x0c_client_name\x07py" \
    "mysql\x04_pid\x05" "21078\x0f_client_version\x05" "1.0.2"
#define HS_OK "\x07\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00"
#define Q_SEL "\x19\x00\x00\x00\x03SELECT 1 AS x, 'ab' AS y"
#define SEL_COLS "\x01\x00\x00\x01\x02" \
    "\x17\x00\x00\x02\x03" "def\x00\x00\x00\x01x\x00\x0c\x3f\x00\x01\x00\x00\x00\x03\x81\x00\x00" \
    "\x00\x00" \
    "\x17\x00\x00\x03\x03" "def\x00\x00\x00\x01y\x00\x0c-\x00\x08\x00\x00\x00\xfd\x01\x00'\x00\x00"
#define SEL_EOF "\x05\x00\x00\x04\xfe\x00\x00\x02\x00"
#define SEL_ROW "\x05\x00\x00\x05\x01" "1\x02" "ab"
#define SEL_END "\x05\x00\x00\x06\xfe\x00\x00\x02\x00"
#define Q_SET "\x0b\x00\x00\x00\x03SET @a = 1"
#define OK1 "\x07\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00"
#define Q_NOSUCH "\x15\x00\x00\x00\x03SELECT * FROM nosuch"
#define ERR_NOSUCH ")\x00\x00\x01\xffz\x04#42S02Table 'db1.nosuch' doesn't exist"
#define PING "\x01\x00\x00\x00\x0e"
#define INITDB "\x04\x00\x00\x00\x02" "db2"
#define Q_CALL "\x0d\x00\x00\x00\x03" "CALL db1.p()"
#define CALL_RS1 "\x01\x00\x00\x01\x01" \
    "\x17\x00\x00\x02\x03" "def\x00\x00\x00\x01x\x00\x0c\x3f\x00\x01\x00\x00\x00\x03\x81\x00\x00" \
    "\x00\x00" \
    "\x05\x00\x00\x03\xfe\x00\x00\x0a@" \
    "\x02\x00\x00\x04\x01" "1" \
    "\x05\x00\x00\x05\xfe\x00\x00\x0a@"
#define CALL_RS2 "\x01\x00\x00\x06\x01" \
    "\x17\x00\x00\x07\x03" "def\x00\x00\x00\x01y\x00\x0c\x3f\x00\x01\x00\x00\x00\x03\x81\x00\x00" \
    "\x00\x00" \
    "\x05\x00\x00\x08\xfe\x00\x00\x0a@" \
    "\x02\x00\x00\x09\x01" "2" \
    "\x05\x00\x00\x0a\xfe\x00\x00\x0a@"
#define CALL_OK "\x07\x00\x00\x0b\x00\x00\x00\x02\x00\x00\x00"
#define Q_MULTI "\x13\x00\x00\x00\x03SELECT 1; SELECT 2"
#define MULTI_RS1 "\x01\x00\x00\x01\x01" \
    "\x17\x00\x00\x02\x03" "def\x00\x00\x00\x01" "1\x00\x0c\x3f\x00\x01\x00\x00\x00\x03\x81\x00" \
    "\x00\x00\x00" \
    "\x05\x00\x00\x03\xfe\x00\x00\x0a\x00" \
    "\x02\x00\x00\x04\x01" "1" \
    "\x05\x00\x00\x05\xfe\x00\x00\x0a\x00"
#define MULTI_RS2 "\x01\x00\x00\x06\x01" \
    "\x17\x00\x00\x07\x03" "def\x00\x00\x00\x01" "2\x00\x0c\x3f\x00\x01\x00\x00\x00\x03\x81\x00" \
    "\x00\x00\x00" \
    "\x05\x00\x00\x08\xfe\x00\x00\x02\x00" \
    "\x02\x00\x00\x09\x01" "2" \
    "\x05\x00\x00\x0a\xfe\x00\x00\x02\x00"
#define Q_LOAD "\x3f\x00\x00\x00\x03LOAD DATA LOCAL INFILE '/tmp/myunit/load.tsv' INTO TABLE db1.l"
#define LOAD_ASK "\x15\x00\x00\x01\xfb/tmp/myunit/load.tsv"
#define LOAD_FILE "\x0c\x00\x00\x02" "1\x09one\x0a" "2\x09two\x0a"
#define LOAD_END "\x00\x00\x00\x03"
#define LOAD_OK "7\x00\x00\x04\x00\x02\x00\x02\x00\x00\x00/Records: 2  Deleted: 0  Skipped: 0  Warnings: 0"
#define RESET "\x01\x00\x00\x00\x1f"
#define QUIT "\x01\x00\x00\x00\x01"

/* PHP 8.2 mysqli (mysqlnd, caps 0x001aa28d: no CLIENT_DEPRECATE_EOF):
 * prepare, execute, close, COM_SET_OPTION (answered by an EOF), change_user. */
#define PHP_RESP "\x7f\x00\x00\x01\x8d\xa2\x1a\x00\x00\x00\x00\xc0\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00u1\x00\x14" "7T\xfd\x0f\xa4\x0f[u" \
    "\xf8V\xe1S\xce\xa8\xd4|&\x91#Tdb1\x00mysql_native_password\x00,\x0c_client_name\x07mysqlnd" \
    "\x0c_server_host\x09localhost"
#define PHP_PREP "\x1d\x00\x00\x00\x16SELECT \x3f + 1 AS x, 'ab' AS y"
#define PHP_PREP_OK "\x0c\x00\x00\x01\x00\x01\x00\x00\x00\x02\x00\x01\x00\x00\x00\x00"
#define PHP_PREP_PARAMS "\x17\x00\x00\x02\x03" "def\x00\x00\x00\x01\x3f\x00\x0c\x3f\x00\x00\x00\x00\x00\x06\x80\x00" \
    "\x00\x00\x00" \
    "\x05\x00\x00\x03\xfe\x00\x00\x02\x00"
#define PHP_PREP_COLS "\x17\x00\x00\x04\x03" "def\x00\x00\x00\x01x\x00\x0c\x3f\x00\x11\x00\x00\x00\x05\x80\x00\x00" \
    "\x00\x00" \
    "\x17\x00\x00\x05\x03" "def\x00\x00\x00\x01y\x00\x0c\x08\x00\x02\x00\x00\x00\xfd\x01\x00'" \
    "\x00\x00" \
    "\x05\x00\x00\x06\xfe\x00\x00\x02\x00"
#define PHP_EXEC "\x16\x00\x00\x00\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01\x08\x00)\x00\x00\x00\x00" \
    "\x00\x00\x00"
#define PHP_EXEC_COLS "\x01\x00\x00\x01\x02" \
    "\x17\x00\x00\x02\x03" "def\x00\x00\x00\x01x\x00\x0c\x3f\x00\x16\x00\x00\x00\x08\x80\x00\x00" \
    "\x00\x00" \
    "\x17\x00\x00\x03\x03" "def\x00\x00\x00\x01y\x00\x0c\x08\x00\x02\x00\x00\x00\xfd\x01\x00'" \
    "\x00\x00" \
    "\x05\x00\x00\x04\xfe\x00\x00\x02\x00"
#define PHP_EXEC_ROW "\x0d\x00\x00\x05\x00\x00*\x00\x00\x00\x00\x00\x00\x00\x02" "ab"
#define PHP_EXEC_END "\x05\x00\x00\x06\xfe\x00\x00\x02\x00"
#define PHP_CLOSE "\x05\x00\x00\x00\x19\x01\x00\x00\x00"
#define PHP_SETOPT "\x03\x00\x00\x00\x1b\x00\x00"
#define PHP_SETOPT_EOF "\x05\x00\x00\x01\xfe\x00\x00\x02\x00"
#define PHP_CHUSER "b\x00\x00\x00\x11u2\x00\x14\x91\x94\xd3/\x91\xf3JIxN_O\xffY |K\xe7\x80\xf4" "db1\x00\x08" \
    "\x00mysql_native_password\x00,\x0c_client_name\x07mysqlnd\x0c_server_host\x09localhost"

/* Perl DBD::mysql 4.050 on libmariadb 3.3 (caps 0x00bfa28e, no CLIENT_MYSQL:
 * MariaDB's extended capabilities 0x1d: PROGRESS, STMT_BULK_OPERATIONS,
 * EXTENDED_METADATA, CACHE_METADATA): a column count carries a
 * "metadata follows" byte; an execution skips the cached definitions. */
#define PL_RESP "\xc0\x00\x00\x01\x8e\xa2\xbf\x00\x00\x00\x10\x00-\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00u1\x00\x14\xc5Z\x81\xe0\xad\x01\x1e\xc3" \
    "\x04\x1e\x11\xbf\xe8$\x80\xea\xaf^\xc0\x14" "db1\x00mysql_native_password\x00m\x03_os\x05Li" \
    "nux\x0c_client_name\x0alibmariadb\x04_pid\x05" "21967\x0f_client_version\x06" "3.3.20\x09_p" \
    "latform\x06x86_64\x0cprogram_name\x0apl_main.pl"
#define PL_OK "\x0f\x00\x00\x02\x00\x00\x00\x02@\x00\x00\x00\x06\x01\x04\x03" "db1"
#define PL_PREP "\x19\x00\x00\x00\x16SELECT 1 AS x, 'ab' AS y"
#define PL_PREP_ANS "\x0c\x00\x00\x01\x00\x02\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00" \
    "\x18\x00\x00\x02\x03" "def\x00\x00\x00\x01x\x00\x00\x0c\x3f\x00\x01\x00\x00\x00\x03\x81\x00" \
    "\x00\x00\x00" \
    "\x18\x00\x00\x03\x03" "def\x00\x00\x00\x01y\x00\x00\x0c-\x00\x08\x00\x00\x00\xfd\x01\x00'" \
    "\x00\x00" \
    "\x05\x00\x00\x04\xfe\x00\x00\x02\x00"
#define PL_EXEC "\x0a\x00\x00\x00\x17\x02\x00\x00\x00\x00\x01\x00\x00\x00"
#define PL_EXEC_HEAD "\x02\x00\x00\x01\x02\x00" \
    "\x05\x00\x00\x02\xfe\x00\x00\x02\x00"
#define PL_EXEC_ROW "\x09\x00\x00\x03\x00\x00\x01\x00\x00\x00\x02" "ab"
#define PL_EXEC_END "\x05\x00\x00\x04\xfe\x00\x00\x02\x00"
#define PL_CLOSE "\x05\x00\x00\x00\x19\x02\x00\x00\x00"
#define PL_SEL_COLS "\x02\x00\x00\x01\x02\x01" \
    "\x18\x00\x00\x02\x03" "def\x00\x00\x00\x01x\x00\x00\x0c\x3f\x00\x01\x00\x00\x00\x03\x81\x00" \
    "\x00\x00\x00" \
    "\x18\x00\x00\x03\x03" "def\x00\x00\x00\x01y\x00\x00\x0c-\x00\x08\x00\x00\x00\xfd\x01\x00'" \
    "\x00\x00" \
    "\x05\x00\x00\x04\xfe\x00\x00\x02\x00"
#define PL_SEL_ROWS "\x05\x00\x00\x05\x01" "1\x02" "ab" \
    "\x05\x00\x00\x06\xfe\x00\x00\x02\x00"
#define PL_CALL_RS1 "\x02\x00\x00\x01\x01\x01" \
    "\x18\x00\x00\x02\x03" "def\x00\x00\x00\x01x\x00\x00\x0c\x3f\x00\x01\x00\x00\x00\x03\x81\x00" \
    "\x00\x00\x00" \
    "\x05\x00\x00\x03\xfe\x00\x00\x0a\x00" \
    "\x02\x00\x00\x04\x01" "1" \
    "\x05\x00\x00\x05\xfe\x00\x00\x0a\x00"
#define PL_CALL_RS2 "\x02\x00\x00\x06\x01\x01" \
    "\x18\x00\x00\x07\x03" "def\x00\x00\x00\x01y\x00\x00\x0c\x3f\x00\x01\x00\x00\x00\x03\x81\x00" \
    "\x00\x00\x00" \
    "\x05\x00\x00\x08\xfe\x00\x00\x0a\x00" \
    "\x02\x00\x00\x09\x01" "2" \
    "\x05\x00\x00\x0a\xfe\x00\x00\x0a\x00"
#define PL_CALL_OK "\x07\x00\x00\x0b\x00\x00\x00\x02\x00\x00\x00"

/* The same driver, progress_report_time = 1, a 6 s ALTER TABLE: two
 * progress reports (0xff, code 0xffff) before the statement's OK. */
#define PROG_RESP "\xc0\x00\x00\x01\x8e\xa2\xbe\x00\x00\x00\x10\x00-\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00u1\x00\x14\xe6\xfazQ;\xb0\xf5,\xae\xf6h" \
    "~\xc4@\x01\xe4\xe1\x1aY\x14" "db1\x00mysql_native_password\x00m\x03_os\x05Linux\x0c_client_" \
    "name\x0alibmariadb\x04_pid\x05" "27513\x0f_client_version\x06" "3.3.20\x09_platform\x06x86_" \
    "64\x0cprogram_name\x0apl_prog.pl"
#define PROG_OK "\x0f\x00\x00\x02\x00\x00\x00\x02@\x00\x00\x00\x06\x01\x04\x03" "db1"
#define Q_PROGSET "\x1d\x00\x00\x00\x03SET progress_report_time = 1"
#define Q_ALTER ")\x00\x00\x00\x03" "ALTER TABLE db1.pr FORCE, ALGORITHM=COPY"
#define PROGRESS1 "\x1b\x00\x00\x01\xff\xff\xff\x01\x01\x02\xf3\x01\x00\x11" "copy to tmp table"
#define PROGRESS2 "\x17\x00\x00\x02\xff\xff\xff\x01\x02\x02\x00\x00\x00\x0d" "Enabling keys"
#define ALTER_OK "7\x00\x00\x03\x00\xfd\x80\x84\x1e\x00\x02\x00\x00\x00,Records: 2000000  Duplicates: 0  Warn" \
    "ings: 0"

/* node mysql2 3.26 (caps 0x00bbf3ce, extended 0x08: EXTENDED_METADATA only). */
#define NODE_RESP "\x84\x00\x00\x01\xce\xf3\xbb\x00\x00\x00\x00\x00\xe0\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x08\x00\x00\x00u1\x00\x14\xc5\xf3\xaa[\xf3\x9c" "e" \
    "\x04\x05\x0c#\x97\x18" "emu\xe8\xab\x1f\xaf" "db1\x00mysql_native_password\x00" "1\x0c_clie" \
    "nt_name\x0cNode-MySQL-2\x0f_client_version\x06" "3.26.1"
#define NODE_OK "\x0f\x00\x00\x02\x00\x00\x00\x02@\x00\x00\x00\x06\x01\x04\x03" "db1"
#define NODE_SEL "\x01\x00\x00\x01\x02" \
    "\x18\x00\x00\x02\x03" "def\x00\x00\x00\x01x\x00\x00\x0c\x3f\x00\x01\x00\x00\x00\x03\x81\x00" \
    "\x00\x00\x00" \
    "\x18\x00\x00\x03\x03" "def\x00\x00\x00\x01y\x00\x00\x0c\xe0\x00\x08\x00\x00\x00\xfd\x01\x00" \
    "'\x00\x00" \
    "\x05\x00\x00\x04\xfe\x00\x00\x02\x00" \
    "\x05\x00\x00\x05\x01" "1\x02" "ab" \
    "\x05\x00\x00\x06\xfe\x00\x00\x02\x00"
#define NODE_PREP_ANS "\x0c\x00\x00\x01\x00\x05\x00\x00\x00\x02\x00\x01\x00\x00\x00\x00" \
    "\x18\x00\x00\x02\x03" "def\x00\x00\x00\x01\x3f\x00\x00\x0c\x3f\x00\x00\x00\x00\x00\x06\x80" \
    "\x00\x00\x00\x00" \
    "\x05\x00\x00\x03\xfe\x00\x00\x02\x00" \
    "\x18\x00\x00\x04\x03" "def\x00\x00\x00\x01x\x00\x00\x0c\x3f\x00\x11\x00\x00\x00\x05\x80\x00" \
    "\x00\x00\x00" \
    "\x18\x00\x00\x05\x03" "def\x00\x00\x00\x01y\x00\x00\x0c\xe0\x00\x08\x00\x00\x00\xfd\x01\x00" \
    "'\x00\x00" \
    "\x05\x00\x00\x06\xfe\x00\x00\x02\x00"
#define NODE_EXEC "\x16\x00\x00\x00\x17\x05\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01\x05\x00\x00\x00\x00\x00" \
    "\x00\x80" "D@"
#define NODE_EXEC_ANS "\x01\x00\x00\x01\x02" \
    "\x18\x00\x00\x02\x03" "def\x00\x00\x00\x01x\x00\x00\x0c\x3f\x00\x17\x00\x00\x00\x05\x80\x00" \
    "\x1f\x00\x00" \
    "\x18\x00\x00\x03\x03" "def\x00\x00\x00\x01y\x00\x00\x0c\xe0\x00\x08\x00\x00\x00\xfd\x01\x00" \
    "'\x00\x00" \
    "\x05\x00\x00\x04\xfe\x00\x00\x02\x00" \
    "\x0d\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00" "E@\x02" "ab" \
    "\x05\x00\x00\x06\xfe\x00\x00\x02\x00"
#define NODE_CLOSE "\x05\x00\x00\x00\x19\x05\x00\x00\x00"

/* PyMySQL's handshake with CLIENT_DEPRECATE_EOF added (no installed driver
 * sets it against MariaDB 10.11), then commands written raw: the server's
 * bytes with no EOFs, each result ended by an OK with a 0xfe header. */
#define E_RESP "\x89\x00\x00\x01\x0d\xa2;\x01\xff\xff\xff\x00-\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00u1\x00\x14\x3fw\x98\xe2|\xd6" "a\xf0\x0e" \
    "\x8f\x09\xc9" "2\xf7\x02\x05" "d\xf2\xad\x0a" "db1\x00mysql_native_password\x00" "6\x0c_cli" \
    "ent_name\x07pymysql\x04_pid\x05" "25699\x0f_client_version\x05" "1.0.2"
#define E_SEL_COLS "\x01\x00\x00\x01\x02" \
    "\x17\x00\x00\x02\x03" "def\x00\x00\x00\x01x\x00\x0c\x3f\x00\x01\x00\x00\x00\x03\x81\x00\x00" \
    "\x00\x00" \
    "\x17\x00\x00\x03\x03" "def\x00\x00\x00\x01y\x00\x0c-\x00\x08\x00\x00\x00\xfd\x01\x00'\x00\x00"
#define E_SEL_ROW "\x05\x00\x00\x04\x01" "1\x02" "ab"
#define E_SEL_END "\x07\x00\x00\x05\xfe\x00\x00\x02\x00\x00\x00"
#define E_CALL_RS1 "\x01\x00\x00\x01\x01" \
    "\x17\x00\x00\x02\x03" "def\x00\x00\x00\x01x\x00\x0c\x3f\x00\x01\x00\x00\x00\x03\x81\x00\x00" \
    "\x00\x00" \
    "\x02\x00\x00\x03\x01" "1" \
    "\x07\x00\x00\x04\xfe\x00\x00\x0a\x00\x00\x00"
#define E_CALL_RS2 "\x01\x00\x00\x05\x01" \
    "\x17\x00\x00\x06\x03" "def\x00\x00\x00\x01y\x00\x0c\x3f\x00\x01\x00\x00\x00\x03\x81\x00\x00" \
    "\x00\x00" \
    "\x02\x00\x00\x07\x01" "2" \
    "\x07\x00\x00\x08\xfe\x00\x00\x0a\x00\x00\x00"
#define E_CALL_OK "\x07\x00\x00\x09\x00\x00\x00\x02\x00\x00\x00"
#define E_MULTI_RS1 "\x01\x00\x00\x01\x01" \
    "\x17\x00\x00\x02\x03" "def\x00\x00\x00\x01" "1\x00\x0c\x3f\x00\x01\x00\x00\x00\x03\x81\x00" \
    "\x00\x00\x00" \
    "\x02\x00\x00\x03\x01" "1" \
    "\x07\x00\x00\x04\xfe\x00\x00\x0a\x00\x00\x00"
#define E_MULTI_RS2 "\x01\x00\x00\x05\x01" \
    "\x17\x00\x00\x06\x03" "def\x00\x00\x00\x01" "2\x00\x0c\x3f\x00\x01\x00\x00\x00\x03\x81\x00" \
    "\x00\x00\x00" \
    "\x02\x00\x00\x07\x01" "2" \
    "\x07\x00\x00\x08\xfe\x00\x00\x02\x00\x00\x00"
#define E_PREP_ANS "\x0c\x00\x00\x01\x00\x07\x00\x00\x00\x02\x00\x01\x00\x00\x00\x00" \
    "\x17\x00\x00\x02\x03" "def\x00\x00\x00\x01\x3f\x00\x0c\x3f\x00\x00\x00\x00\x00\x06\x80\x00" \
    "\x00\x00\x00" \
    "\x17\x00\x00\x03\x03" "def\x00\x00\x00\x01x\x00\x0c\x3f\x00\x11\x00\x00\x00\x05\x80\x00\x00" \
    "\x00\x00" \
    "\x17\x00\x00\x04\x03" "def\x00\x00\x00\x01y\x00\x0c-\x00\x08\x00\x00\x00\xfd\x01\x00'\x00\x00"
#define E_EXEC "\x16\x00\x00\x00\x17\x07\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01\x08\x00)\x00\x00\x00\x00" \
    "\x00\x00\x00"
#define E_EXEC_ANS "\x01\x00\x00\x01\x02" \
    "\x17\x00\x00\x02\x03" "def\x00\x00\x00\x01x\x00\x0c\x3f\x00\x16\x00\x00\x00\x08\x80\x00\x00" \
    "\x00\x00" \
    "\x17\x00\x00\x03\x03" "def\x00\x00\x00\x01y\x00\x0c-\x00\x08\x00\x00\x00\xfd\x01\x00'\x00\x00" \
    "\x0d\x00\x00\x04\x00\x00*\x00\x00\x00\x00\x00\x00\x00\x02" "ab" \
    "\x07\x00\x00\x05\xfe\x00\x00\x02\x00\x00\x00"
#define E_CLOSE "\x05\x00\x00\x00\x19\x07\x00\x00\x00"
#define E_FIELDS "\x05\x00\x00\x00\x04t\x00\x00\x00"
#define E_FIELDS_ANS "\x1e\x00\x00\x01\x03" "def\x03" "db1\x01t\x01t\x01" "a\x01" "a\x0c\x3f\x00\x0b\x00\x00\x00" \
    "\x03\x00\x00\x00\x00\x00\xfb" \
    "\x07\x00\x00\x02\xfe\x00\x00\x02\x00\x00\x00"
#define E_Q_EMPTY "!\x00\x00\x00\x03SELECT 1 AS x FROM db1.t WHERE 0"
#define E_EMPTY_ANS "\x01\x00\x00\x01\x01" \
    "\x17\x00\x00\x02\x03" "def\x00\x00\x00\x01x\x00\x0c\x3f\x00\x01\x00\x00\x00\x03\x81\x00\x00" \
    "\x00\x00" \
    "\x07\x00\x00\x03\xfe\x00\x00\x02\x00\x00\x00"

/* A read-only cursor asked at COM_STMT_EXECUTE (flags 1): the rows stay on
 * the server (SERVER_STATUS_CURSOR_EXISTS), with and without DEPRECATE_EOF. */
#define EC_PREP "\x14\x00\x00\x00\x16SELECT a FROM db1.t"
#define EC_PREP_ANS "\x0c\x00\x00\x01\x00\x08\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00" \
    "\x1d\x00\x00\x02\x03" "def\x03" "db1\x01t\x01t\x01" "a\x01" "a\x0c\x3f\x00\x0b\x00\x00\x00" \
    "\x03\x00\x00\x00\x00\x00"
#define EC_EXEC_ANS "\x01\x00\x00\x01\x01" \
    "\x1d\x00\x00\x02\x03" "def\x03" "db1\x01t\x01t\x01" "a\x01" "a\x0c\x3f\x00\x0b\x00\x00\x00" \
    "\x03\x00\x00\x00\x00\x00" \
    "\x07\x00\x00\x03\xfe\x00\x00" "b\x00\x00\x00"
#define C_PREP_ANS "\x0c\x00\x00\x01\x00\x09\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00" \
    "\x1d\x00\x00\x02\x03" "def\x03" "db1\x01t\x01t\x01" "a\x01" "a\x0c\x3f\x00\x0b\x00\x00\x00" \
    "\x03\x00\x00\x00\x00\x00" \
    "\x05\x00\x00\x03\xfe\x00\x00\x02\x00"
#define C_EXEC "\x0a\x00\x00\x00\x17\x09\x00\x00\x00\x01\x01\x00\x00\x00"
#define C_EXEC_ANS "\x01\x00\x00\x01\x01" \
    "\x1d\x00\x00\x02\x03" "def\x03" "db1\x01t\x01t\x01" "a\x01" "a\x0c\x3f\x00\x0b\x00\x00\x00" \
    "\x03\x00\x00\x00\x00\x00" \
    "\x05\x00\x00\x03\xfe\x00\x00" "b\x00"

/* A user IDENTIFIED VIA ed25519: the server switches PyMySQL from
 * mysql_native_password to client_ed25519 (0xfe), which signs the scramble. */
#define ED_RESP "\x86\x00\x00\x01\x05\xa2:\x00\xff\xff\xff\x00-\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00ued\x00\x14\xc3\x87v\x13\x12\x1d" "6\xa9" \
    "\xe3\x83\xf1\xbd" "E^'\xb8~W\x18\x84mysql_native_password\x00" "6\x0c_client_name\x07pymysq" \
    "l\x04_pid\x05" "23516\x0f_client_version\x05" "1.0.2"
#define ED_SWITCH "0\x00\x00\x02\xfe" "client_ed25519\x00\x89\xbf\x1ay\x7f\xa7\xb0z\x83\x9f`\xdd\xb3\x04\xcaJ" \
    "\xe1p\x1a\x86MlE\xec\x90\x14\x05\xadx\x85\x00\x19"
#define ED_SIG "@\x00\x00\x03\xbf\x03%.\xe7+\x5c\xb9s=\x05\x22>%\xc4\x86\x10\x13\xf0.\x02\x92NO\xe1Qi\xae" \
    "\x88\xcd\x0e\xebL\x91`5\xe0\xa6.G\xb4\x1b\x81\xa7\xab\xebR\x0eY\x87\xb7}6\x81\xff\x0d\xa3J" \
    "\xc5\xbc\x98\x8b" "a\x0e"
#define ED_OK "\x07\x00\x00\x04\x00\x00\x00\x02\x00\x00\x00"

/* A wrong password; TLS asked (SSLRequest); COM_BINLOG_DUMP. */
#define BAD_RESP "\x85\x00\x00\x01\x05\xa2:\x00\xff\xff\xff\x00-\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00u1\x00\x14\x0e\x16" "A\xa7\xf9\x8e\x88_\x9a" \
    "Q\xc7\xd5w\xa1ZVB/\xb6" "9mysql_native_password\x00" "6\x0c_client_name\x07pymysql\x04_pid" \
    "\x05" "23561\x0f_client_version\x05" "1.0.2"
#define BAD_ERR "F\x00\x00\x02\xff\x15\x04#28000Access denied for user 'u1'@'localhost' (using password: YES)"
#define SSL_GREETING "d\x00\x00\x00\x0a" "5.5.5-10.11.19-MariaDB-0+deb12u1\x00\x04\x00\x00\x00sh3bs=rK\x00\xfe" \
    "\xff\x08\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00^tPrlId<@ipv\x00mysql_n" \
    "ative_password\x00"
#define SSL_REQ " \x00\x00\x01\x05\xaa:\x00\xff\xff\xff\x00-\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
#define BINLOG "\x1b\x00\x00\x00\x12\x04\x00\x00\x00\x00\x00M\x00\x00\x00mysql-bin.000001"
#define BINLOG_ERR "\x1f\x00\x00\x01\xff\xd4\x04#HY000Binary log is not open"

/* More of PyMySQL and mysqli: an ERR after rows (a subquery of two rows);
 * an ERR for a multi-statement's second; COM_PROCESS_KILL; COM_STATISTICS
 * (one string); a row whose first column is NULL (0xfb); a BLOB parameter
 * sent by COM_STMT_SEND_LONG_DATA (no answer); COM_STMT_RESET. */
#define Q_SUBQ "I\x00\x00\x00\x03SELECT seq, (SELECT 1 FROM seq_1_to_2 WHERE s.seq > 2) FROM seq_1_to_3 s"
#define SUBQ_ROWS "\x01\x00\x00\x01\x02" \
    "*\x00\x00\x02\x03" "def\x03" "db1\x01s\x0aseq_1_to_3\x03seq\x03seq\x0c\x3f\x00\x14\x00\x00" \
    "\x00\x08#P\x00\x00\x00" \
    "@\x00\x00\x03\x03" "def\x00\x00\x00*(SELECT 1 FROM seq_1_to_2 WHERE s.seq > 2)\x00\x0c\x3f" \
    "\x00\x02\x00\x00\x00\x03\x80\x00\x00\x00\x00" \
    "\x05\x00\x00\x04\xfe\x00\x00\x22\x00" \
    "\x03\x00\x00\x05\x01" "1\xfb" \
    "\x03\x00\x00\x06\x01" "2\xfb"
#define SUBQ_ERR ")\x00\x00\x07\xff\xda\x04#21000Subquery returns more than 1 row"
#define Q_MULTI_ERR "\x1f\x00\x00\x00\x03SELECT 1; SELECT * FROM nosuch"
#define MULTI_ERR_RS1 "\x01\x00\x00\x01\x01" \
    "\x17\x00\x00\x02\x03" "def\x00\x00\x00\x01" "1\x00\x0c\x3f\x00\x01\x00\x00\x00\x03\x81\x00" \
    "\x00\x00\x00" \
    "\x05\x00\x00\x03\xfe\x00\x00\x0a\x00" \
    "\x02\x00\x00\x04\x01" "1" \
    "\x05\x00\x00\x05\xfe\x00\x00\x0a\x00"
#define MULTI_ERR_ERR ")\x00\x00\x06\xffz\x04#42S02Table 'db1.nosuch' doesn't exist"
#define KILL "\x05\x00\x00\x00\x0c\x0f\x00\x00\x00"
#define STAT "\x01\x00\x00\x00\x09"
#define STAT_ANS "r\x00\x00\x01Uptime: 301  Threads: 2  Questions: 26  Slow queries: 0  Opens: 25  Open table" \
    "s: 16  Queries per second avg: 0.086"
#define Q_NULL "\x19\x00\x00\x00\x03SELECT NULL AS n, 1 AS x"
#define NULL_ANS "\x01\x00\x00\x01\x02" \
    "\x17\x00\x00\x02\x03" "def\x00\x00\x00\x01n\x00\x0c\x3f\x00\x00\x00\x00\x00\x06\x80\x00\x00" \
    "\x00\x00" \
    "\x17\x00\x00\x03\x03" "def\x00\x00\x00\x01x\x00\x0c\x3f\x00\x01\x00\x00\x00\x03\x81\x00\x00" \
    "\x00\x00" \
    "\x05\x00\x00\x04\xfe\x00\x00\x02\x00" \
    "\x03\x00\x00\x05\xfb\x01" "1" \
    "\x05\x00\x00\x06\xfe\x00\x00\x02\x00"
#define PHP_PREP_B "\x0e\x00\x00\x00\x16SELECT \x3f AS b"
#define PHP_PREP_B_ANS "\x0c\x00\x00\x01\x00\x01\x00\x00\x00\x01\x00\x01\x00\x00\x00\x00" \
    "\x17\x00\x00\x02\x03" "def\x00\x00\x00\x01" "b\x00\x0c\x3f\x00\x00\x00\x00\x00\x06\x80\x00" \
    "\x00\x00\x00" \
    "\x05\x00\x00\x03\xfe\x00\x00\x02\x00" \
    "\x17\x00\x00\x04\x03" "def\x00\x00\x00\x01" "b\x00\x0c\x3f\x00\x00\x00\x00\x00\x06\x80\x00" \
    "\x00\x00\x00" \
    "\x05\x00\x00\x05\xfe\x00\x00\x02\x00"
#define PHP_LONG "\x0b\x00\x00\x00\x18\x01\x00\x00\x00\x00\x00long"
#define PHP_EXEC_B "\x0e\x00\x00\x00\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00\x01\x01\xfb\x00"
#define PHP_EXEC_B_ANS "\x01\x00\x00\x01\x01" \
    "\x17\x00\x00\x02\x03" "def\x00\x00\x00\x01" "b\x00\x0c\x3f\x00\x04\x00\x00\x00\xfb\x81\x00'" \
    "\x00\x00" \
    "\x05\x00\x00\x03\xfe\x00\x00\x02\x00" \
    "\x07\x00\x00\x04\x00\x00\x04long" \
    "\x05\x00\x00\x05\xfe\x00\x00\x02\x00"
#define PHP_STMT_RESET "\x05\x00\x00\x00\x1a\x01\x00\x00\x00"
#define PHP_CLOSE_B "\x05\x00\x00\x00\x19\x01\x00\x00\x00"

/* Written by hand: what no capture holds. */
#define TOO_MANY "\x17\x00\x00\x00\xff\x10\x04Too many connections" /* an ERR for a greeting */
#define FAST_AUTH "\x02\x00\x00\x02\x01\x03" /* caching_sha2_password: the fast path */
#define FULL_AUTH "\x02\x00\x00\x02\x01\x04" /* caching_sha2_password: the password itself */
#define SETOPT_OFF "\x03\x00\x00\x00\x1b\x01\x00" /* COM_SET_OPTION: multi-statements off */
#define OK_TRANS "\x07\x00\x00\x01\x00\x00\x00\x03\x00\x00\x00" /* in a transaction */

/* The three handshakes most cases start from. */
#define PY_HS I(GREETING), O(PY_RESP), I(HS_OK)
#define PL_HS I(GREETING), O(PL_RESP), I(PL_OK)
#define E_HS I(GREETING), O(E_RESP), I(HS_OK)

static void handshake_cases(void)
{
    CASE(P, PV_CLEAN, O(""));
    CASE(P, PV_INCOMPLETE, I(GREETING));                       /* greeting only */
    CASE(P, PV_INCOMPLETE, O("\x01\x00")); /* a packet begun before the greeting */
    CASE(P, PV_INCOMPLETE, I(GREETING), O(PY_RESP));           /* the answer not read */
    CASE(P, PV_INCOMPLETE, I(GREETING), O(PY_RESP), I("\x07\x00\x00\x02\x00\x00"));
    CASE(P, PV_SESSION, PY_HS);
    CASE(P, PV_SESSION, I(GREETING), O(PHP_RESP), I(HS_OK));
    CASE(P, PV_SESSION, PL_HS);
    CASE(P, PV_SESSION, I(GREETING), O(NODE_RESP), I(NODE_OK));
    CASE(P, PV_SESSION, E_HS);
    /* ed25519: the switch (0xfe), the signature, the OK */
    CASE(P, PV_INCOMPLETE, I(GREETING), O(ED_RESP), I(ED_SWITCH));
    CASE(P, PV_INCOMPLETE, I(GREETING), O(ED_RESP), I(ED_SWITCH), O(ED_SIG));
    CASE(P, PV_SESSION, I(GREETING), O(ED_RESP), I(ED_SWITCH), O(ED_SIG), I(ED_OK));
    /* caching_sha2_password: the fast path's OK may come in the same read */
    CASE(P, PV_SESSION, I(GREETING), O(PY_RESP), I(FAST_AUTH HS_OK));
    CASE(P, PV_INCOMPLETE, I(GREETING), O(PY_RESP), I(FAST_AUTH));
    CASE(P, PV_SESSION, I(GREETING), O(PY_RESP), I(FULL_AUTH), O("\x04\x00\x00\x03pw1\x00"),
         I(HS_OK));
    /* refused: an ERR for the greeting, for the response, after a switch */
    CASE(P, PV_NEVER, I(TOO_MANY));
    CASE(P, PV_NEVER, I(GREETING), O(BAD_RESP), I(BAD_ERR));
    CASE(P, PV_NEVER, I(GREETING), O(ED_RESP), I(ED_SWITCH), O(ED_SIG), I(BAD_ERR));
    /* TLS asked: the SSLRequest, then the ClientHello */
    CASE(P, PV_NEVER, I(SSL_GREETING), O(SSL_REQ));
    CASE(P, PV_NEVER, I(SSL_GREETING), O(SSL_REQ), O("\x16\x03\x01\x02\x00"),
         I("\x16\x03\x03\x00\x7a"));
}

static void query_cases(void)
{
    /* a result set, read whole and half way */
    CASE(P, PV_SESSION, PY_HS, O(Q_SEL), I(SEL_COLS SEL_EOF SEL_ROW SEL_END));
    CASE(P, PV_SESSION, PY_HS, O(Q_SEL), I(SEL_COLS), I(SEL_EOF), I(SEL_ROW), I(SEL_END));
    CASE(P, PV_INCOMPLETE, PY_HS, O(Q_SEL));
    CASE(P, PV_INCOMPLETE, PY_HS, O(Q_SEL), I(SEL_COLS));
    CASE(P, PV_INCOMPLETE, PY_HS, O(Q_SEL), I(SEL_COLS SEL_EOF SEL_ROW));
    CASE(P, PV_INCOMPLETE, PY_HS, O(Q_SEL), I(SEL_COLS SEL_EOF SEL_ROW "\x05\x00\x00\x06\xfe"));
    /* OK only, ERR, COM_PING, COM_INIT_DB, COM_RESET_CONNECTION */
    CASE(P, PV_SESSION, PY_HS, O(Q_SET), I(OK1));
    CASE(P, PV_SESSION, PY_HS, O(Q_NOSUCH), I(ERR_NOSUCH));
    CASE(P, PV_SESSION, PY_HS, O(PING), I(OK1), O(INITDB), I(OK1), O(RESET), I(OK1));
    CASE(P, PV_INCOMPLETE, PY_HS, O(PING), I(OK1), O(INITDB));
    CASE(P, PV_SESSION, PY_HS, O(Q_SET), I(OK_TRANS)); /* the layer above reads the status */
    /* CALL and multi-statements: SERVER_MORE_RESULTS_EXISTS until the last */
    CASE(P, PV_SESSION, PY_HS, O(Q_CALL), I(CALL_RS1 CALL_RS2 CALL_OK));
    CASE(P, PV_INCOMPLETE, PY_HS, O(Q_CALL), I(CALL_RS1));
    CASE(P, PV_INCOMPLETE, PY_HS, O(Q_CALL), I(CALL_RS1 CALL_RS2));
    CASE(P, PV_SESSION, PY_HS, O(Q_MULTI), I(MULTI_RS1), I(MULTI_RS2));
    CASE(P, PV_INCOMPLETE, PY_HS, O(Q_MULTI), I(MULTI_RS1));
    /* an ERR ends rows, and ends a multi-statement */
    CASE(P, PV_SESSION, PY_HS, O(Q_SUBQ), I(SUBQ_ROWS SUBQ_ERR));
    CASE(P, PV_INCOMPLETE, PY_HS, O(Q_SUBQ), I(SUBQ_ROWS));
    CASE(P, PV_SESSION, PY_HS, O(Q_MULTI_ERR), I(MULTI_ERR_RS1), I(MULTI_ERR_ERR));
    CASE(P, PV_INCOMPLETE, PY_HS, O(Q_MULTI_ERR), I(MULTI_ERR_RS1));
    /* COM_PROCESS_KILL, COM_STATISTICS, a row beginning with NULL (0xfb) */
    CASE(P, PV_SESSION, PY_HS, O(KILL), I("\x07\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00"));
    CASE(P, PV_SESSION, PY_HS, O(STAT), I(STAT_ANS));
    CASE(P, PV_INCOMPLETE, PY_HS, O(STAT));
    CASE(P, PV_SESSION, PY_HS, O(Q_NULL), I(NULL_ANS));
    /* LOAD DATA LOCAL INFILE: 0xfb, the file, the empty packet, the OK */
    CASE(P, PV_SESSION, PY_HS, O(Q_LOAD), I(LOAD_ASK), O(LOAD_FILE), O(LOAD_END), I(LOAD_OK));
    CASE(P, PV_SESSION, PY_HS, O(Q_LOAD), I(LOAD_ASK), O(LOAD_END), I(ERR_NOSUCH)); /* refused */
    CASE(P, PV_INCOMPLETE, PY_HS, O(Q_LOAD), I(LOAD_ASK));
    CASE(P, PV_INCOMPLETE, PY_HS, O(Q_LOAD), I(LOAD_ASK), O(LOAD_FILE));
    CASE(P, PV_INCOMPLETE, PY_HS, O(Q_LOAD), I(LOAD_ASK), O(LOAD_FILE LOAD_END));
    /* pipelined commands, answered in order */
    CASE(P, PV_SESSION, PY_HS, O(PING Q_SEL PING), I(OK1 SEL_COLS SEL_EOF SEL_ROW SEL_END OK1));
    CASE(P, PV_INCOMPLETE, PY_HS, O(PING Q_SEL PING), I(OK1 SEL_COLS SEL_EOF SEL_ROW SEL_END));
    CASE(P, PV_SESSION, PY_HS, O(PING PING PING PING PING PING PING PING),
         I(OK1 OK1 OK1 OK1 OK1 OK1 OK1 OK1));
}

static void statement_cases(void)
{
    /* mysqlnd: prepare (a parameter, two columns, each group ended by an EOF),
     * execute (binary rows), close (no answer) */
    CASE(P, PV_SESSION, I(GREETING), O(PHP_RESP), I(HS_OK), O(PHP_PREP),
         I(PHP_PREP_OK PHP_PREP_PARAMS PHP_PREP_COLS), O(PHP_EXEC),
         I(PHP_EXEC_COLS PHP_EXEC_ROW PHP_EXEC_END), O(PHP_CLOSE));
    CASE(P, PV_INCOMPLETE, I(GREETING), O(PHP_RESP), I(HS_OK), O(PHP_PREP), I(PHP_PREP_OK));
    CASE(P, PV_INCOMPLETE, I(GREETING), O(PHP_RESP), I(HS_OK), O(PHP_PREP),
         I(PHP_PREP_OK PHP_PREP_PARAMS));
    CASE(P, PV_INCOMPLETE, I(GREETING), O(PHP_RESP), I(HS_OK), O(PHP_PREP),
         I(PHP_PREP_OK PHP_PREP_PARAMS PHP_PREP_COLS), O(PHP_EXEC), I(PHP_EXEC_COLS PHP_EXEC_ROW));
    CASE(P, PV_SESSION, I(GREETING), O(PHP_RESP), I(HS_OK), O(PHP_CLOSE PHP_CLOSE));
    /* a BLOB sent in pieces (no answer), executed, the statement reset */
    CASE(P, PV_SESSION, I(GREETING), O(PHP_RESP), I(HS_OK), O(PHP_PREP_B), I(PHP_PREP_B_ANS),
         O(PHP_LONG), O(PHP_EXEC_B), I(PHP_EXEC_B_ANS), O(PHP_STMT_RESET), I(OK1), O(PHP_CLOSE_B));
    CASE(P, PV_SESSION, I(GREETING), O(PHP_RESP), I(HS_OK), O(PHP_PREP_B), I(PHP_PREP_B_ANS),
         O(PHP_LONG));
    CASE(P, PV_INCOMPLETE, I(GREETING), O(PHP_RESP), I(HS_OK), O(PHP_PREP_B), I(PHP_PREP_B_ANS),
         O(PHP_LONG PHP_EXEC_B));
    CASE(P, PV_INCOMPLETE, I(GREETING), O(PHP_RESP), I(HS_OK), O(PHP_PREP_B), I(PHP_PREP_B_ANS),
         O(PHP_LONG), O(PHP_EXEC_B), I(PHP_EXEC_B_ANS), O(PHP_STMT_RESET));
    /* multi_query: COM_SET_OPTION turns multi-statements on for good (a reset
     * keeps them): parked, the reset sets them back (proto_my_multi_changed) */
    CASE(P, PV_SESSION, I(GREETING), O(PHP_RESP), I(HS_OK), O(PHP_SETOPT), I(PHP_SETOPT_EOF),
         O(Q_MULTI), I(MULTI_RS1 MULTI_RS2));
    CASE(P, PV_SESSION, I(GREETING), O(PHP_RESP), I(HS_OK), O(PHP_SETOPT), I(PHP_SETOPT_EOF),
         O(Q_MULTI), I(MULTI_RS1 MULTI_RS2), O(SETOPT_OFF), I(PHP_SETOPT_EOF));
    CASE(P, PV_SESSION, PY_HS, O(SETOPT_OFF), I(PHP_SETOPT_EOF)); /* PyMySQL asked for them: the reset turns them on again */
    CASE(P, PV_SESSION, PY_HS, O(PHP_SETOPT), I(PHP_SETOPT_EOF));
    CASE(P, PV_SESSION, I(GREETING), O(PHP_RESP), I(HS_OK), O("\x03\x00\x00\x00\x1b\x02\x00"),
         I(ERR_NOSUCH)); /* an unknown option changes nothing */
    /* libmariadb: no parameter; the execution's column count says the
     * definitions are not sent again; the text query's says they follow */
    CASE(P, PV_SESSION, PL_HS, O(PL_PREP), I(PL_PREP_ANS), O(PL_EXEC),
         I(PL_EXEC_HEAD PL_EXEC_ROW PL_EXEC_END), O(PL_CLOSE));
    CASE(P, PV_INCOMPLETE, PL_HS, O(PL_PREP), I(PL_PREP_ANS), O(PL_EXEC), I(PL_EXEC_HEAD));
    CASE(P, PV_INCOMPLETE, PL_HS, O(PL_PREP), I(PL_PREP_ANS), O(PL_EXEC),
         I(PL_EXEC_HEAD PL_EXEC_ROW));
    CASE(P, PV_SESSION, PL_HS, O(Q_SEL), I(PL_SEL_COLS PL_SEL_ROWS));
    CASE(P, PV_INCOMPLETE, PL_HS, O(Q_SEL), I(PL_SEL_COLS));
    CASE(P, PV_SESSION, PL_HS, O(Q_CALL), I(PL_CALL_RS1 PL_CALL_RS2 PL_CALL_OK));
    CASE(P, PV_INCOMPLETE, PL_HS, O(Q_CALL), I(PL_CALL_RS1 PL_CALL_RS2));
    CASE(P, PV_CONFUSED, PL_HS, O(Q_SEL), I(SEL_COLS));              /* no metadata byte */
    CASE(P, PV_CONFUSED, PL_HS, O(Q_SEL), I("\x02\x00\x00\x01\x02\x02")); /* neither 0 nor 1 */
    /* COM_STMT_BULK_EXECUTE (written by hand: statement 1, one int column,
     * two rows), answered as an execution */
    CASE(P, PV_SESSION, PL_HS, O("\x13\x00\x00\x00\xfa\x01\x00\x00\x00\x80\x00\x03\x00"
                                 "\x00\x01\x00\x00\x00\x00\x02\x00\x00\x00"),
         I("\x07\x00\x00\x01\x00\x02\x00\x02\x00\x00\x00"));
    /* progress reports are not the statement's answer */
    CASE(P, PV_SESSION, I(GREETING), O(PROG_RESP), I(PROG_OK), O(Q_PROGSET), I(OK1), O(Q_ALTER),
         I(PROGRESS1), I(PROGRESS2), I(ALTER_OK));
    CASE(P, PV_INCOMPLETE, I(GREETING), O(PROG_RESP), I(PROG_OK), O(Q_ALTER), I(PROGRESS1));
    CASE(P, PV_INCOMPLETE, I(GREETING), O(PROG_RESP), I(PROG_OK), O(Q_ALTER),
         I(PROGRESS1 PROGRESS2));
    /* mysql2: extended metadata alone leaves the column count as it is */
    CASE(P, PV_SESSION, I(GREETING), O(NODE_RESP), I(NODE_OK), O(Q_SEL), I(NODE_SEL), O(PHP_PREP),
         I(NODE_PREP_ANS), O(NODE_EXEC), I(NODE_EXEC_ANS), O(NODE_CLOSE NODE_CLOSE));
}

static void deprecate_eof_cases(void)
{
    CASE(P, PV_SESSION, E_HS, O(Q_SEL), I(E_SEL_COLS E_SEL_ROW E_SEL_END));
    CASE(P, PV_INCOMPLETE, E_HS, O(Q_SEL), I(E_SEL_COLS));
    CASE(P, PV_INCOMPLETE, E_HS, O(Q_SEL), I(E_SEL_COLS E_SEL_ROW));
    CASE(P, PV_SESSION, E_HS, O(E_Q_EMPTY), I(E_EMPTY_ANS));
    CASE(P, PV_SESSION, E_HS, O(Q_CALL), I(E_CALL_RS1), I(E_CALL_RS2), I(E_CALL_OK));
    CASE(P, PV_INCOMPLETE, E_HS, O(Q_CALL), I(E_CALL_RS1 E_CALL_RS2));
    CASE(P, PV_SESSION, E_HS, O(Q_MULTI), I(E_MULTI_RS1 E_MULTI_RS2));
    CASE(P, PV_INCOMPLETE, E_HS, O(Q_MULTI), I(E_MULTI_RS1));
    CASE(P, PV_SESSION, E_HS, O(PHP_PREP), I(E_PREP_ANS), O(E_EXEC), I(E_EXEC_ANS), O(E_CLOSE));
    CASE(P, PV_SESSION, E_HS, O(E_FIELDS), I(E_FIELDS_ANS));
    CASE(P, PV_INCOMPLETE, E_HS, O(E_FIELDS));
    /* the same EOF-less bytes to a program that did not ask for them */
    CASE(P, PV_CONFUSED, PY_HS, O(Q_SEL), I(E_SEL_COLS E_SEL_ROW E_SEL_END));
}

static void never_cases(void)
{
    CASE(P, PV_NEVER, PY_HS, O(QUIT));                        /* the goodbye */
    CASE(P, PV_NEVER, PY_HS, O(PING), I(OK1), O(QUIT));
    CASE(P, PV_NEVER, PY_HS, O(QUIT PING));
    CASE(P, PV_NEVER, I(GREETING), O(PHP_RESP), I(HS_OK), O(PHP_CHUSER));  /* another login */
    CASE(P, PV_NEVER, PY_HS, O(BINLOG), I(BINLOG_ERR));       /* replication */
    CASE(P, PV_NEVER, PY_HS, O(BINLOG));
    /* a cursor: the rows stay on the server */
    CASE(P, PV_NEVER, PY_HS, O(EC_PREP), I(C_PREP_ANS), O(C_EXEC), I(C_EXEC_ANS));
    CASE(P, PV_NEVER, E_HS, O(EC_PREP), I(EC_PREP_ANS), O(C_EXEC), I(EC_EXEC_ANS));
    CASE(P, PV_NEVER, PY_HS, O("\x05\x00\x00\x00\x1c\x01\x00\x00\x00")); /* COM_STMT_FETCH */
}

static void confused_cases(void)
{
    CASE(P, PV_CONFUSED, O(PING));                             /* the server speaks first */
    CASE(P, PV_CONFUSED, I(HS_OK));                            /* not a greeting */
    CASE(P, PV_CONFUSED, I("\x04\x00\x00\x00\x09" "5.5"));    /* protocol 9 */
    CASE(P, PV_CONFUSED, I(GREETING), I(HS_OK));               /* an OK before the response */
    CASE(P, PV_CONFUSED, I(GREETING), O(PY_RESP), I(HS_OK), I(OK1)); /* no command pending */
    CASE(P, PV_CONFUSED, PY_HS, O(PING), I(OK1 OK1));
    CASE(P, PV_CONFUSED, PY_HS, I(ERR_NOSUCH));                /* a kill's ERR, unasked */
    CASE(P, PV_CONFUSED, PY_HS, O(Q_SEL), I(SEL_COLS SEL_ROW)); /* no EOF after columns */
    CASE(P, PV_CONFUSED, PY_HS, O(PING), I(SEL_ROW));
    CASE(P, PV_CONFUSED, PY_HS, O(Q_SEL), I("\x04\x00\x00\x01\x02\x00\x00\x00"));
    CASE(P, PV_CONFUSED, PY_HS, O(Q_LOAD), I(LOAD_ASK), I(LOAD_OK)); /* before the file's end */
    CASE(P, PV_CONFUSED, PY_HS, O("\x00\x00\x00\x00"));        /* an empty command */
    CASE(P, PV_CONFUSED, PY_HS, O(PING PING PING PING PING PING PING PING PING)); /* > 8 */
    /* a program whose driver lacks MariaDB's progress flag gets no report:
     * 0xff is an ERR there, and the OK after it is unasked */
    CASE(P, PV_CONFUSED, PY_HS, O(Q_ALTER), I(PROGRESS1), I(ALTER_OK));
    CASE(P, PV_CONFUSED, I("\x01\x00\x00\x00\x09"), I(GREETING), O(PY_RESP), I(HS_OK)); /* sticky */
}

/* COM_QUIT written alone at a boundary is the goodbye: swallowed, the
 * session parked; not when an answer is owed, the handshake unfinished, the
 * session never reusable, or other bytes come with it. */
static void goodbye_cases(void)
{
    GOODBYE(P, GB_SWALLOW, QUIT, NULL, PY_HS);
    GOODBYE(P, GB_SWALLOW, QUIT, NULL, PY_HS, O(Q_SEL), I(SEL_COLS SEL_EOF SEL_ROW SEL_END));
    GOODBYE(P, GB_SWALLOW, QUIT, NULL, PY_HS, O(Q_CALL), I(CALL_RS1 CALL_RS2 CALL_OK));
    GOODBYE(P, GB_SWALLOW, QUIT, NULL, I(GREETING), O(PHP_RESP), I(HS_OK), O(PHP_PREP),
            I(PHP_PREP_OK PHP_PREP_PARAMS PHP_PREP_COLS), O(PHP_CLOSE));
    GOODBYE(P, GB_SWALLOW, QUIT, NULL, PL_HS, O(Q_SEL), I(PL_SEL_COLS PL_SEL_ROWS));
    GOODBYE(P, GB_NONE, QUIT, NULL, PY_HS, O(Q_SEL));                    /* an answer owed */
    GOODBYE(P, GB_NONE, QUIT, NULL, PY_HS, O(Q_CALL), I(CALL_RS1));
    GOODBYE(P, GB_NONE, QUIT, NULL, PY_HS, O(Q_LOAD), I(LOAD_ASK));      /* the file is due */
    GOODBYE(P, GB_NONE, QUIT, NULL, I(GREETING), O(PY_RESP));            /* no login yet */
    GOODBYE(P, GB_SWALLOW, QUIT, NULL, I(GREETING), O(PHP_RESP), I(HS_OK), O(PHP_SETOPT),
            I(PHP_SETOPT_EOF));                                          /* the reset sets it back */
    GOODBYE(P, GB_NONE, QUIT PING, NULL, PY_HS);                         /* not alone */
    GOODBYE(P, GB_NONE, PING, NULL, PY_HS);
}

static void expect(const char *name, long got, long want)
{
    harness_cases++;
    if (got != want) {
        fprintf(stderr, "FAIL %s: %ld, want %ld\n", name, got, want);
        harness_failed++;
    }
}

#define FEED(f, s) P.f(&st, (const unsigned char *)(s), sizeof(s) - 1)

/* What the layer above reads: the handshake's state, the program's
 * capabilities and collation, the server's last status; the reset's and
 * the switch's entry points. */
static void accessor_cases(void)
{
    struct proto_state st;
    memset(&st, 0, sizeof st); /* zeroed memory is a fresh state */
    expect("fresh: handshake on", proto_my_handshake(&st), MY_HS_ON);
    FEED(in, GREETING);
    FEED(out, PY_RESP);
    expect("response: handshake on", proto_my_handshake(&st), MY_HS_ON);
    expect("PyMySQL's capabilities", proto_my_caps(&st), 0x003ba28d);
    expect("PyMySQL's collation (utf8mb4_general_ci)", proto_my_charset(&st), 45);
    FEED(in, HS_OK);
    expect("OK: handshake done", proto_my_handshake(&st), MY_HS_DONE);
    expect("OK: autocommit", proto_my_status(&st), 0x0002);
    FEED(out, Q_SET);
    FEED(in, OK_TRANS);
    expect("a transaction open", proto_my_status(&st), 0x0003);
    FEED(out, Q_CALL);
    FEED(in, CALL_RS1);
    expect("more results (and a session state changed)", proto_my_status(&st), 0x400a);
    expect("more results: incomplete", P.verdict(&st), PV_INCOMPLETE);
    P.reset_done(&st); /* the reset's answer was read: a boundary */
    expect("reset: a session", P.verdict(&st), PV_SESSION);
    FEED(out, SETOPT_OFF);
    FEED(in, PHP_SETOPT_EOF);
    expect("multi-statements off: changed", proto_my_multi_changed(&st), 1);
    expect("multi-statements off: still a session", P.verdict(&st), PV_SESSION);
    P.reset_done(&st);
    expect("the reset set them back", proto_my_multi_changed(&st), 0);
    expect("reset: no transaction, no more results", proto_my_status(&st) & 0x0009, 0);

    P.init(&st);
    FEED(in, GREETING);
    FEED(out, PHP_RESP);
    FEED(in, HS_OK);
    expect("mysqlnd's capabilities", proto_my_caps(&st), 0x001aa28d);
    expect("mysqlnd's collation (latin1)", proto_my_charset(&st), 8);

    P.init(&st);
    FEED(in, GREETING);
    FEED(out, E_RESP);
    expect("CLIENT_DEPRECATE_EOF asked", proto_my_caps(&st) & 0x01000000, 0x01000000);

    P.init(&st);
    FEED(in, GREETING);
    FEED(out, NODE_RESP);
    FEED(in, NODE_OK);
    expect("mysql2's collation (utf8mb4_unicode_ci)", proto_my_charset(&st), 224);
    expect("session tracking: autocommit", proto_my_status(&st) & 0x0002, 0x0002);

    P.init(&st);
    FEED(in, GREETING);
    FEED(out, PY_RESP);
    FEED(in, FULL_AUTH);
    expect("full authentication asked", proto_my_handshake(&st), MY_HS_FULL);
    FEED(out, "\x04\x00\x00\x03pw1\x00");
    FEED(in, HS_OK);
    expect("full authentication, then the OK", proto_my_handshake(&st), MY_HS_DONE);

    P.init(&st);
    FEED(in, GREETING);
    FEED(out, PY_RESP);
    FEED(in, FAST_AUTH);
    expect("fast path: not full", proto_my_handshake(&st), MY_HS_ON);

    /* the switch: a state right after a response, the server's answer next */
    memset(&st, 0xa5, sizeof st);
    proto_my_after_response(&st, 0x003ba28d, 0, 45);
    expect("after response: on", proto_my_handshake(&st), MY_HS_ON);
    expect("after response: incomplete", P.verdict(&st), PV_INCOMPLETE);
    FEED(in, ED_SWITCH);
    FEED(out, ED_SIG);
    FEED(in, ED_OK);
    expect("after response, switched: a session", P.verdict(&st), PV_SESSION);
    expect("after response: caps", proto_my_caps(&st), 0x003ba28d);
    expect("after response: collation", proto_my_charset(&st), 45);
}

/* Feed n bytes in chunks of `chunk` (0: whole). */
static void feed_chunks(struct proto_state *st, int out, const unsigned char *p, size_t n,
                        size_t chunk)
{
    size_t c = chunk ? chunk : n;
    for (size_t k = 0; k < n; k += c) {
        size_t m = n - k < c ? n - k : c;
        if (out)
            P.out(st, p + k, m);
        else
            P.in(st, p + k, m);
    }
}

/* The 16 MiB + 13 byte row MariaDB sent for SELECT REPEAT('a', 16777216),
 * 'ab': its first byte 0xfe (an 8-byte length) and its first piece
 * 0xffffff long, then 13 bytes; then the end of rows (an EOF, or an OK with
 * a 0xfe header under CLIENT_DEPRECATE_EOF). Returns the bytes, *n long,
 * and in *first the length of the first piece with its header. */
static unsigned char *big_row(int deprecate, size_t *n, size_t *first)
{
    static const char end_eof[] = "\x05\x00\x00\x07\xfe\x00\x00\x02\x00";
    static const char end_ok[] = "\x07\x00\x00\x06\xfe\x00\x00\x02\x00\x00\x00";
    size_t total = 4 + 0xffffff + 4 + 13 + (deprecate ? sizeof end_ok : sizeof end_eof) - 1;
    unsigned char *b = malloc(total), *p = b;
    if (!b)
        abort();
    memcpy(p, deprecate ? "\xff\xff\xff\x04" : "\xff\xff\xff\x05", 4);
    memcpy(p + 4, "\xfe\x00\x00\x00\x01\x00\x00\x00\x00", 9);
    memset(p + 13, 'a', 0xffffff - 9);
    p += 4 + 0xffffff;
    *first = (size_t)(p - b);
    memcpy(p, deprecate ? "\x0d\x00\x00\x05" : "\x0d\x00\x00\x06", 4);
    memcpy(p + 4, "aaaaaaaaaa\x02" "ab", 13);
    p += 17;
    memcpy(p, deprecate ? end_ok : end_eof, (deprecate ? sizeof end_ok : sizeof end_eof) - 1);
    *n = total;
    return b;
}

/* A row whose first byte is 0xfe does not end the rows, however cut. */
static void big_row_cases(int deprecate)
{
    static const size_t chunks[] = {0, 1, 4093, 65536};
    size_t n, first;
    unsigned char *b = big_row(deprecate, &n, &first);
    for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
        struct proto_state st;
        P.init(&st);
        FEED(in, GREETING);
        if (deprecate) {
            FEED(out, E_RESP);
            FEED(in, HS_OK);
            FEED(out, Q_SEL);
            FEED(in, E_SEL_COLS);
        } else {
            FEED(out, PY_RESP);
            FEED(in, HS_OK);
            FEED(out, Q_SEL);
            FEED(in, SEL_COLS SEL_EOF);
        }
        feed_chunks(&st, 0, b, first, chunks[c]);
        expect(deprecate ? "0xffffff piece (no EOF)" : "0xffffff piece", P.verdict(&st),
               PV_INCOMPLETE);
        feed_chunks(&st, 0, b + first, 17, chunks[c]);
        expect(deprecate ? "0xfe row whole (no EOF)" : "0xfe row whole", P.verdict(&st),
               PV_INCOMPLETE);
        feed_chunks(&st, 0, b + first + 17, n - first - 17, chunks[c]);
        expect(deprecate ? "0xfe row, then the OK" : "0xfe row, then the EOF", P.verdict(&st),
               PV_SESSION);
    }
    free(b);
}

/* A command past 16 MiB, in two pieces; one of exactly 0xffffff bytes,
 * ended by an empty piece. */
static void big_command_cases(void)
{
    size_t n = 4 + 0xffffff + 4 + 2;
    unsigned char *b = malloc(n);
    if (!b)
        abort();
    memcpy(b, "\xff\xff\xff\x00\x03SELECT '", 13);
    memset(b + 13, 'a', 0xffffff - 9);
    memcpy(b + 4 + 0xffffff, "\x02\x00\x00\x01'a", 6);
    struct proto_state st;
    P.init(&st);
    FEED(in, GREETING);
    FEED(out, PY_RESP);
    FEED(in, HS_OK);
    feed_chunks(&st, 1, b, 4 + 0xffffff, 65536);
    expect("command: first piece", P.verdict(&st), PV_INCOMPLETE);
    feed_chunks(&st, 1, b + 4 + 0xffffff, 6, 1);
    expect("command: whole", P.verdict(&st), PV_INCOMPLETE);
    FEED(in, OK1);
    expect("command: answered", P.verdict(&st), PV_SESSION);

    P.init(&st);
    FEED(in, GREETING);
    FEED(out, PY_RESP);
    FEED(in, HS_OK);
    feed_chunks(&st, 1, b, 4 + 0xffffff, 0);
    FEED(out, "\x00\x00\x00\x01");
    FEED(in, OK1);
    expect("command of 0xffffff bytes: answered", P.verdict(&st), PV_SESSION);

    P.init(&st);
    FEED(in, GREETING);
    FEED(out, PY_RESP);
    FEED(in, HS_OK);
    feed_chunks(&st, 1, b, 4 + 0xffffff, 0);
    expect("command of 0xffffff bytes: its empty piece to come", P.verdict(&st), PV_INCOMPLETE);
    free(b);
}

/* A logical packet past 4 GiB (no server sends one: max_allowed_packet is
 * at most 1 GiB): its length does not wrap to a short one. 257 pieces of
 * 0xffffff bytes, the first beginning 0xfe, under CLIENT_DEPRECATE_EOF. */
static void huge_row_case(void)
{
    size_t n = 4 + 0xffffff;
    unsigned char *b = malloc(n);
    if (!b)
        abort();
    memset(b, 'a', n);
    memcpy(b, "\xff\xff\xff\x04\xfe\x00\x00\x00\x01\x01\x00\x00\x00", 13);
    struct proto_state st;
    P.init(&st);
    FEED(in, GREETING);
    FEED(out, E_RESP);
    FEED(in, HS_OK);
    FEED(out, Q_SEL);
    FEED(in, E_SEL_COLS);
    P.in(&st, b, n);
    b[4] = 'a';
    for (int k = 1; k < 257; k++)
        P.in(&st, b, n);
    FEED(in, "\x00\x00\x00\x05"); /* the last, empty piece */
    expect("a row past 4 GiB, the end of rows to come", P.verdict(&st), PV_INCOMPLETE);
    FEED(in, "\x07\x00\x00\x06\xfe\x00\x00\x02\x00\x00\x00");
    expect("a row past 4 GiB, then the OK", P.verdict(&st), PV_SESSION);
    free(b);
}

int main(void)
{
    handshake_cases();
    query_cases();
    statement_cases();
    deprecate_eof_cases();
    never_cases();
    confused_cases();
    goodbye_cases();
    accessor_cases();
    big_row_cases(0);
    big_row_cases(1);
    big_command_cases();
    huge_row_case();
    return harness_done("mysql");
}
