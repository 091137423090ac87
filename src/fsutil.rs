//! Reading files with a size cap: a leaf every layer may use (it imports
//! nothing of qtap), so a huge file or `/dev/zero` is refused at once
//! instead of filling memory.

/// Reads a whole file, refusing one larger than `max` bytes (so
/// `/dev/zero` or a huge file fails at once instead of filling memory).
pub fn read_bounded(path: &std::path::Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut data = Vec::new();
    file.take(max + 1).read_to_end(&mut data)?;
    if data.len() as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {} MiB", max >> 20),
        ));
    }
    Ok(data)
}
