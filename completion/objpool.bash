# bash completion for objpool(1): the commands, each command's options,
# files for -f and for report, and a whole command line after `run --`.
# Installed as /usr/share/bash-completion/completions/objpool; works with
# the bash-completion package's helpers and, without them, with compgen.

# _objpool_reply WORDS...: the words that start with the current word
_objpool_reply() {
    mapfile -t COMPREPLY < <(compgen -W "$*" -- "$cur")
}

# _objpool_files: file names (directories too, to go down into)
_objpool_files() {
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}

# The options that take an argument, by command.
_objpool_takes_arg() { # _objpool_takes_arg OPTION
    case $1 in
    -f | --file | -p | --pool | -r | --report) return 0 ;;
    esac
    return 1
}

# An option's argument: a file, a pool URL's scheme, a report destination.
_objpool_arg() { # _objpool_arg OPTION; false if OPTION takes none
    case $1 in
    -f | --file) _objpool_files ;;
    -p | --pool)
        compopt -o nospace 2>/dev/null
        _objpool_reply tcp:// unix:// file://
        ;;
    -r | --report)
        _objpool_files
        mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -W 'stderr none' -- "$cur")
        ;;
    *) return 1 ;;
    esac
}

# Where run's COMMAND starts: after `--`, or at the first word that is not
# an option or an option's argument. Prints its index, or nothing.
_objpool_run_command_start() { # _objpool_run_command_start FIRST
    local i
    for ((i = $1; i < cword; i++)); do
        case ${words[i]} in
        --) echo $((i + 1)); return ;;
        -*) _objpool_takes_arg "${words[i]}" && ((i++)) ;;
        *) echo "$i"; return ;;
        esac
    done
}

_objpool() {
    local cur prev words cword
    if declare -F _init_completion >/dev/null 2>&1; then
        _init_completion -n = || return
    else
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
        cur=${words[cword]}
        prev=${words[cword - 1]:-}
    fi
    COMPREPLY=()

    local i cmd='' at=0
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
        -*) ;;
        *) cmd=${words[i]}; at=$i; break ;;
        esac
    done
    if [[ -z "$cmd" ]]; then
        _objpool_reply run env check report stats --help --version
        return
    fi

    if [[ $cmd == run ]]; then
        local start
        start=$(_objpool_run_command_start $((at + 1)))
        # a word that is neither an option nor an option's argument starts COMMAND
        if [[ -z "$start" && "$cur" != -* ]] && ! _objpool_takes_arg "$prev"; then
            start=$cword
        fi
        if [[ -n "$start" ]]; then
            if declare -F _command_offset >/dev/null 2>&1; then
                _command_offset "$start"
            elif ((start == cword)); then
                mapfile -t COMPREPLY < <(compgen -c -- "$cur" | LC_ALL=C sort -u)
            else
                _objpool_files
            fi
            return
        fi
    fi
    ((cword > at + 1)) && _objpool_arg "$prev" && return

    case $cmd in
    run) _objpool_reply -f --file -p --pool -r --report --json --stats --stats= -v --verbose -q --quiet -h --help -- ;;
    env) _objpool_reply -f --file -p --pool -r --report --json --stats --stats= -v --verbose -q --quiet --docker -h --help ;;
    check) _objpool_reply -f --file -p --pool -h --help ;;
    report)
        if [[ "$cur" == -* ]]; then
            _objpool_reply --prometheus -h --help
        else
            _objpool_files
        fi
        ;;
    stats)
        if [[ "$prev" == --dir ]]; then
            _objpool_files
        else
            _objpool_reply --dir --json --prometheus --watch --watch= -h --help
        fi
        ;;
    esac
}

complete -F _objpool objpool
