# bash completion for kvmprof(8)                             -*- shell-script -*-
# Installed as /usr/share/bash-completion/completions/kvmprof, which
# bash-completion loads the first time kvmprof is completed; also works when
# sourced on its own (it needs nothing of bash-completion's).
#
# Options come from the command's own --help (so a newer kvmprof's options
# complete too), values from the lists below: attach modes as in
# loader/cli/options.c, classes as in loader/model/classes.c (a test checks
# both), files for the options that name one.

_kvmprof_attach_modes="auto tracepoint btf fentry kprobe"
_kvmprof_classes="exit hypercall emulate pio mmio userspace msr cpuid wfx sysreg fault irq ipi pagefault halt nested"
_kvmprof_commands="report diff"

# The long and short options "$@ --help" lists, one per line (cached per
# command and subcommand).
_kvmprof_options()
{
	local key="$*" var
	var="_kvmprof_cache_$(printf '%s' "$key" | tr -c 'A-Za-z0-9' '_')"
	if [[ -z ${!var-} ]]; then
		# argp's option column: "  -a, --attach=MODE" or "      --usage"
		printf -v "$var" '%s' "$("$@" --help 2>/dev/null | grep -E '^ {2,6}-' |
			sed -E 's/^ +((-[A-Za-z0-9]), )?(--[A-Za-z0-9-]+)?.*/\2 \3/' | tr ' ' '\n' | grep . | sort -u)"
	fi
	printf '%s\n' "${!var}"
}

# Files (and folders to descend into), of one extension when given.
_kvmprof_files()
{
	local cur=$1 ext=${2-}
	compopt -o filenames 2>/dev/null
	if [[ -n $ext ]]; then
		mapfile -t COMPREPLY < <(compgen -f -X "!*.$ext" -- "$cur"; compgen -d -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	fi
}

# The pids of processes that have a KVM VM open (those readable here).
_kvmprof_vmm_pids()
{
	local d
	for d in /proc/[0-9]*; do
		ls -l "$d/fd" 2>/dev/null | grep -q 'anon_inode:kvm-vm' && printf '%s\n' "${d#/proc/}"
	done
}

# -e CLASS[,CLASS...]: the list so far stays, the last item completes.
_kvmprof_class_list()
{
	local cur=$1 head="" last=$1 c words=""
	if [[ $cur == *,* ]]; then
		head=${cur%,*},
		last=${cur##*,}
	fi
	for c in all default $_kvmprof_classes; do
		words+="$head$c $head+$c "
	done
	words=${words//"$head+all "/}
	words=${words//"$head+default "/}
	compopt -o nospace 2>/dev/null
	mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
}

_kvmprof()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]-}
	local cmd=("${COMP_WORDS[0]}") sub=""
	COMPREPLY=()

	# --option=value: bash splits the word at '=' (COMP_WORDBREAKS)
	if [[ $cur == "=" ]]; then
		cur=""
	elif [[ $prev == "=" && $COMP_CWORD -ge 2 ]]; then
		prev=${COMP_WORDS[COMP_CWORD-2]}
	fi
	# a command is the first word (kvmprof report ..., kvmprof diff ...)
	if ((COMP_CWORD > 1)) && [[ " $_kvmprof_commands " == *" ${COMP_WORDS[1]} "* ]]; then
		sub=${COMP_WORDS[1]}
		cmd+=("$sub")
	fi

	if [[ -n $sub ]]; then
		case $prev in
		-o|--output) _kvmprof_files "$cur"; return ;;
		-n|--top) return ;;
		esac
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_kvmprof_options "${cmd[@]}")" -- "$cur")
		else
			_kvmprof_files "$cur" csv
		fi
		return
	fi

	case $prev in
	-a|--attach)
		mapfile -t COMPREPLY < <(compgen -W "$_kvmprof_attach_modes" -- "$cur")
		return ;;
	-e|--events)
		_kvmprof_class_list "$cur"
		return ;;
	-c|--csv|--csv-series|-j|--json|--json-series|--csv-insns|--prom-file)
		_kvmprof_files "$cur"
		return ;;
	-p|--pid)
		mapfile -t COMPREPLY < <(compgen -W "$(_kvmprof_vmm_pids)" -- "$cur")
		return ;;
	--listen)
		compopt -o nospace 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -W "127.0.0.1:9464 [::1]:9464 0.0.0.0:9464 unix:/run/kvmprof/metrics.sock" -- "$cur")
		return ;;
	-g|--guest|-i|--interval|-d|--duration|-n|--top|--max-keys|--max-guest-keys|--metrics-max-series|--metrics-grace)
		return ;;
	esac

	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_kvmprof_options "${cmd[@]}")" -- "$cur")
	elif ((COMP_CWORD == 1)); then
		mapfile -t COMPREPLY < <(compgen -W "$_kvmprof_commands" -- "$cur")
	fi
}
complete -F _kvmprof kvmprof
