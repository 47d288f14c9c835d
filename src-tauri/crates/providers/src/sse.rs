//! A Server-Sent Events parser that takes bytes in whatever pieces the network delivers them — an event split
//! across packets, several events in one packet, a multi-byte UTF-8 character split in two, CRLF or LF.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; "message" when absent.
    pub event: String,
    /// The `data:` lines joined with '\n'.
    pub data: String,
}

#[derive(Debug, Default)]
pub struct SseParser {
    buf: Vec<u8>,
    event: Option<String>,
    data: Vec<String>,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes; returns the events completed by them.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = self.buf.drain(..=nl).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let line = String::from_utf8_lossy(&line).into_owned();
            if line.is_empty() {
                if !self.data.is_empty() || self.event.is_some() {
                    out.push(SseEvent {
                        event: self.event.take().unwrap_or_else(|| "message".into()),
                        data: std::mem::take(&mut self.data).join("\n"),
                    });
                }
                continue;
            }
            if line.starts_with(':') {
                continue; // a comment / keep-alive
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line.as_str(), ""),
            };
            match field {
                "event" => self.event = Some(value.to_owned()),
                "data" => self.data.push(value.to_owned()),
                _ => {} // id, retry: not needed for chat streams
            }
        }
        out
    }

    /// Whether bytes of an unfinished event are pending (a stream that ends here was cut short).
    pub fn has_partial(&self) -> bool {
        !self.buf.is_empty() || !self.data.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_at_every_byte_parse_the_same() {
        let wire = "event: message_start\r\ndata: {\"a\": \"é\"}\r\n\r\n: ping\n\ndata: one\ndata: two\n\n";
        let whole = SseParser::new().push(wire.as_bytes());
        assert_eq!(whole.len(), 2);
        assert_eq!(whole[0], SseEvent { event: "message_start".into(), data: "{\"a\": \"é\"}".into() });
        assert_eq!(whole[1], SseEvent { event: "message".into(), data: "one\ntwo".into() });
        let mut p = SseParser::new();
        let mut split = Vec::new();
        for b in wire.as_bytes() {
            split.extend(p.push(std::slice::from_ref(b)));
        }
        assert_eq!(split, whole);
        assert!(!p.has_partial());
    }

    #[test]
    fn a_truncated_event_is_pending() {
        let mut p = SseParser::new();
        assert!(p.push(b"data: {\"x\":").is_empty());
        assert!(p.has_partial());
    }
}
