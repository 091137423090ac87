//! dig's words: `@server`, `-p`, `-4`/`-6`, `-t`, `-c`, `-q`, `-x`, `-f`,
//! `-y`, `-k`,
//! free names, types and classes, in dig's order rules (a type or class
//! after a name belongs to that lookup; `+options` before the first name
//! are defaults, after it local). `+options` themselves are `plus`'s.

use std::net::IpAddr;
use std::path::PathBuf;

use super::gnu::cli_defaults;
use super::plus::apply_plus;
use super::{Args, CliError};
use crate::dns::name::Name;
use crate::dns::types::{self, parse_class, parse_type};
use crate::query::spec::{QueryOpts, QuerySpec, Transport};

/// With `+idn` (the last of `+idn`/`+noidn` wins), words with non-ASCII
/// characters are names typed in Unicode: send them as A-labels (IDNA 2008
/// via the `idna` crate, UTS #46 processing).
pub(super) fn idn_to_ascii(words: Vec<String>) -> Result<Vec<String>, CliError> {
    let on = words
        .iter()
        .rev()
        .find(|w| *w == "+idn" || *w == "+noidn")
        .is_some_and(|w| w == "+idn");
    if !on {
        return Ok(words);
    }
    words
        .into_iter()
        .map(|w| {
            if w.is_ascii() || w.starts_with('+') {
                return Ok(w);
            }
            let (prefix, name) = match w.strip_prefix('@') {
                Some(rest) => ("@", rest),
                None => ("", w.as_str()),
            };
            idna::domain_to_ascii(name)
                .map(|ascii| format!("{prefix}{ascii}"))
                .map_err(|e| CliError::BadName {
                    name: w.clone(),
                    reason: format!("not a valid internationalized name ({e})"),
                })
        })
        .collect()
}

/// Reads the dig words of the command line, with the GNU options'
/// defaults.
pub(super) fn parse_dig_words(args: &mut Args, words: &[String]) -> Result<(), CliError> {
    let defaults = cli_defaults(&args.cli)?;
    let implied = parse_words_with(args, words, defaults)?;
    args.implied_root = implied;
    Ok(())
}

/// A line of a batch file (`-f`): dig words, with the command line's
/// options as defaults. Server, port and display options are the command
/// line's; a line cannot change them.
pub fn parse_batch_line(base: &Args, line: &str) -> Result<Vec<QuerySpec>, CliError> {
    let words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    // Scratch space: the classifier reads neither the GNU options nor the
    // display settings (a line's display options are dropped), so neither
    // is copied for every line.
    let mut scratch = Args::default();
    parse_words_with(&mut scratch, &words, base.default_opts.clone())?;
    if scratch.server.is_some()
        || scratch.port.is_some()
        || scratch.family.is_some()
        || scratch.tsig.is_some()
    {
        return Err(CliError::BatchServer(line.trim().to_owned()));
    }
    Ok(scratch.queries)
}

/// The word classifier proper; returns true when no name was given (the
/// root NS query was implied).
fn parse_words_with(
    args: &mut Args,
    words: &[String],
    defaults: QueryOpts,
) -> Result<bool, CliError> {
    let mut c = Classifier {
        args,
        defaults,
        current: None,
        pending_type: None,
        pending_class: None,
    };
    let mut it = words.iter();
    while let Some(word) = it.next() {
        if let Some(server) = word.strip_prefix('@') {
            c.args.server = Some(server.to_owned());
            c.args.server_after_port = true;
        } else if let Some(opt) = word.strip_prefix('+') {
            let target = match c.current.as_mut() {
                Some((q, _, _)) => &mut q.opts,
                None => &mut c.defaults,
            };
            let (before, shown) = (target.clone(), c.args.display.clone());
            apply_plus(opt, word, target, &mut c.args.display)?;
            // An option that changed how lookups are made but nothing of
            // what is shown: meaningless when rendering recorded messages.
            if *target != before && c.args.display == shown {
                c.args.lookup_only.push(word.to_owned());
            }
        } else if word.len() >= 2 && word.starts_with('-') {
            c.dash(word, &mut it)?;
        } else {
            c.free(word)?;
        }
    }
    Ok(c.end())
}

/// The state of the classifier: the lookup being built (with whether its
/// type and class came from the user), and a type or class given before
/// its name.
struct Classifier<'a> {
    args: &'a mut Args,
    defaults: QueryOpts,
    current: Option<(QuerySpec, bool, bool)>,
    pending_type: Option<(u16, Option<u32>)>,
    pending_class: Option<u16>,
}

impl Classifier<'_> {
    /// Ends the lookup being built.
    fn finish(&mut self) {
        if let Some((q, _, _)) = self.current.take() {
            self.args.queries.push(q);
        }
    }

    /// Starts a lookup of `text`.
    fn start(&mut self, text: &str) -> Result<(), CliError> {
        self.finish();
        self.current = Some(new_query(
            text,
            &self.defaults,
            &mut self.pending_type,
            &mut self.pending_class,
        )?);
        Ok(())
    }

    /// A `-x` style flag; its value is the rest of the word or the next word.
    fn dash(&mut self, word: &str, it: &mut std::slice::Iter<'_, String>) -> Result<(), CliError> {
        // Split after the flag's letter, which need not be ASCII ("-é").
        let split = word.char_indices().nth(2).map_or(word.len(), |(i, _)| i);
        let (flag, inline) = word.split_at(split);
        let mut value = || -> Result<String, CliError> {
            if !inline.is_empty() {
                Ok(inline.to_owned())
            } else {
                it.next()
                    .cloned()
                    .ok_or_else(|| CliError::MissingArgument(flag.to_owned()))
            }
        };
        match flag {
            "-4" if inline.is_empty() => self.args.family = Some(4),
            "-6" if inline.is_empty() => self.args.family = Some(6),
            "-p" => {
                let v = value()?;
                self.args.port = Some(super::plus::unsigned(&v).ok_or(CliError::BadPort(v))?);
                self.args.server_after_port = false;
            }
            "-t" => {
                let v = value()?;
                let t = parse_qtype(&v)?.ok_or(CliError::BadType(v))?;
                match self.current.as_mut() {
                    Some((q, typed, _)) if !*typed => {
                        (q.qtype, q.ixfr_serial) = t;
                        *typed = true;
                    }
                    _ => self.pending_type = Some(t),
                }
            }
            "-c" => {
                let v = value()?;
                let c = parse_class(&v).ok_or(CliError::BadClass(v))?;
                match self.current.as_mut() {
                    Some((q, _, classed)) if !*classed => {
                        q.qclass = c;
                        *classed = true;
                    }
                    _ => self.pending_class = Some(c),
                }
            }
            "-q" => {
                let v = value()?;
                self.start(&v)?;
            }
            "-f" => self.args.batch = Some(PathBuf::from(value()?)),
            "-y" => {
                let v = value()?;
                let key = crate::dns::tsig::Key::from_arg(&v).map_err(|e| CliError::BadValue {
                    option: "-y".to_owned(),
                    reason: e.to_string(),
                })?;
                self.args.tsig = Some(super::TsigArg::Key(key));
            }
            "-k" => self.args.tsig = Some(super::TsigArg::File(PathBuf::from(value()?))),
            "-x" => {
                let v = value()?;
                let name = match v.parse::<IpAddr>() {
                    Ok(addr) => Name::reverse(addr),
                    Err(_) => {
                        partial_v4_reverse(&v).ok_or_else(|| CliError::BadAddress(v.clone()))?
                    }
                };
                self.finish();
                let q = QuerySpec {
                    name,
                    qtype: types::PTR,
                    qclass: self.pending_class.take().unwrap_or(types::IN),
                    ixfr_serial: None,
                    opts: self.defaults.clone(),
                };
                self.current = Some((q, true, false));
            }
            _ => return Err(CliError::UnknownFlag(word.to_owned())),
        }
        Ok(())
    }

    /// A free word: a type or class for the current lookup, else a name.
    fn free(&mut self, word: &str) -> Result<(), CliError> {
        if let Some((q, typed, classed)) = self.current.as_mut() {
            if !*typed {
                if let Some(t) = parse_qtype(word)? {
                    (q.qtype, q.ixfr_serial) = t;
                    *typed = true;
                    return Ok(());
                }
            }
            if !*classed {
                if let Some(c) = parse_class(word) {
                    q.qclass = c;
                    *classed = true;
                    return Ok(());
                }
            }
        }
        self.start(word)
    }

    /// Ends the words: the last lookup, or the implied root NS query;
    /// returns true for the latter.
    fn end(mut self) -> bool {
        self.finish();
        let implied = self.args.queries.is_empty();
        if implied {
            let (qtype, ixfr_serial) = self.pending_type.unwrap_or((types::NS, None));
            self.args.queries.push(QuerySpec {
                name: Name::root(),
                qtype,
                qclass: self.pending_class.unwrap_or(types::IN),
                ixfr_serial,
                opts: self.defaults.clone(),
            });
        }
        // Zone transfers run over a stream, as in dig; so does a type ANY
        // query unless +notcp says otherwise (dig 9.18).
        for q in &mut self.args.queries {
            let stream =
                crate::dns::xfr::is_xfr(q.qtype) || (q.qtype == types::ANY && !q.opts.udp_asked);
            if stream && q.opts.transport == Transport::Udp {
                q.opts.transport = Transport::Tcp;
            }
        }
        self.args.default_opts = self.defaults;
        implied
    }
}

/// A query type: a mnemonic, TYPEnnn, or dig's `IXFR=serial`. `IXFR=`
/// with anything but a serial (0 to 2^32-1, digits only) is an error, not
/// a name to look up.
fn parse_qtype(text: &str) -> Result<Option<(u16, Option<u32>)>, CliError> {
    if let Some((name, serial)) = text.split_once('=') {
        if name.eq_ignore_ascii_case("IXFR") {
            return match super::plus::unsigned(serial) {
                Some(s) => Ok(Some((types::IXFR, Some(s)))),
                None => Err(CliError::BadType(text.to_owned())),
            };
        }
        return Ok(None);
    }
    Ok(parse_type(text).map(|t| (t, None)))
}

fn new_query(
    text: &str,
    defaults: &QueryOpts,
    pending_type: &mut Option<(u16, Option<u32>)>,
    pending_class: &mut Option<u16>,
) -> Result<(QuerySpec, bool, bool), CliError> {
    let name = Name::from_text(text).map_err(|e| CliError::BadName {
        name: text.to_owned(),
        reason: e.to_string(),
    })?;
    let typed = pending_type.is_some();
    let classed = pending_class.is_some();
    let (qtype, ixfr_serial) = pending_type.take().unwrap_or((types::A, None));
    Ok((
        QuerySpec {
            name,
            qtype,
            qclass: pending_class.take().unwrap_or(types::IN),
            ixfr_serial,
            opts: defaults.clone(),
        },
        typed,
        classed,
    ))
}
/// `-x` with the first one to three octets of an IPv4 address, as dig
/// and BIND's tools take it (`-x 192.0.2` asks `2.0.192.in-addr.arpa.`,
/// the reverse zone of a /24): each octet 0-255 in decimal.
fn partial_v4_reverse(text: &str) -> Option<Name> {
    let octets: Vec<&str> = text.split('.').collect();
    if !(1..=3).contains(&octets.len())
        || !octets.iter().all(|o| {
            !o.is_empty() && o.bytes().all(|b| b.is_ascii_digit()) && o.parse::<u8>().is_ok()
        })
    {
        return None;
    }
    let reversed: Vec<String> = octets
        .iter()
        .rev()
        .map(|o| o.parse::<u8>().map(|n| n.to_string()).unwrap_or_default())
        .collect();
    Name::from_text(&format!("{}.in-addr.arpa.", reversed.join("."))).ok()
}
