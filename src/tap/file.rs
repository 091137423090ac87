//! The trace file behind `--tap PATH`: where the bytes go while a run
//! records, and how they reach PATH at the end. It owns the safety of that
//! file system work; it must not encode frames (that is `writer`'s job) nor
//! decide what a run records.
//!
//! What it guarantees, by what is at PATH when the run starts:
//!
//! - **Nothing, or a regular file with one link** (the usual case): the
//!   trace is written to a new temporary file beside PATH, named
//!   `.qtap-PID-RANDOM.tmp` (fixed length, whatever PATH's name), created
//!   exclusively (`O_CREAT|O_EXCL|O_NOFOLLOW`: a planted file or symlink
//!   is never opened) with mode 0600, and renamed over PATH when complete.
//!   A replaced trace keeps its permission bits and owner (the temporary
//!   file is chowned while empty); a new one gets `0666 & ~umask`.
//! - **A regular file with several hard links, one reached through a
//!   symlink, or one whose owner qtap may not give a new file** (not root):
//!   the trace is still written to a temporary file, then copied into the
//!   existing file when complete, so the links, the mode and the owner
//!   stay. That last copy is not atomic.
//! - **A device, a FIFO or a socket, directly or through a symlink**: the
//!   trace is written straight through, as `kdig -E` and a shell
//!   redirection do (`--tap /dev/null` leaves /dev/null alone; a FIFO
//!   waits for its reader).
//! - **A directory, a dangling symlink, or a file without write
//!   permission** (no write bit at all, also for root, like `rm`'s
//!   "write-protected" check; or one the user may not open for writing):
//!   refused before anything is sent.
//!
//! A run that records nothing (it failed before sending) leaves PATH as it
//! was: an old trace stays, and no new file appears. After SIGKILL or a
//! power cut the temporary file stays behind; [`stale_leftovers`] finds
//! such files of dead qtap processes, so the next run can warn about them.

use std::fs::{File, Metadata, OpenOptions, Permissions};
use std::io::{self, Seek, SeekFrom};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Temporary trace files are named `.qtap-PID-RANDOM.tmp`: this prefix...
pub const TEMP_PREFIX: &str = ".qtap-";
/// ... and this suffix.
pub const TEMP_SUFFIX: &str = ".tmp";

/// How many random names are tried before giving up (each clash means
/// someone else created that exact name first).
const TEMP_TRIES: usize = 16;

/// At most this many leftovers are named in a warning.
const STALE_SHOWN: usize = 5;

/// A trace file being written; see the module documentation. Dropping it
/// without [`TraceFile::commit`] removes the temporary file and leaves
/// PATH as it was.
#[derive(Debug)]
pub struct TraceFile {
    path: PathBuf,
    how: How,
}

#[derive(Debug)]
enum How {
    /// Renamed over PATH when complete; `mode` None: there was no file.
    Replace { temp: Temp, mode: Option<u32> },
    /// Copied into the existing file when complete.
    WriteBack { temp: Temp, target: File },
    /// Written straight through to a device, FIFO or socket.
    Direct,
}

/// A temporary file, removed when dropped unless `kept`.
#[derive(Debug)]
struct Temp {
    path: PathBuf,
    file: File,
    kept: bool,
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn refused(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, what.to_owned())
}

/// The directory PATH is in.
fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Whether the symbolic link `link` (its own metadata) in `dir` is one a
/// process should not follow (the kernel's `protected_symlinks` rule):
/// `dir` is sticky and world-writable, and the link belongs neither to
/// this user nor to the directory's owner.
fn planted(dir: &Path, link: &std::fs::Metadata) -> bool {
    let Ok(d) = std::fs::metadata(dir) else {
        return false;
    };
    let shared = d.mode() & 0o1002 == 0o1002;
    shared && link.uid() != crate::sys::euid() && link.uid() != d.uid()
}

/// The name of a temporary trace file: `.qtap-PID-RANDOM.tmp`, at most 37
/// bytes, whatever the target's name.
pub fn temp_name(pid: u32, random: u64) -> String {
    format!("{TEMP_PREFIX}{pid}-{random:016x}{TEMP_SUFFIX}")
}

/// Creates `path` as a new file, mode 0600, readable and writable: fails
/// if anything (a file, a symlink, even a dangling one) is already there.
pub fn create_exclusive(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

impl Temp {
    /// A new temporary file in `dir` under a random name.
    fn create(dir: &Path) -> io::Result<Temp> {
        let mut clash = None;
        for _ in 0..TEMP_TRIES {
            let path = dir.join(temp_name(std::process::id(), rand::random()));
            match create_exclusive(&path) {
                Ok(file) => {
                    return Ok(Temp {
                        path,
                        file,
                        kept: false,
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => clash = Some(e),
                Err(e) => return Err(in_dir(dir, e)),
            }
        }
        let e = clash.unwrap_or_else(|| io::Error::from(io::ErrorKind::AlreadyExists));
        Err(in_dir(dir, e))
    }
}

/// A temporary file's creation error, naming the directory (the trace
/// itself may well be writable).
fn in_dir(dir: &Path, e: io::Error) -> io::Error {
    let text = format!("cannot create a temporary file in {}: {e}", dir.display());
    io::Error::new(e.kind(), text)
}

/// Opens the existing regular file at `path` for writing, without
/// truncating it: refused if it has no write bit (also for root) or the
/// user may not write it. `expected` is what `stat` found: a file swapped
/// in meanwhile is refused.
fn open_existing(path: &Path, follow: bool, expected: &Metadata) -> io::Result<File> {
    if expected.mode() & 0o222 == 0 {
        return Err(refused("file is read-only"));
    }
    let flags = libc::O_NONBLOCK | if follow { 0 } else { libc::O_NOFOLLOW };
    let file = OpenOptions::new()
        .write(true)
        .custom_flags(flags)
        .open(path)?;
    let now = file.metadata()?;
    if !now.is_file() || (now.dev(), now.ino()) != (expected.dev(), expected.ino()) {
        return Err(io::Error::other("file changed while qtap opened it"));
    }
    Ok(file)
}

/// Opens a device, FIFO or socket at `path` for writing (a FIFO waits for
/// a reader, as a shell redirection does).
fn open_direct(path: &Path, follow: bool) -> io::Result<File> {
    let flags = if follow { 0 } else { libc::O_NOFOLLOW };
    let file = OpenOptions::new()
        .write(true)
        .custom_flags(flags)
        .open(path)?;
    let ft = file.metadata()?.file_type();
    if ft.is_file() || ft.is_dir() {
        return Err(io::Error::other("file changed while qtap opened it"));
    }
    Ok(file)
}

impl TraceFile {
    /// Prepares the trace at `path` (see the module documentation) and
    /// returns it with the file the frames are to be written to.
    pub fn create(path: &Path) -> io::Result<(TraceFile, File)> {
        let trace = |how| TraceFile {
            path: path.to_owned(),
            how,
        };
        let dir = dir_of(path);
        if path.file_name().is_none() {
            return Err(io::Error::other("not a file name"));
        }
        let meta = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let temp = Temp::create(dir)?;
                let file = temp.file.try_clone()?;
                return Ok((trace(How::Replace { temp, mode: None }), file));
            }
            Err(e) => return Err(e),
        };
        let ft = meta.file_type();
        if ft.is_dir() {
            return Err(io::Error::other("is a directory"));
        }
        if ft.is_symlink() {
            // Through the link, as kdig does, but never through one that
            // someone else planted in a shared directory (sticky and
            // world-writable, such as /tmp): the kernel's
            // `fs.protected_symlinks` rule, applied whether or not the
            // system has it on.
            if planted(dir, &meta) {
                return Err(io::Error::other(
                    "is a symbolic link owned by another user in a shared directory; not followed",
                ));
            }
            let target = std::fs::metadata(path).map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => io::Error::other("is a dangling symbolic link"),
                _ => e,
            })?;
            if target.is_dir() {
                return Err(io::Error::other("is a symbolic link to a directory"));
            }
            if !target.is_file() {
                return Ok((trace(How::Direct), open_direct(path, true)?));
            }
            let target = open_existing(path, true, &target)?;
            return write_back(dir, target).map(|(how, file)| (trace(how), file));
        }
        if !ft.is_file() {
            return Ok((trace(How::Direct), open_direct(path, false)?));
        }
        let target = open_existing(path, false, &meta)?;
        if meta.nlink() > 1 {
            return write_back(dir, target).map(|(how, file)| (trace(how), file));
        }
        let temp = match Temp::create(dir) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                return write_back(dir, target).map(|(how, file)| (trace(how), file));
            }
            Err(e) => return Err(e),
        };
        // Keep the owner: the temporary file is chowned now, while empty.
        // Who may not (not root, someone else's file) writes back instead.
        let mine = temp.file.metadata()?;
        if (mine.uid(), mine.gid()) != (meta.uid(), meta.gid())
            && std::os::unix::fs::fchown(&temp.file, Some(meta.uid()), Some(meta.gid())).is_err()
        {
            drop(temp);
            return write_back(dir, target).map(|(how, file)| (trace(how), file));
        }
        let file = temp.file.try_clone()?;
        let mode = Some(meta.mode() & 0o777);
        Ok((trace(How::Replace { temp, mode }), file))
    }

    /// Puts the complete trace at PATH. `recorded`: false when the run
    /// recorded nothing, which leaves PATH as it was (the temporary file
    /// goes). On error the temporary file goes too.
    pub fn commit(self, recorded: bool) -> io::Result<()> {
        match self.how {
            How::Direct => Ok(()),
            _ if !recorded => Ok(()),
            How::Replace { mut temp, mode } => {
                let mode = mode.unwrap_or(0o666 & !crate::sys::umask());
                temp.file.set_permissions(Permissions::from_mode(mode))?;
                replace_file(&temp.path, &self.path)?;
                temp.kept = true;
                Ok(())
            }
            How::WriteBack { temp, mut target } => {
                let mut from = &temp.file;
                from.seek(SeekFrom::Start(0))?;
                target.set_len(0)?;
                io::copy(&mut from, &mut target)?;
                Ok(())
            }
        }
    }
}

/// A trace written via a temporary file and copied into `target`.
fn write_back(dir: &Path, target: File) -> io::Result<(How, File)> {
    let temp = match Temp::create(dir) {
        Ok(t) => t,
        // A file one may write in a directory one may not (a trace an
        // administrator made for the user): the temporary copy goes to
        // the temporary directory ($TMPDIR) instead.
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            Temp::create(&std::env::temp_dir())?
        }
        Err(e) => return Err(e),
    };
    let file = temp.file.try_clone()?;
    Ok((How::WriteBack { temp, target }, file))
}

/// Puts `tmp` in place of `path`. Over an existing regular file on Linux,
/// the two names are swapped atomically and the old file (now at `tmp`)
/// is removed: a plain rename over an existing file makes ext4 start
/// writing the new file's blocks at once (its `auto_da_alloc` heuristic),
/// which costs more than the whole query. The result is the same: `path`
/// names the complete new trace, never a partial one.
fn replace_file(tmp: &Path, path: &Path) -> io::Result<()> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
        && crate::sys::rename_exchange(tmp, path).is_ok()
    {
        // `tmp` is the old trace now. Should it refuse to go, it is a
        // stale hidden file, never a damaged trace.
        let _ = std::fs::remove_file(tmp);
        return Ok(());
    }
    std::fs::rename(tmp, path)
}

/// The PID in a temporary trace file's name, if it is one.
fn temp_pid(name: &[u8]) -> Option<u32> {
    let rest = name
        .strip_prefix(TEMP_PREFIX.as_bytes())?
        .strip_suffix(TEMP_SUFFIX.as_bytes())?;
    let dash = rest.iter().position(|&b| b == b'-')?;
    std::str::from_utf8(rest.get(..dash)?).ok()?.parse().ok()
}

/// Warnings (one line each, file names escaped) about temporary trace
/// files beside `path` left by qtap processes that no longer run (killed
/// by SIGKILL, or a power cut). Best effort: an unreadable directory gives
/// none. On systems without /proc, every other process's file is named.
pub fn stale_leftovers(path: &Path) -> Vec<String> {
    use std::os::unix::ffi::OsStrExt;
    let Ok(entries) = std::fs::read_dir(dir_of(path)) else {
        return Vec::new();
    };
    let proc = Path::new("/proc/self").exists();
    let own = std::process::id();
    let mut found = Vec::new();
    let mut more = 0usize;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = temp_pid(name.as_bytes()) else {
            continue;
        };
        if pid == own || (proc && Path::new("/proc").join(pid.to_string()).exists()) {
            continue;
        }
        if found.len() == STALE_SHOWN {
            more += 1;
            continue;
        }
        let mut line =
            String::from(";; WARNING: temporary trace file left by a qtap run that was killed: ");
        crate::render::write_escaped(&mut line, entry.path().as_os_str().as_bytes());
        found.push(line);
    }
    if more > 0 {
        found.push(format!(";; WARNING: ... and {more} more such files"));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_exclusive_never_follows_a_planted_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let planted = dir.path().join(temp_name(1, 2));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        assert!(create_exclusive(&planted).is_err());
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("new"), &dangling).unwrap();
        assert!(create_exclusive(&dangling).is_err());
        assert!(
            !dir.path().join("new").exists(),
            "no file made through a link"
        );
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        std::fs::write(dir.path().join("plain"), b"x").unwrap();
        let e = create_exclusive(&dir.path().join("plain")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
    }

    #[test]
    fn temporary_files_are_private_random_and_short() {
        let dir = tempfile::tempdir().unwrap();
        let a = Temp::create(dir.path()).unwrap();
        let b = Temp::create(dir.path()).unwrap();
        assert_ne!(a.path, b.path);
        let mode = a.file.metadata().unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let name = a.path.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(name.len() <= temp_name(u32::MAX, u64::MAX).len());
        assert_eq!(temp_pid(name.as_bytes()), Some(std::process::id()));
        let path = a.path.clone();
        drop(a);
        assert!(!path.exists(), "dropped without commit: removed");
        let missing = dir.path().join("missing");
        let e = Temp::create(&missing).unwrap_err();
        let says = format!("cannot create a temporary file in {}: ", missing.display());
        assert!(e.to_string().starts_with(&says), "{e}");
    }

    #[test]
    fn temp_names_parse_back_and_others_do_not() {
        assert_eq!(temp_pid(temp_name(42, 7).as_bytes()), Some(42));
        for other in [
            &b".qtap-.tmp"[..],
            b".qtap-12.tmp",
            b"qtap-12-ab.tmp",
            b".qtap-x-ab.tmp",
            b".t.qtap-12.tmp",
        ] {
            assert_eq!(temp_pid(other), None);
        }
    }

    #[test]
    fn replace_file_swaps_over_a_trace_and_renames_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let (tmp, path) = (dir.path().join(".t.tmp"), dir.path().join("t"));
        std::fs::write(&tmp, b"first").unwrap();
        replace_file(&tmp, &path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        assert!(!tmp.exists());
        std::fs::write(&tmp, b"second").unwrap();
        replace_file(&tmp, &path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert!(!tmp.exists(), "the old trace is gone");
        // A directory is never swapped in or out.
        let d = dir.path().join("d");
        std::fs::create_dir(&d).unwrap();
        std::fs::write(&tmp, b"third").unwrap();
        assert!(replace_file(&tmp, &d).is_err());
        assert!(d.is_dir());
        assert_eq!(std::fs::read(&tmp).unwrap(), b"third");
    }

    #[test]
    fn nothing_recorded_leaves_the_path_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old");
        std::fs::write(&old, b"old trace").unwrap();
        let new = dir.path().join("new");
        for path in [&old, &new] {
            let (trace, file) = TraceFile::create(path).unwrap();
            std::io::Write::write_all(&mut &file, b"START STOP").unwrap();
            trace.commit(false).unwrap();
        }
        assert_eq!(std::fs::read(&old).unwrap(), b"old trace");
        assert!(!new.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn directories_dangling_links_and_read_only_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        let to_dir = dir.path().join("to-dir");
        std::os::unix::fs::symlink(&sub, &to_dir).unwrap();
        let read_only = dir.path().join("ro");
        std::fs::write(&read_only, b"old").unwrap();
        std::fs::set_permissions(&read_only, Permissions::from_mode(0o400)).unwrap();
        let ro_link = dir.path().join("ro-link");
        std::os::unix::fs::symlink(&read_only, &ro_link).unwrap();
        for (path, why) in [
            (&sub, "is a directory"),
            (&dangling, "is a dangling symbolic link"),
            (&to_dir, "is a symbolic link to a directory"),
            (&read_only, "file is read-only"),
            (&ro_link, "file is read-only"),
        ] {
            let e = TraceFile::create(path).unwrap_err();
            assert_eq!(e.to_string(), why, "{}", path.display());
        }
        assert!(!dir.path().join("nowhere").exists());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            5,
            "no temporary file"
        );
    }

    #[test]
    fn stale_leftovers_name_dead_processes_only_and_escape() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t");
        // PIDs above the kernel's maximum (2^22) never run.
        std::fs::write(dir.path().join(temp_name(99_999_999, 1)), b"").unwrap();
        std::fs::write(dir.path().join(".qtap-99999998-\x1b[2J.tmp"), b"").unwrap();
        let live = Temp::create(dir.path()).unwrap();
        std::fs::write(dir.path().join(".t.dnstap.tmp"), b"").unwrap();
        let mut warnings = stale_leftovers(&target);
        warnings.sort();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].ends_with(".qtap-99999998-\\027[2J.tmp"),
            "{warnings:?}"
        );
        assert!(warnings[1].ends_with(&temp_name(99_999_999, 1)));
        drop(live);
    }
}
