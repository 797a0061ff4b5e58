# mk/fresh.mk - the README's two commands on a bare Debian machine (issue 24).
#
#   make fresh     .ci/fresh: a minbase Debian root from this machine's apt
#                  sources (cached), a clean clone of HEAD copied in, and in a
#                  chroot `make demo`, `make test` (CI=true), the Debian
#                  package built, installed with apt and run. Needs root and
#                  mmdebstrap; .ci/run calls it.
.PHONY: fresh
fresh:
	.ci/fresh
