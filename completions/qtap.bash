_qtap() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="qtap"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        qtap)
            opts="-h -V --tcp --tls --https --https-get --quic --tls-ca --tls-hostname --tls-sni --tls-pin --tls-certfile --tls-keyfile --tls-insecure --tls-info --keepopen --tap --tap-type --tap-identity --read --timeout --tries --format --color --generate --qname --qname-regex --qtype --rcode --msg-type --addr --port --proto --since --until --slower-than --tc --do --identity --write --scrub --scrub-key --scrub-ports --scrub-names --stats --rrsets --replay --rate --speed --compare-ttl --ignore-rrsig-times --mismatches --replay-edns --top --hex --wire --max-frame-size --rotate-size --rotate-interval --rotate-keep --socket-mode --socket-owner --collector-buffer --max-connections --until-closed --no-output --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --https)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tls-ca)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tls-hostname)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tls-sni)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tls-pin)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tls-certfile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tls-keyfile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tap)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tap-type)
                    COMPREPLY=($(compgen -W "stub tool" -- "${cur}"))
                    return 0
                    ;;
                --tap-identity)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --read)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tries)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --format)
                    COMPREPLY=($(compgen -W "text short json jsonl yaml" -- "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --generate)
                    COMPREPLY=($(compgen -W "man bash zsh fish" -- "${cur}"))
                    return 0
                    ;;
                --qname)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --qname-regex)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --qtype)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rcode)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --msg-type)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --addr)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --proto)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --since)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --until)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --slower-than)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --identity)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --write)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scrub-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --replay)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rate)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --speed)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mismatches)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --replay-edns)
                    COMPREPLY=($(compgen -W "keep fresh-cookie no-cookie none" -- "${cur}"))
                    return 0
                    ;;
                --top)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hex)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --wire)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-frame-size)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rotate-size)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rotate-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rotate-keep)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --socket-mode)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --socket-owner)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --collector-buffer)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-connections)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _qtap -o nosort -o bashdefault -o default qtap
else
    complete -F _qtap -o bashdefault -o default qtap
fi

# dig-style words, which clap's _qtap above does not know: +options (from
# qtap's option table), @server, and record types or classes after a name.
_qtap_plus='+tcp +notcp +vc +novc +recurse +norecurse +dnssec +nodnssec +cdflag +nocdflag +adflag +noadflag +aaflag +noaaflag +bufsize= +edns +noedns +edns= +qr +noqr +short +noshort +timeout= +tries= +retry= +ignore +noignore +comments +nocomments +question +noquestion +answer +noanswer +authority +noauthority +additional +noadditional +stats +nostats +cmd +nocmd +all +noall +cookie +nocookie +cookie= +nsid +nonsid +subnet= +expire +noexpire +keepalive +nokeepalive +padding= +ednsopt= +ednsflags= +zflag +nozflag +multiline +nomultiline +parallel= +idn +noidn +json +nojson +yaml +noyaml +ttlid +nottlid +class +noclass +crypto +nocrypto +rrcomments +norrcomments +split= +unknownformat +nounknownformat +tls +notls +https +nohttps +https= +https-get +nohttps-get +https-get= +https-post +nohttps-post +https-post= +quic +noquic +tls-ca +notls-ca +tls-ca= +tls-hostname= +tls-sni= +tls-pin= +tls-certfile= +tls-keyfile= +tls-insecure +notls-insecure +tlsinfo +notlsinfo +keepopen +nokeepopen +proxy +noproxy +proxy= +proxy-plain +noproxy-plain +proxy-plain= +qid= +header-only +noheader-only +opcode= +raflag +noraflag +tcflag +notcflag +ednsnegotiation +noednsnegotiation +fail +nofail +besteffort +nobesteffort +showbadcookie +noshowbadcookie +identify +noidentify +ttlunits +nottlunits +expandaaaa +noexpandaaaa +onesoa +noonesoa +trace +notrace +nssearch +nonssearch +hints= +idnout +noidnout'
_qtap_types='A NS MD MF CNAME SOA MB MG MR NULL WKS PTR HINFO MINFO MX TXT RP AFSDB X25 ISDN RT NSAP NSAP-PTR SIG KEY PX GPOS AAAA LOC NXT EID NIMLOC SRV ATMA NAPTR KX CERT A6 DNAME SINK OPT APL DS SSHFP IPSECKEY RRSIG NSEC DNSKEY DHCID NSEC3 NSEC3PARAM TLSA SMIMEA HIP NINFO RKEY TALINK CDS CDNSKEY OPENPGPKEY CSYNC ZONEMD SVCB HTTPS SPF UINFO UID GID UNSPEC NID L32 L64 LP EUI48 EUI64 TKEY TSIG IXFR AXFR MAILB MAILA ANY URI CAA AVC DOA AMTRELAY RESINFO WALLET TA DLV'
_qtap_classes='IN CH HS NONE ANY'
_qtap_longval=' --tls-ca --tls-hostname --tls-sni --tls-pin --tls-certfile --tls-keyfile --tap --tap-type --tap-identity --read --timeout --tries --format --color --generate --qname --qname-regex --qtype --rcode --msg-type --addr --port --proto --since --until --slower-than --identity --write --scrub-key --replay --rate --speed --mismatches --replay-edns --top --hex --wire --max-frame-size --rotate-size --rotate-interval --rotate-keep --socket-mode --socket-owner --collector-buffer --max-connections '

_qtap_upper() {
    printf '%s' "$1" | tr '[:lower:]' '[:upper:]'
}

# What the words before the cursor leave: start, name (a name without a
# type yet), typed, classed or read (--read: no lookups); and skip=1 when
# the cursor is on the value of a flag.
_qtap_dig_state() {
    local i word up
    _qtap_state=start
    _qtap_skip=0
    for (( i = 1; i < COMP_CWORD; i++ )); do
        word="${COMP_WORDS[i]}"
        if [[ $word == "=" ]]; then
            _qtap_skip=1
            continue
        fi
        if (( _qtap_skip )); then
            _qtap_skip=0
            continue
        fi
        case "$word" in
            --read|--read=*) _qtap_state=read ;;
            --*) [[ $_qtap_longval == *" $word "* ]] && _qtap_skip=1 ;;
            -p|-t|-c|-f|-y|-k) _qtap_skip=1 ;;
            -x) _qtap_skip=1; [[ $_qtap_state != read ]] && _qtap_state=typed ;;
            -q) _qtap_skip=1; [[ $_qtap_state != read ]] && _qtap_state=name ;;
            -x?*) [[ $_qtap_state != read ]] && _qtap_state=typed ;;
            -q?*) [[ $_qtap_state != read ]] && _qtap_state=name ;;
            [-+@]*) ;;
            *)
                [[ $_qtap_state == read ]] && continue
                up="$(_qtap_upper "$word")"
                if [[ $_qtap_state == name && ( " $_qtap_types " == *" $up "* || $up == TYPE[0-9]* ) ]]; then
                    _qtap_state=typed
                elif [[ ( $_qtap_state == name || $_qtap_state == typed ) && ( " $_qtap_classes " == *" $up "* || $up == CLASS[0-9]* ) ]]; then
                    _qtap_state=classed
                else
                    _qtap_state=name
                fi
                ;;
        esac
    done
}

_qtap_dig() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="" before=""
    (( COMP_CWORD > 0 )) && prev="${COMP_WORDS[COMP_CWORD-1]}"
    (( COMP_CWORD > 1 )) && before="${COMP_WORDS[COMP_CWORD-2]}"
    COMPREPLY=()
    # Without `=` in COMP_WORDBREAKS the file name is part of the word.
    if [[ $cur == +tls-ca=* || $cur == +tls-certfile=* || $cur == +tls-keyfile=* ]]; then
        COMPREPLY=( $(compgen -f -P "${cur%%=*}=" -- "${cur#*=}") )
        return 0
    fi
    if [[ $cur == +* ]]; then
        COMPREPLY=( $(compgen -W "$_qtap_plus" -- "$cur") )
        if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
            compopt -o nospace 2>/dev/null
        fi
        return 0
    fi
    if [[ $prev == "=" && $before == +* ]]; then
        case "$before" in
            +tls-ca|+tls-certfile|+tls-keyfile) COMPREPLY=( $(compgen -f -- "$cur") ) ;;
        esac
        return 0
    fi
    if [[ $cur == @* ]]; then
        COMPREPLY=( $(compgen -A hostname -P @ -- "${cur#@}") )
        return 0
    fi
    _qtap_dig_state
    if (( _qtap_skip )); then
        case "$prev" in
            -t) COMPREPLY=( $(compgen -W "$_qtap_types" -- "$(_qtap_upper "$cur")") ); return 0 ;;
            -c) COMPREPLY=( $(compgen -W "$_qtap_classes" -- "$(_qtap_upper "$cur")") ); return 0 ;;
            -f|-k) COMPREPLY=( $(compgen -f -- "$cur") ); return 0 ;;
            -p|-x|-q|-y) return 0 ;;
        esac
    elif [[ $cur != -* ]]; then
        case "$_qtap_state" in
            name) COMPREPLY=( $(compgen -W "$_qtap_types $_qtap_classes" -- "$(_qtap_upper "$cur")") ); return 0 ;;
            typed) COMPREPLY=( $(compgen -W "$_qtap_classes" -- "$(_qtap_upper "$cur")") ); return 0 ;;
        esac
    fi
    _qtap "$@"
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _qtap_dig -o nosort -o bashdefault -o default qtap
else
    complete -F _qtap_dig -o bashdefault -o default qtap
fi
