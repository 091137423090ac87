#compdef qtap

autoload -U is-at-least

_qtap_clap() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'--https=[Query over DNS-over-HTTPS, port 443 (+https)]::PATH:_default' \
'--tls-ca=[Verify the server certificate against this CA file (PEM) instead of the system roots]:FILE:_files' \
'--tls-hostname=[The name the server certificate must carry (default\: the server'\''s name or address)]:NAME:_default' \
'--tls-sni=[The name to send in the TLS SNI extension]:NAME:_default' \
'*--tls-pin=[Accept the server if its key has this SPKI SHA-256 pin (base64; may repeat)]:BASE64:_default' \
'--tls-certfile=[Client certificate chain (PEM)]:FILE:_files' \
'--tls-keyfile=[Client private key (PEM)]:FILE:_files' \
'--tap=[Record every message sent and received in this dnstap file ("-" for stdout)]:FILE:_files' \
'--tap-type=[dnstap message types to record\: stub (STUB_QUERY/RESPONSE) or tool (TOOL_*, like kdig)]:TYPE:((stub\:"STUB_QUERY / STUB_RESPONSE"
tool\:"TOOL_QUERY / TOOL_RESPONSE, as kdig -E writes"))' \
'--tap-identity=[Set Dnstap.identity in recorded frames (left out by default, since traces get shared)]:NAME:_default' \
'*--read=[Render dnstap files instead of querying ("-" for stdin); unix\:PATH or tcp\:ADDR\:PORT listens]:FILE:_files' \
'--timeout=[Seconds to wait for each reply (+timeout)]:SECS:_default' \
'--tries=[Number of UDP tries (+tries)]:N:_default' \
'--format=[Output format\: text (dig'\''s layout), short (+short), json (an array of RFC 8427 objects), jsonl (one object a line) or yaml (the Go dnstap tool'\''s layout); live or with --read]:FORMAT:((text\:"dig'\''s text layout"
short\:"Answer RDATA only (same as +short)"
json\:"A JSON array of RFC 8427 objects, one per DNS message, with the dnstap context"
jsonl\:"The same objects as JSON Lines, one per line"
yaml\:"YAML laid out like the Go \`dnstap -y\` tool"))' \
'--color=[When to colour the output]:WHEN:((auto\:"Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb"
always\:"Always colour"
never\:"Never colour"))' \
'--generate=[Write the man page or a shell completion script to stdout]:WHAT:((man\:"The roff man page (man/qtap.1)"
bash\:"bash completion (completions/qtap.bash)"
zsh\:"zsh completion (completions/qtap.zsh)"
fish\:"fish completion (completions/qtap.fish)"))' \
'*--qname=[Select exchanges about NAME or any name below it (label by label, any case; may repeat)]:NAME:_default' \
'*--qname-regex=[Select exchanges whose query name, as shown (e.g. www.example.com.), matches RE]:RE:_default' \
'*--qtype=[Select exchanges whose question has this type (A, AAAA, TYPE65, ...)]:TYPE:_default' \
'*--rcode=[Select exchanges answered with this rcode (NXDOMAIN, SERVFAIL, 3, ...)]:RCODE:_default' \
'*--msg-type=[Select by dnstap message type (CLIENT_QUERY, ...) or family (auth, resolver, client, forwarder, stub, tool, update)]:TYPE:_default' \
'*--addr=[Select exchanges with this address, or one in this prefix, on either side]:ADDR[/LEN]:_default' \
'*--port=[Select exchanges with this port on either side]:N:_default' \
'*--proto=[Select by transport\: udp, tcp, dot, doh or doq]:PROTO:_default' \
'*--since=[Select messages recorded at or after TIME (RFC 3339, or relative\: -10m, -2h)]:TIME:_default' \
'*--until=[Select messages recorded at or before TIME (RFC 3339, or relative\: -10m, -2h)]:TIME:_default' \
'*--slower-than=[Select exchanges whose response took longer than DURATION (250ms, 1.5s, ...)]:DURATION:_default' \
'*--identity=[Select frames with this dnstap identity]:NAME:_default' \
'--write=[With --read\: save the selected frames as a dnstap file ("-" for stdout) instead of rendering them; with a collector (--read unix\:PATH or tcp\:ADDR\:PORT), save what it receives while showing it]:OUT:_files' \
'--scrub-key=[Key for --scrub'\''s address pseudonyms\: a file of 32 bytes or 64 hex digits (default\: a random key for this run only)]:FILE:_files' \
'--replay=[Send every query of a dnstap trace to the server again and show what changed ("-" for stdin)]:FILE:_files' \
'--rate=[With --replay\: send at most QPS queries per second]:QPS:_default' \
'--speed=[With --replay\: pace the queries by their recorded times, N times faster than recorded (1\: real time)]:N:_default' \
'--mismatches=[With --replay\: write the recorded query and response and the new response of every query that differs to this dnstap file, ready to attach to a bug report]:FILE:_files' \
'--replay-edns=[With --replay\: the queries'\'' EDNS\: keep (as recorded), fresh-cookie (a new client cookie instead of the recorded one), no-cookie, none (no OPT record)]:MODE:((keep\:"Send the recorded OPT record as it is"
fresh-cookie\:"Replace a recorded COOKIE by a fresh client cookie (no server cookie)\: a server whose secret changed answers as to a new client"
no-cookie\:"Remove the COOKIE option"
none\:"Remove the OPT record (a query without EDNS)"))' \
'--top=[Rows in the top lists of --stats and of --replay'\''s summary]:N:_default' \
'*--hex=[Render DNS messages given as hex or base64 ("-"\: one per line from stdin)]:HEX:_default' \
'--wire=[Render the DNS message in FILE (raw bytes; "-" for stdin)]:FILE:_files' \
'--max-frame-size=[Largest data frame accepted by --read, in bytes]:BYTES:_default' \
'--rotate-size=[Start a new --write file once it holds this many bytes (suffixes K, M, G)]:SIZE:_default' \
'--rotate-interval=[Start a new --write file at each multiple of this interval on the clock (90, 15m, 1h, 1d)]:TIME:_default' \
'--rotate-keep=[Keep only the last N --write files of the run; older ones are removed]:N:_default' \
'--socket-mode=[Permission bits of a --read or --replay unix\: socket file, in octal (e.g. 660)]:MODE:_default' \
'--socket-owner=[Owner of a --read or --replay unix\: socket file\: USER\[\:GROUP\], names or numbers]:USER[:GROUP]:_default' \
'--collector-buffer=[Memory a collector'\''s queue holds for rendering and saving, for all senders together (suffixes K, M, G; default 16M)]:SIZE:_default' \
'--max-connections=[Senders a collector serves at once (default 64); more are refused, reported on stderr, and make the exit code 8]:N:_default' \
'--tcp[Query over TCP (+tcp)]' \
'--tls[Query over DNS-over-TLS, port 853 (+tls)]' \
'--https-get[DNS-over-HTTPS with GET instead of POST (+https-get)]' \
'--quic[Query over DNS-over-QUIC, port 853 (+quic)]' \
'--tls-insecure[Accept any server certificate (insecure; announced with a warning)]' \
'--tls-info[Show the negotiated TLS version, cipher suite, ALPN and the server key pin]' \
'--keepopen[Reuse one connection for all queries of the run (+keepopen)]' \
'--tc[Select exchanges with a truncated (TC) message]' \
'--do[Select exchanges with the DNSSEC OK (DO) bit set]' \
'--scrub[Make the trace safe to share\: pseudonymous addresses, no identity, version, ECS, cookies, NSID or padding (see "SHARING A TRACE SAFELY")]' \
'--scrub-ports[With --scrub\: replace ports too (a keyed permutation)]' \
'--scrub-names[With --scrub\: replace each label of question and owner names by a keyed hash of the same length (names inside RDATA stay)]' \
'--stats[With --read\: a summary instead of the messages (counts, pairs, top names and clients, latency percentiles); --format json for machines]' \
'--rrsets[With --read\: the unique RRsets seen in responses, passive-DNS style (DNSDB'\''s text layout, or with --format jsonl/json the common output format as JSON Lines)]' \
'--compare-ttl[With --replay\: compare TTLs too]' \
'--ignore-rrsig-times[With --replay\: leave RRSIG expiration, inception and signature out of the comparison (a re-signed zone compares equal)]' \
'--until-closed[With --read or --replay unix\:PATH or tcp\:ADDR\:PORT\: end once every sender that connected has closed its connection (after the first), not only on a signal]' \
'--no-output[Show nothing of what a collector receives (with --write\: a capture daemon)]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
}

(( $+functions[_qtap_commands] )) ||
_qtap_commands() {
    local commands; commands=()
    _describe -t commands 'qtap commands' commands "$@"
}

# dig-style words, which clap's _qtap_clap above does not know: +options (from
# qtap's option table), @server, and record types or classes after a name.
_qtap() {
    local cur=${words[CURRENT]} prev=${words[CURRENT-1]} word up state=start
    local -i i skip=0
    local -a plus_flags plus_values rtypes classes longval
    plus_flags=(
        '+tcp:query over TCP' \
        '+notcp:query over TCP' \
        '+vc:query over TCP (virtual circuit)' \
        '+novc:query over TCP (virtual circuit)' \
        '+recurse:set the RD (recursion desired) flag' \
        '+norecurse:set the RD (recursion desired) flag' \
        '+dnssec:set the DO bit (DNSSEC OK)' \
        '+nodnssec:set the DO bit (DNSSEC OK)' \
        '+cdflag:set the CD (checking disabled) flag' \
        '+nocdflag:set the CD (checking disabled) flag' \
        '+adflag:set the AD (authentic data) flag' \
        '+noadflag:set the AD (authentic data) flag' \
        '+aaflag:set the AA flag in the query' \
        '+noaaflag:set the AA flag in the query' \
        '+edns:use EDNS, optionally with a version' \
        '+noedns:use EDNS, optionally with a version' \
        '+qr:show the query as it is sent' \
        '+noqr:show the query as it is sent' \
        '+short:show answer RDATA only' \
        '+noshort:show answer RDATA only' \
        '+ignore:do not retry over TCP when truncated' \
        '+noignore:do not retry over TCP when truncated' \
        '+comments:show comment lines' \
        '+nocomments:show comment lines' \
        '+question:show the question section' \
        '+noquestion:show the question section' \
        '+answer:show the answer section' \
        '+noanswer:show the answer section' \
        '+authority:show the authority section' \
        '+noauthority:show the authority section' \
        '+additional:show the additional section' \
        '+noadditional:show the additional section' \
        '+stats:show query time, server, when and size' \
        '+nostats:show query time, server, when and size' \
        '+cmd:show the banner line' \
        '+nocmd:show the banner line' \
        '+all:set or clear all display flags' \
        '+noall:set or clear all display flags' \
        '+cookie:send a client COOKIE, optionally a given one (hex)' \
        '+nocookie:send a client COOKIE, optionally a given one (hex)' \
        '+nsid:ask for the server'\''s NSID' \
        '+nonsid:ask for the server'\''s NSID' \
        '+expire:ask for the zone'\''s EXPIRE timer' \
        '+noexpire:ask for the zone'\''s EXPIRE timer' \
        '+keepalive:ask for the TCP KEEPALIVE timeout' \
        '+nokeepalive:ask for the TCP KEEPALIVE timeout' \
        '+zflag:set the reserved Z bit in the query header' \
        '+nozflag:set the reserved Z bit in the query header' \
        '+multiline:long records over several lines, with comments' \
        '+nomultiline:long records over several lines, with comments' \
        '+idn:IDN: names typed in Unicode are sent as A-labels, A-labels shown in Unicode' \
        '+noidn:IDN: names typed in Unicode are sent as A-labels, A-labels shown in Unicode' \
        '+json:JSON output (same as --format json)' \
        '+nojson:JSON output (same as --format json)' \
        '+yaml:YAML output (same as --format yaml)' \
        '+noyaml:YAML output (same as --format yaml)' \
        '+ttlid:show the TTL column' \
        '+nottlid:show the TTL column' \
        '+class:show the class column' \
        '+noclass:show the class column' \
        '+crypto:show key and signature material' \
        '+nocrypto:show key and signature material' \
        '+rrcomments:show per-record comments (DNSKEY role, algorithm, key id)' \
        '+norrcomments:show per-record comments (DNSKEY role, algorithm, key id)' \
        '+unknownformat:print every RDATA in the RFC 3597 generic form' \
        '+nounknownformat:print every RDATA in the RFC 3597 generic form' \
        '+tls:query over DNS-over-TLS (port 853)' \
        '+notls:query over DNS-over-TLS (port 853)' \
        '+https:query over DNS-over-HTTPS (port 443), POST to the path' \
        '+nohttps:query over DNS-over-HTTPS (port 443), POST to the path' \
        '+https-get:DNS-over-HTTPS with GET, to the path' \
        '+nohttps-get:DNS-over-HTTPS with GET, to the path' \
        '+https-post:DNS-over-HTTPS with POST (the default), to the path' \
        '+nohttps-post:DNS-over-HTTPS with POST (the default), to the path' \
        '+quic:query over DNS-over-QUIC (port 853)' \
        '+noquic:query over DNS-over-QUIC (port 853)' \
        '+tls-ca:verify against the system roots, or this CA file' \
        '+notls-ca:verify against the system roots, or this CA file' \
        '+tls-insecure:accept any server certificate (insecure)' \
        '+notls-insecure:accept any server certificate (insecure)' \
        '+tlsinfo:show TLS version, cipher, ALPN and the server key pin' \
        '+notlsinfo:show TLS version, cipher, ALPN and the server key pin' \
        '+keepopen:reuse one connection for all queries' \
        '+nokeepopen:reuse one connection for all queries' \
        '+proxy:send a PROXY v2 header (LOCAL without addresses; with --replay, the recorded client)' \
        '+noproxy:send a PROXY v2 header (LOCAL without addresses; with --replay, the recorded client)' \
        '+proxy-plain:+proxy, sent before the TLS handshake' \
        '+noproxy-plain:+proxy, sent before the TLS handshake' \
        '+header-only:send a query with a header and no question' \
        '+noheader-only:send a query with a header and no question' \
        '+raflag:set the RA flag in the query' \
        '+noraflag:set the RA flag in the query' \
        '+tcflag:set the TC flag in the query' \
        '+notcflag:set the TC flag in the query' \
        '+ednsnegotiation:accepted for dig; qtap never renegotiates the EDNS version (no effect)' \
        '+noednsnegotiation:accepted for dig; qtap never renegotiates the EDNS version (no effect)' \
        '+fail:accepted for dig; qtap asks one server, so a SERVFAIL always ends the lookup' \
        '+nofail:accepted for dig; qtap asks one server, so a SERVFAIL always ends the lookup' \
        '+besteffort:accepted for dig; qtap always shows what it can of a malformed reply' \
        '+nobesteffort:accepted for dig; qtap always shows what it can of a malformed reply' \
        '+showbadcookie:accepted for dig; qtap does not retry after BADCOOKIE, so that reply is shown' \
        '+noshowbadcookie:accepted for dig; qtap does not retry after BADCOOKIE, so that reply is shown' \
        '+identify:with +short, show the server and query time after each answer; with +nostats, a ;; Received line instead of the statistics' \
        '+noidentify:with +short, show the server and query time after each answer; with +nostats, a ;; Received line instead of the statistics' \
        '+ttlunits:show TTLs in units (1h30m) rather than seconds' \
        '+nottlunits:show TTLs in units (1h30m) rather than seconds' \
        '+expandaaaa:show AAAA addresses with every digit' \
        '+noexpandaaaa:show AAAA addresses with every digit' \
        '+onesoa:in a full zone transfer (AXFR), show the opening SOA record only' \
        '+noonesoa:in a full zone transfer (AXFR), show the opening SOA record only' \
        '+trace:chase the delegation from the root, showing each step (with +dnssec)' \
        '+notrace:chase the delegation from the root, showing each step (with +dnssec)' \
        '+nssearch:find the zone'\''s servers from the root and show the SOA record of each' \
        '+nonssearch:find the zone'\''s servers from the root and show the SOA record of each' \
        '+idnout:show A-labels in Unicode (+idn does this and more)' \
        '+noidnout:show A-labels in Unicode (+idn does this and more)'
    )
    plus_values=(
        '+bufsize:EDNS UDP payload size (0-65535)' \
        '+edns:use EDNS, optionally with a version' \
        '+timeout:seconds to wait for a reply' \
        '+tries:number of UDP tries' \
        '+retry:number of UDP retries (tries - 1)' \
        '+cookie:send a client COOKIE, optionally a given one (hex)' \
        '+subnet:send CLIENT-SUBNET for ADDR[/LEN]' \
        '+padding:pad queries to blocks of N bytes (RFC 8467; 0-512, as dig)' \
        '+ednsopt:send EDNS option CODE[:HEX] (+noednsopt clears them)' \
        '+ednsflags:set extra EDNS flag bits (decimal or 0x hex)' \
        '+parallel:run up to N lookups at once (output and trace stay in input order)' \
        '+split:split base64/hex fields into chunks of W characters (0: never)' \
        '+https:query over DNS-over-HTTPS (port 443), POST to the path' \
        '+https-get:DNS-over-HTTPS with GET, to the path' \
        '+https-post:DNS-over-HTTPS with POST (the default), to the path' \
        '+tls-ca:verify against the system roots, or this CA file' \
        '+tls-hostname:the name the server certificate must carry' \
        '+tls-sni:the name sent in TLS SNI' \
        '+tls-pin:accept a server key with this SPKI SHA-256 pin (base64)' \
        '+tls-certfile:client certificate chain (PEM)' \
        '+tls-keyfile:client private key (PEM)' \
        '+proxy:send a PROXY v2 header (LOCAL without addresses; with --replay, the recorded client)' \
        '+proxy-plain:+proxy, sent before the TLS handshake' \
        '+qid:send this message ID instead of a random one' \
        '+opcode:the query'\''s OPCODE: QUERY, IQUERY, STATUS, NOTIFY, UPDATE or 0-15' \
        '+hints:+trace, +nssearch: root hints file replacing the built-in root servers (no resolver asked)'
    )
    rtypes=(A NS MD MF CNAME SOA MB MG MR NULL WKS PTR HINFO MINFO MX TXT RP AFSDB X25 ISDN RT NSAP NSAP-PTR SIG KEY PX GPOS AAAA LOC NXT EID NIMLOC SRV ATMA NAPTR KX CERT A6 DNAME SINK OPT APL DS SSHFP IPSECKEY RRSIG NSEC DNSKEY DHCID NSEC3 NSEC3PARAM TLSA SMIMEA HIP NINFO RKEY TALINK CDS CDNSKEY OPENPGPKEY CSYNC ZONEMD SVCB HTTPS SPF UINFO UID GID UNSPEC NID L32 L64 LP EUI48 EUI64 TKEY TSIG IXFR AXFR MAILB MAILA ANY URI CAA AVC DOA AMTRELAY RESINFO WALLET TA DLV)
    classes=(IN CH HS NONE ANY)
    longval=(--tls-ca --tls-hostname --tls-sni --tls-pin --tls-certfile --tls-keyfile --tap --tap-type --tap-identity --read --timeout --tries --format --color --generate --qname --qname-regex --qtype --rcode --msg-type --addr --port --proto --since --until --slower-than --identity --write --scrub-key --replay --rate --speed --mismatches --replay-edns --top --hex --wire --max-frame-size --rotate-size --rotate-interval --rotate-keep --socket-mode --socket-owner --collector-buffer --max-connections)
    if [[ $cur == +tls-(ca|certfile|keyfile)=* ]]; then
        compset -P '*='
        _files
        return
    fi
    if [[ $cur == +*=* ]]; then
        return 1
    fi
    if [[ $cur == +* ]]; then
        _describe -t dig-options 'dig option' plus_flags -- plus_values -S '='
        return
    fi
    if [[ $cur == @* ]]; then
        compset -P '@'
        _hosts
        return
    fi
    for (( i = 2; i < CURRENT; i++ )); do
        word=${words[i]}
        if (( skip )); then
            skip=0
            continue
        fi
        case $word in
            (--read|--read=*) state=read ;;
            (--*=*) ;;
            (--*) (( ${longval[(Ie)$word]} )) && skip=1 ;;
            (-p|-t|-c|-f|-y|-k) skip=1 ;;
            (-x) skip=1; [[ $state != read ]] && state=typed ;;
            (-q) skip=1; [[ $state != read ]] && state=name ;;
            (-x?*) [[ $state != read ]] && state=typed ;;
            (-q?*) [[ $state != read ]] && state=name ;;
            ([-+@]*) ;;
            (*)
                [[ $state == read ]] && continue
                up=${(U)word}
                if [[ $state == name ]] && { (( ${rtypes[(Ie)$up]} )) || [[ $up == TYPE<0-65535> ]] }; then
                    state=typed
                elif [[ $state == (name|typed) ]] && { (( ${classes[(Ie)$up]} )) || [[ $up == CLASS<0-65535> ]] }; then
                    state=classed
                else
                    state=name
                fi
                ;;
        esac
    done
    if (( skip )); then
        case $prev in
            (-t) compadd -M 'm:{a-z}={A-Z}' -a rtypes; return ;;
            (-c) compadd -M 'm:{a-z}={A-Z}' -a classes; return ;;
            (-f|-k) _files; return ;;
            (-p|-x|-q|-y) return 1 ;;
        esac
    elif [[ $cur != -* ]]; then
        case $state in
            (name) compadd -M 'm:{a-z}={A-Z}' -a rtypes classes; return ;;
            (typed) compadd -M 'm:{a-z}={A-Z}' -a classes; return ;;
        esac
    fi
    _qtap_clap "$@"
}

if [ "$funcstack[1]" = "_qtap" ]; then
    _qtap "$@"
else
    compdef _qtap qtap
fi
