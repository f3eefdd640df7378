//! Cutting a CSV file into chunks of whole records, and the quick path for
//! chunks that plain line splitting reads exactly.

/// The chunk as text when plain line splitting reads it exactly as a CSV
/// parser would: valid UTF-8, no quote, every carriage return before a
/// newline; and no NUL byte, so that ids need no check of their own.
pub(super) fn simple_text(bytes: &[u8]) -> Option<&str> {
    if memchr::memchr2(b'"', 0, bytes).is_some()
        || memchr::memchr_iter(b'\r', bytes).any(|i| bytes.get(i + 1) != Some(&b'\n'))
    {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// `str::trim`, quicker on ASCII edges: the Unicode check runs only when
/// an edge is not ASCII.
pub(super) fn trim(text: &str) -> &str {
    let trimmed = text.trim_ascii();
    match (trimmed.as_bytes().first(), trimmed.as_bytes().last()) {
        (Some(first), Some(last)) if !first.is_ascii() || !last.is_ascii() => trimmed.trim(),
        _ => trimmed,
    }
}

/// A run of whole records of the file.
pub(super) struct Chunk {
    pub(super) bytes: Vec<u8>,
    /// Line number of the first record.
    pub(super) first_line: u64,
    /// Byte offset in the file just after the chunk.
    pub(super) end: u64,
}

/// Where the last record of a file's final bytes starts, when that record
/// ends inside a quoted field: a newline appended to it would not end it.
pub(super) fn unclosed_quote_start(bytes: &[u8], delimiter: u8) -> Option<usize> {
    let start = last_record_end(bytes, delimiter).unwrap_or(0);
    let tail = &bytes[start..];
    memchr::memchr(b'"', tail)?;
    let mut closed = tail.to_vec();
    closed.push(b'\n');
    let mut reader = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    let (mut output, mut ends) = (vec![0; closed.len()], vec![0; closed.len() + 1]);
    let (result, ..) = reader.read_record(&closed, &mut output, &mut ends);
    (result != csv_core::ReadRecordResult::Record).then_some(start)
}

/// Where the last complete record of `bytes` ends, if one does. Without a
/// quote every newline ends a record; with quotes, a newline may sit inside
/// a quoted field, so the CSV state machine itself finds the boundary.
pub(super) fn last_record_end(bytes: &[u8], delimiter: u8) -> Option<usize> {
    if memchr::memchr(b'"', bytes).is_none() {
        return memchr::memrchr(b'\n', bytes).map(|i| i + 1);
    }
    let mut reader = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    let (mut output, mut ends) = (vec![0; bytes.len()], vec![0; 64]);
    let (mut position, mut last_end) = (0, None);
    loop {
        let (result, read, _, _) = reader.read_record(&bytes[position..], &mut output, &mut ends);
        position += read;
        match result {
            csv_core::ReadRecordResult::Record => {
                // A record ends at its `\r`; the `\n` of a CRLF goes with it.
                if bytes[..position].ends_with(b"\r") && bytes.get(position) == Some(&b'\n') {
                    position += 1;
                    reader.reset();
                }
                last_end = Some(position);
            }
            csv_core::ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
            csv_core::ReadRecordResult::OutputFull => output.resize(output.len() * 2, 0),
            csv_core::ReadRecordResult::InputEmpty | csv_core::ReadRecordResult::End => {
                return last_end
            }
        }
    }
}
