//! An input's bytes and text as the command line holds them: read into memory, or, for stdin
//! redirected from a large regular file (`pss-fix fix - < stream.yaml`), mapped read-only
//! from the page cache.
//!
//! Reading 35 MB into fresh memory costs a copy and a page fault per 4 KiB, all on one
//! thread before any worker starts: measured at about a sixth of `check -`'s wall time on
//! two cores. A map costs neither. It is only made for stdin, never for a file `fix` may
//! write back: a file changed under a map changes the text being fixed, and the write's
//! check that the file is still as read would compare against the changed text. Like
//! ripgrep's maps, it assumes nobody truncates the file while pss-fix reads it (the process
//! would be stopped by SIGBUS); the README says so.

use std::ops::Deref;

use pss_fix::Error;

/// From this size on, stdin redirected from a regular file is mapped rather than read: a
/// map costs a few system calls, a read of 256 KiB about as much in copying and faults.
const MAP_FROM: usize = 256 * 1024;

/// An input's bytes, not yet known to be text.
pub(super) enum Bytes {
    Read(Vec<u8>),
    Mapped(memmap2::Mmap),
}

/// An input's text: only [`Bytes::decode`] makes one, so a mapped one is valid UTF-8.
pub(super) enum Text {
    Owned(String),
    Mapped(memmap2::Mmap),
}

impl Bytes {
    /// `len` bytes of `file` from `offset` on, mapped, when that many are worth a map; `None`
    /// to read them instead (a map the system refuses too).
    pub(super) fn map(file: &std::fs::File, offset: u64, len: usize) -> Option<Bytes> {
        if len < MAP_FROM {
            return None;
        }
        // SAFETY: memmap2 marks maps unsafe because another process may change or truncate
        // the file while it is mapped. The map is private and read-only, of stdin only (see
        // the module's docs); a truncation would stop pss-fix with SIGBUS, as it would
        // ripgrep, never lead it to write anything.
        let map = unsafe {
            memmap2::MmapOptions::new()
                .offset(offset)
                .len(len)
                .populate()
                .map(file)
        };
        map.ok().map(Bytes::Mapped)
    }

    /// The text of input `name`, or why these bytes are not text pss-fix edits.
    pub(super) fn decode(self, name: &str) -> Result<Text, Error> {
        match self {
            Bytes::Read(bytes) => pss_fix::decode(bytes)
                .map(Text::Owned)
                .map_err(|e| e.in_file(name)),
            Bytes::Mapped(map) => {
                // Checked on every core (one thread checking 35 MB takes about 10 ms before
                // any work starts); checked again on one to say where, when it is not text.
                if !is_text(&map) {
                    pss_fix::yaml::source::decode_slice(&map).map_err(|e| e.in_file(name))?;
                }
                Ok(Text::Mapped(map))
            }
        }
    }

    pub(super) fn into_vec(self) -> Vec<u8> {
        match self {
            Bytes::Read(bytes) => bytes,
            Bytes::Mapped(map) => map.to_vec(),
        }
    }
}

/// Whether `bytes` is text [`pss_fix::decode`] accepts, checked in pieces on every core.
fn is_text(bytes: &[u8]) -> bool {
    const PIECE: usize = 1 << 20;
    // Each piece meets the refusals of a whole text (a later piece starts with an ASCII
    // byte, so only the first can look like UTF-16).
    let piece_ok =
        |r: std::ops::Range<usize>| pss_fix::yaml::source::decode_slice(&bytes[r]).is_ok();
    // A text of one piece is checked without asking for the core count.
    if bytes.len() <= PIECE {
        return piece_ok(0..bytes.len());
    }
    let piece = bytes.len().div_ceil(pss_fix::cores()).max(PIECE);
    // Pieces end before a byte that starts a character (an ASCII one), so that each piece is
    // UTF-8 exactly when the whole is.
    let mut cuts = vec![0];
    while let Some(&last) = cuts.last().filter(|&&c| c < bytes.len()) {
        let want = (last + piece).min(bytes.len());
        let cut = bytes[want..]
            .iter()
            .position(u8::is_ascii)
            .map_or(bytes.len(), |k| want + k);
        cuts.push(cut);
    }
    if let [from, to] = cuts[..] {
        return piece_ok(from..to);
    }
    std::thread::scope(|scope| {
        let checks: Vec<_> = cuts
            .windows(2)
            .map(|w| scope.spawn(move || piece_ok(w[0]..w[1])))
            .collect();
        checks.into_iter().all(|c| c.join().unwrap_or(false))
    })
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Text::Owned(s) => s,
            // SAFETY: a mapped text was checked as UTF-8 when made (`Bytes::decode`), and its
            // map is read-only.
            Text::Mapped(map) => unsafe { std::str::from_utf8_unchecked(map) },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Checked in pieces, a text is accepted or refused as a whole check would: wide
    /// characters across the places where pieces could end, a bad byte or a NUL anywhere.
    #[test]
    fn text_is_checked_in_pieces_as_a_whole() {
        let text = "a: é😀ü\n".repeat(1 << 19);
        assert!(is_text(text.as_bytes()));
        for at in [0, 1, 1 << 20, (1 << 20) + 1, text.len() / 2, text.len() - 1] {
            for bad in [0xFF, 0x00, 0x80] {
                let mut bytes = text.clone().into_bytes();
                bytes[at] = bad;
                let whole = pss_fix::yaml::source::decode_slice(&bytes).is_ok();
                assert_eq!(is_text(&bytes), whole, "{bad:#x} at {at}");
            }
        }
        assert!(!is_text(&[0xFF, 0xFE, b'a', 0]));
    }

    /// A mapped file gives the text a read gives, from any offset; bytes that are not UTF-8
    /// are refused the same way.
    #[test]
    fn a_mapped_file_reads_as_its_text() {
        let text = "kind: ConfigMap\n# é\n".repeat(MAP_FROM / 10);
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        for offset in [0, 5] {
            let bytes = Bytes::map(&file, offset as u64, text.len() - offset).unwrap();
            assert!(matches!(bytes, Bytes::Mapped(_)));
            assert_eq!(&*bytes.decode("f").unwrap(), &text[offset..]);
        }
        assert!(Bytes::map(&file, 0, MAP_FROM - 1).is_none(), "small: read");
        let mut bad = tempfile::tempfile().unwrap();
        let mut bytes = text.clone().into_bytes();
        bytes[MAP_FROM] = 0xFF;
        bad.write_all(&bytes).unwrap();
        let mapped = Bytes::map(&bad, 0, bytes.len())
            .unwrap()
            .decode("f")
            .err()
            .unwrap();
        let read = Bytes::Read(bytes).decode("f").err().unwrap();
        assert_eq!((mapped.pos, mapped.message), (read.pos, read.message));
    }
}
