//! What the user asked to see: the output [`Format`] and the display
//! switches of dig's `+options` ([`DisplayOpts`]). Plain data owned by the
//! renderer; the command line (`cli`) fills it in.

use super::rdata::RdataStyle;

/// Output formats.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// dig's text layout.
    #[default]
    Text,
    /// Answer RDATA only (same as +short).
    Short,
    /// A JSON array of RFC 8427 objects, one per DNS message, with the dnstap context.
    Json,
    /// The same objects as JSON Lines, one per line.
    Jsonl,
    /// YAML laid out like the Go `dnstap -y` tool.
    Yaml,
}

/// What to show, from dig's `+[no]option` display flags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayOpts {
    /// `+cmd`: the banner line before each exchange.
    pub cmd: bool,
    /// `+comments`: headings, header lines, blank lines.
    pub comments: bool,
    /// `+question`.
    pub question: bool,
    /// `+answer`.
    pub answer: bool,
    /// `+authority`.
    pub authority: bool,
    /// `+additional`.
    pub additional: bool,
    /// `+stats`: the trailer (query time, server, when, size).
    pub stats: bool,
    /// `+qr`: show queries as well.
    pub qr: bool,
    /// `+short`: answer RDATA only.
    pub short: bool,
    /// `+ttlid`: the TTL column.
    pub ttlid: bool,
    /// `+class`: the class column.
    pub class: bool,
    /// `+crypto`: key and signature material (else `[key id = N]`, `[omitted]`).
    pub crypto: bool,
    /// `+[no]rrcomments` as given: per-record comments (key role,
    /// algorithm and id; SOA timers). None: on with `+multiline` only.
    pub rrcomments: Option<bool>,
    /// `+multiline`: long records in parentheses over several lines.
    pub multiline: bool,
    /// `+idn`: names typed in Unicode become A-labels; A-labels are shown
    /// in Unicode.
    pub idn: bool,
    /// `+json` / `+yaml`: a structured format chosen with a `+option`
    /// (`--format` decides otherwise).
    pub format: Option<Format>,
    /// `+identify`: in `+short` output, name the server and the query
    /// time after each record.
    pub identify: bool,
    /// `+ttlunits`: TTLs in units (`1h30m`) rather than seconds.
    pub ttlunits: bool,
    /// `+expandaaaa`: IPv6 addresses with every hex digit.
    pub expandaaaa: bool,
    /// `+onesoa`: a zone transfer shows its first SOA record only.
    pub onesoa: bool,
    /// RDATA formatting.
    pub rdata: RdataStyle,
    /// `+trace` / `+nssearch`: the delegation chase's layout.
    pub chase: Option<ChaseLayout>,
}

/// The layouts of a delegation chase (`render::trace`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChaseLayout {
    /// dig's `+trace`: each step's records and where they came from.
    Trace,
    /// dig's `+nssearch`: one SOA line per server.
    NsSearch,
}

impl DisplayOpts {
    /// Whether records get dig's comments.
    pub fn record_comments(&self) -> bool {
        self.rrcomments.unwrap_or(self.multiline)
    }

    /// The RDATA style, with `+idn` applied to names inside RDATA.
    pub fn rdata_style(&self) -> RdataStyle {
        RdataStyle {
            idn: self.idn,
            expand_aaaa: self.expandaaaa,
            ..self.rdata
        }
    }
}

impl Default for DisplayOpts {
    fn default() -> Self {
        DisplayOpts {
            cmd: true,
            comments: true,
            question: true,
            answer: true,
            authority: true,
            additional: true,
            stats: true,
            qr: false,
            short: false,
            ttlid: true,
            class: true,
            crypto: true,
            rrcomments: None,
            multiline: false,
            idn: false,
            format: None,
            identify: false,
            ttlunits: false,
            expandaaaa: false,
            onesoa: false,
            rdata: RdataStyle::default(),
            chase: None,
        }
    }
}
