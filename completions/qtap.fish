complete -c qtap -l https -d 'Query over DNS-over-HTTPS, port 443, POST to PATH (default /dns-query) (same as +https)' -r
complete -c qtap -l tls-ca -d 'Verify the server certificate against this CA file (PEM) instead of the system roots' -r -F
complete -c qtap -l tls-hostname -d 'The name the server certificate must carry (default: the server\'s name or address)' -r
complete -c qtap -l tls-sni -d 'The name to send in the TLS SNI extension' -r
complete -c qtap -l tls-pin -d 'Accept the server if its key has this SPKI SHA-256 pin (base64; may repeat)' -r
complete -c qtap -l tls-certfile -d 'Client certificate chain (PEM)' -r -F
complete -c qtap -l tls-keyfile -d 'Client private key (PEM)' -r -F
complete -c qtap -l tap -d 'Record every message sent and received in this dnstap file ("-" for stdout)' -r -F
complete -c qtap -l tap-type -d 'dnstap message types to record: stub (STUB_QUERY/RESPONSE) or tool (TOOL_*, like kdig)' -r -f -a "stub\t'STUB_QUERY / STUB_RESPONSE'
tool\t'TOOL_QUERY / TOOL_RESPONSE, as kdig -E writes'"
complete -c qtap -l tap-identity -d 'Set Dnstap.identity in recorded frames (left out by default, since traces get shared)' -r
complete -c qtap -l read -d 'Render dnstap files instead of querying ("-" for stdin)' -r -F
complete -c qtap -l timeout -d 'Seconds to wait for each reply (same as +timeout)' -r
complete -c qtap -l tries -d 'Number of UDP tries (same as +tries)' -r
complete -c qtap -l format -d 'Output format' -r -f -a "text\t'dig\'s text layout'
short\t'Answer RDATA only (same as +short)'"
complete -c qtap -l color -d 'When to colour the output' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb'
always\t'Always colour'
never\t'Never colour'"
complete -c qtap -l generate -d 'Write the man page or a shell completion script to stdout' -r -f -a "man\t'The roff man page (man/qtap.1)'
bash\t'bash completion (completions/qtap.bash)'
zsh\t'zsh completion (completions/_qtap)'
fish\t'fish completion (completions/qtap.fish)'"
complete -c qtap -l max-frame-size -d 'Largest data frame accepted by --read, in bytes' -r
complete -c qtap -l tcp -d 'Query over TCP (same as +tcp)'
complete -c qtap -l tls -d 'Query over DNS-over-TLS, port 853 (same as +tls)'
complete -c qtap -l https-get -d 'DNS-over-HTTPS with GET instead of POST (same as +https-get)'
complete -c qtap -l quic -d 'Query over DNS-over-QUIC, port 853 (same as +quic)'
complete -c qtap -l tls-insecure -d 'Accept any server certificate (insecure; announced with a warning)'
complete -c qtap -l tls-info -d 'Show the negotiated TLS version, cipher suite, ALPN and the server key pin'
complete -c qtap -l keepopen -d 'Reuse one connection for all queries of the run (same as +keepopen)'
complete -c qtap -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qtap -s V -l version -d 'Print version'
