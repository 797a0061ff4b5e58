"""env_lines.py - read `objpool env` output as systemd or docker would, and
compare it with the environment `objpool run` gave a program.

    env_lines.py systemd|docker LINES_FILE ENV0_FILE

LINES_FILE: the output of `objpool env`; ENV0_FILE: `env -0` as run by
`objpool run`. Its LD_PRELOAD and OBJPOOL_* variables must be exactly the
assignments read from LINES_FILE. Prints "ok: N variables".

systemd (systemd.exec(5) Environment=, systemd.syntax(7)): a line is the
argument of one Environment= setting: words split at unquoted blanks,
double or single quotes around a word or a part of it, C escapes inside
and outside quotes; then specifiers, of which only %% (a %) may appear.
docker (docker run --env-file): leading blanks dropped, NAME up to the
first =, the value the rest of the line byte for byte, UTF-8 only.
"""
import sys

ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
           "\\": "\\", '"': '"', "'": "'", "s": " "}


def unescape(s, i):
    """The C escape at s[i] (after the backslash): (text, next index)."""
    c = s[i:i + 1]
    if c in ESCAPES:
        return ESCAPES[c], i + 1
    if c == "x" and len(s) >= i + 3:
        return chr(int(s[i + 1:i + 3], 16)), i + 3
    sys.exit("env_lines: bad escape \\%s in %r" % (c, s))


def systemd_words(line):
    words, word, quote, i, in_word = [], [], None, 0, False
    while i < len(line):
        c = line[i]
        if quote:
            if c == quote:
                quote = None
                i += 1
            elif c == "\\":
                t, i = unescape(line, i + 1)
                word.append(t)
            else:
                word.append(c)
                i += 1
        elif c in " \t":
            if in_word:
                words.append("".join(word))
                word, in_word = [], False
            i += 1
        else:
            in_word = True
            if c in "\"'":
                quote = c
                i += 1
            elif c == "\\":
                t, i = unescape(line, i + 1)
                word.append(t)
            else:
                word.append(c)
                i += 1
    if quote:
        sys.exit("env_lines: unterminated quote: %r" % line)
    if in_word:
        words.append("".join(word))
    return words


def specifiers(word):
    out, i = [], 0
    while i < len(word):
        if word[i] == "%":
            if word[i + 1:i + 2] != "%":
                sys.exit("env_lines: a specifier systemd would expand: %r" % word)
            out.append("%")
            i += 2
        else:
            out.append(word[i])
            i += 1
    return "".join(out)


def read_systemd(data):
    env = {}
    for line in data.decode("utf-8").splitlines():
        words = systemd_words(line)
        if len(words) != 1:
            sys.exit("env_lines: not one assignment: %r -> %r" % (line, words))
        name, eq, value = specifiers(words[0]).partition("=")
        if not eq or not name:
            sys.exit("env_lines: not NAME=VALUE: %r" % line)
        env[name] = value
    return env


def read_docker(data):
    env = {}
    for line in data.decode("utf-8").split("\n"):
        line = line.lstrip()
        if not line or line.startswith("#"):
            continue
        name, eq, value = line.partition("=")
        if not eq or any(c.isspace() for c in name):
            sys.exit("env_lines: not NAME=VALUE: %r" % line)
        env[name] = value
    return env


def main():
    mode, lines, env0 = sys.argv[1:4]
    with open(lines, "rb") as f:
        got = (read_systemd if mode == "systemd" else read_docker)(f.read())
    with open(env0, "rb") as f:
        items = [e.decode("utf-8").partition("=") for e in f.read().split(b"\0") if e]
    ran = {k: v for k, _, v in items if k == "LD_PRELOAD" or k.startswith("OBJPOOL_")}
    if got != ran:
        for k in sorted(set(got) | set(ran)):
            if got.get(k) != ran.get(k):
                print("env_lines: %s: env says %r, run set %r" % (k, got.get(k), ran.get(k)))
        sys.exit(1)
    print("ok: %d variables" % len(got))


main()
