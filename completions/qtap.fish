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
complete -c qtap -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qtap -s V -l version -d 'Print version'
