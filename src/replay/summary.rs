//! What a replay found, case by case ([`Case`], shown dig-style or as
//! JSON) and in sum ([`Summary`]): counts per class and per kind of
//! difference, and the names and types that differ most, in the manner of
//! CZ-NIC's respdiff. Pure: no I/O.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::{json, Value};

use super::compare::{Diff, Kind};
use crate::dns::types::type_name;

/// How one replayed query came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// The new response is the same as the recorded one.
    Same,
    /// The new response differs.
    Differs,
    /// The trace holds no response to compare with (the new one is not
    /// compared).
    NoRecorded,
    /// The target gave no usable response (silence, garbage only, or a
    /// transport error on every try).
    NoNew,
}

impl Class {
    /// Every class, in summary order.
    pub const ALL: [Class; 4] = [Class::Same, Class::Differs, Class::NoRecorded, Class::NoNew];

    /// The class's name in summaries and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Class::Same => "same",
            Class::Differs => "differs",
            Class::NoRecorded => "no recorded response",
            Class::NoNew => "no new response",
        }
    }

    /// The class's JSON key.
    fn key(self) -> &'static str {
        match self {
            Class::Same => "same",
            Class::Differs => "differs",
            Class::NoRecorded => "no_recorded_response",
            Class::NoNew => "no_new_response",
        }
    }
}

/// One replayed query and what came of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// Its number in the replay (from 1, in trace order).
    pub number: u64,
    /// Where its query (or query-carrying response) frame starts in the
    /// trace, when known.
    pub offset: Option<u64>,
    /// The collector connection the frame came in on (a live replay;
    /// escaped): the offset is in that connection's stream.
    pub connection: Option<String>,
    /// The question name, as shown (escaped).
    pub qname: String,
    /// The question type.
    pub qtype: u16,
    /// How it came out.
    pub class: Class,
    /// The differences (for [`Class::Differs`]).
    pub diffs: Vec<Diff>,
    /// Why there is no new response, or other notes (escaped).
    pub note: Option<String>,
}

impl Case {
    /// The case as dig-style text: a `;; DIFFERS:` (or other class) line,
    /// then the differences' lines. Empty for [`Class::Same`].
    pub fn text(&self) -> String {
        if self.class == Class::Same {
            return String::new();
        }
        let mut o = String::new();
        let _ = write!(
            o,
            ";; {}: #{} {} {}",
            self.class.name().to_uppercase(),
            self.number,
            self.qname,
            type_name(self.qtype)
        );
        match (self.offset, &self.connection) {
            (Some(at), Some(c)) => {
                let _ = write!(o, " (frame at byte {at} of {c})");
            }
            (Some(at), None) => {
                let _ = write!(o, " (frame at byte {at})");
            }
            _ => {}
        }
        if let Some(note) = &self.note {
            let _ = write!(o, ": {note}");
        }
        o.push('\n');
        for d in &self.diffs {
            for l in &d.lines {
                o.push_str(l);
                o.push('\n');
            }
        }
        o.push('\n');
        o
    }

    /// The case as a JSON object.
    pub fn json(&self) -> Value {
        let diffs: Vec<Value> = self
            .diffs
            .iter()
            .map(|d| json!({"kind": d.kind.name(), "lines": d.lines}))
            .collect();
        let mut v = json!({
            "type": "case",
            "number": self.number,
            "offset": self.offset,
            "qname": self.qname,
            "qtype": type_name(self.qtype),
            "class": self.class.key(),
            "differences": diffs,
            "note": self.note,
        });
        if let (Some(c), Some(o)) = (&self.connection, v.as_object_mut()) {
            o.insert("connection".into(), json!(c));
        }
        v
    }
}

/// Distinct names (and types) counted for the top lists; past that, new
/// ones are only counted as "others", so memory stays bounded.
const TOP_MAX: usize = 100_000;

/// The counts of a whole replay.
#[derive(Debug, Default)]
pub struct Summary {
    classes: HashMap<Class, u64>,
    kinds: HashMap<Kind, u64>,
    names: HashMap<String, u64>,
    types: HashMap<u16, u64>,
    /// Differing cases whose name did not fit in the table.
    others: u64,
    /// Frames that carried no query to replay (responses without their
    /// query message, queries that are not DNS).
    pub skipped: u64,
}

impl Summary {
    /// Counts one case.
    pub fn push(&mut self, case: &Case) {
        *self.classes.entry(case.class).or_default() += 1;
        if case.class != Class::Differs {
            return;
        }
        let mut seen: Vec<Kind> = case.diffs.iter().map(|d| d.kind).collect();
        seen.dedup();
        for k in seen {
            *self.kinds.entry(k).or_default() += 1;
        }
        let name = case.qname.to_ascii_lowercase();
        let room = self.names.len() < TOP_MAX;
        match self.names.get_mut(&name) {
            Some(n) => *n += 1,
            None if room => {
                self.names.insert(name, 1);
            }
            None => self.others += 1,
        }
        *self.types.entry(case.qtype).or_default() += 1;
    }

    /// How many cases came out as `class`.
    pub fn count(&self, class: Class) -> u64 {
        self.classes.get(&class).copied().unwrap_or(0)
    }

    /// Every case counted.
    pub fn total(&self) -> u64 {
        self.classes.values().sum()
    }

    fn top_names(&self, top: usize) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self.names.iter().map(|(k, n)| (k.as_str(), *n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v.truncate(top);
        v
    }

    fn top_types(&self, top: usize) -> Vec<(String, u64)> {
        let mut v: Vec<(u16, u64)> = self.types.iter().map(|(k, n)| (*k, *n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(top);
        v.into_iter()
            .map(|(t, n)| (type_name(t).into_owned(), n))
            .collect()
    }

    fn share(&self, n: u64) -> f64 {
        match self.total() {
            0 => 0.0,
            total => n as f64 * 100.0 / total as f64,
        }
    }

    /// The summary as text (comment lines, as dig's), `top` rows in the
    /// top lists.
    pub fn text(&self, top: usize) -> String {
        let mut o = String::new();
        let _ = writeln!(o, ";; REPLAY SUMMARY");
        let _ = writeln!(o, ";; queries replayed: {}", self.total());
        for class in Class::ALL {
            let n = self.count(class);
            let _ = writeln!(
                o,
                ";;   {:<22}{n:>10} {:>7.2} %",
                format!("{}:", class.name()),
                self.share(n)
            );
        }
        if self.skipped > 0 {
            let _ = writeln!(o, ";; frames without a query to replay: {}", self.skipped);
        }
        let differs = self.count(Class::Differs);
        if differs > 0 {
            let _ = writeln!(o, ";; differences by kind (queries):");
            for kind in Kind::ALL {
                let n = self.kinds.get(&kind).copied().unwrap_or(0);
                if n > 0 {
                    let _ = writeln!(o, ";;   {:<22}{n:>10}", format!("{}:", kind.name()));
                }
            }
            let _ = writeln!(o, ";; most frequent differing names:");
            for (name, n) in self.top_names(top) {
                let _ = writeln!(o, ";;   {name:<40} {n:>10}");
            }
            if self.others > 0 {
                let _ = writeln!(o, ";;   {:<40} {:>10}", "(others)", self.others);
            }
            let _ = writeln!(o, ";; most frequent differing types:");
            for (t, n) in self.top_types(top) {
                let _ = writeln!(o, ";;   {t:<40} {n:>10}");
            }
        }
        o
    }

    /// The summary as a JSON object.
    pub fn json(&self, top: usize) -> Value {
        let mut classes = serde_json::Map::new();
        for class in Class::ALL {
            classes.insert(class.key().into(), json!(self.count(class)));
        }
        let mut kinds = serde_json::Map::new();
        for kind in Kind::ALL {
            kinds.insert(
                kind.name().into(),
                json!(self.kinds.get(&kind).copied().unwrap_or(0)),
            );
        }
        let names: Vec<Value> = self
            .top_names(top)
            .into_iter()
            .map(|(name, n)| json!({"name": name, "count": n}))
            .collect();
        let types: Vec<Value> = self
            .top_types(top)
            .into_iter()
            .map(|(t, n)| json!({"type": t, "count": n}))
            .collect();
        json!({
            "type": "summary",
            "queries": self.total(),
            "classes": classes,
            "kinds": kinds,
            "skipped_frames": self.skipped,
            "top_names": names,
            "other_names": self.others,
            "top_types": types,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(n: u64, name: &str, class: Class, kinds: &[Kind]) -> Case {
        Case {
            number: n,
            offset: Some(n * 100),
            connection: None,
            qname: name.into(),
            qtype: 1,
            class,
            diffs: kinds
                .iter()
                .map(|k| Diff {
                    kind: *k,
                    lines: vec!["-a".into(), "+b".into()],
                })
                .collect(),
            note: None,
        }
    }

    #[test]
    fn counts_classes_kinds_and_top_names() {
        let mut s = Summary::default();
        s.push(&case(1, "a.example.", Class::Same, &[]));
        s.push(&case(
            2,
            "b.example.",
            Class::Differs,
            &[Kind::Rcode, Kind::Answer],
        ));
        s.push(&case(3, "b.example.", Class::Differs, &[Kind::Answer]));
        s.push(&case(4, "c.example.", Class::Differs, &[Kind::Edns]));
        s.push(&case(5, "d.example.", Class::NoNew, &[]));
        s.push(&case(6, "e.example.", Class::NoRecorded, &[]));
        assert_eq!(s.total(), 6);
        assert_eq!(s.count(Class::Differs), 3);
        let j = s.json(1);
        assert_eq!(j["classes"]["differs"], 3);
        assert_eq!(j["classes"]["no_new_response"], 1);
        assert_eq!(j["kinds"]["answer"], 2);
        assert_eq!(j["kinds"]["rcode"], 1);
        assert_eq!(j["top_names"][0]["name"], "b.example.");
        assert_eq!(j["top_names"][0]["count"], 2);
        assert_eq!(j["top_names"].as_array().unwrap().len(), 1);
        let t = s.text(10);
        assert!(
            t.contains(";;   differs:                       3   50.00 %"),
            "{t}"
        );
        assert!(t.contains(";;   answer:                        2"), "{t}");
    }

    #[test]
    fn a_same_case_shows_nothing_and_others_show_their_lines() {
        assert_eq!(case(1, "a.", Class::Same, &[]).text(), "");
        let t = case(2, "b.example.", Class::Differs, &[Kind::Rcode]).text();
        assert_eq!(
            t,
            ";; DIFFERS: #2 b.example. A (frame at byte 200)\n-a\n+b\n\n"
        );
    }
}
