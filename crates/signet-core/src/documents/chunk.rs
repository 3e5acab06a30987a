//! The document chunker: paragraphs first, then sentences, then words — never inside a word
//! (only a single word longer than a chunk is cut). Chunks hold at most `size` characters;
//! a full chunk ends at its last paragraph break when that keeps it at least half full, else
//! after its last sentence. Each chunk after the first starts with whole words from the end of
//! the one before, up to `overlap` characters (at most half a chunk).

use crate::text::{split_sentences, split_words};

/// A piece the packer never splits: a paragraph, a sentence of a long paragraph, or a run of
/// words of a long sentence.
struct Unit {
    text: String,
    chars: usize,
    /// The last piece of its paragraph (a paragraph break follows it).
    ends_paragraph: bool,
}

/// Cuts `text` into chunks of at most `size` characters (see the module documentation).
pub fn chunk(text: &str, size: usize, overlap: usize) -> Vec<String> {
    let size = size.max(1);
    let mut packer = Packer {
        size,
        overlap: overlap.min(size / 2),
        chunks: Vec::new(),
        lead: String::new(),
        units: Vec::new(),
        len: 0,
    };
    for unit in units(text, size) {
        packer.push(unit);
    }
    packer.finish()
}

/// The paragraphs of `text` (separated by blank lines, inner whitespace collapsed), each cut
/// into units of at most `size` characters.
fn units(text: &str, size: usize) -> Vec<Unit> {
    let mut out = Vec::new();
    for paragraph in paragraphs(text) {
        let start = out.len();
        if paragraph.chars().count() <= size {
            out.push(unit(paragraph));
        } else {
            for sentence in split_sentences(&paragraph) {
                match sentence.chars().count() <= size {
                    true => out.push(unit(sentence.to_owned())),
                    false => out.extend(split_words(sentence, size).into_iter().map(unit)),
                }
            }
        }
        if let Some(last) = out.get_mut(start..).and_then(|u| u.last_mut()) {
            last.ends_paragraph = true;
        }
    }
    out
}

fn unit(text: String) -> Unit {
    Unit {
        chars: text.chars().count(),
        text,
        ends_paragraph: false,
    }
}

/// Blank-line separated paragraphs, whitespace collapsed, empty ones dropped.
pub(crate) fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines().chain(std::iter::once("")) {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(current.join(" "));
                current.clear();
            }
            continue;
        }
        current.extend(line.split_whitespace());
    }
    out
}

struct Packer {
    size: usize,
    overlap: usize,
    chunks: Vec<String>,
    /// The overlap carried from the previous chunk.
    lead: String,
    units: Vec<Unit>,
    /// Characters of `lead` + `units` as rendered.
    len: usize,
}

impl Packer {
    fn push(&mut self, u: Unit) {
        loop {
            if self.units.is_empty() {
                let room = self.size.saturating_sub(u.chars + 1);
                if self.lead.chars().count() > room {
                    self.lead = tail_words(&self.lead, room);
                }
                self.len = lead_len(&self.lead) + u.chars;
                self.units.push(u);
                return;
            }
            let sep = separator(self.units.last());
            if self.len + sep.len() + u.chars <= self.size {
                self.len += sep.len() + u.chars;
                self.units.push(u);
                return;
            }
            self.flush_once();
        }
    }

    /// Emits one chunk: up to the last paragraph break that keeps it half full, else all.
    fn flush_once(&mut self) {
        let mut cut = self.units.len() - 1;
        let mut len = lead_len(&self.lead);
        for (i, u) in self.units.iter().enumerate() {
            if i > 0 {
                len += separator(self.units.get(i - 1)).len();
            }
            len += u.chars;
            if u.ends_paragraph && len * 2 >= self.size && i < self.units.len() - 1 {
                cut = i;
            }
        }
        let emitted: Vec<Unit> = self.units.drain(..=cut).collect();
        let text = render(&self.lead, &emitted);
        self.lead = tail_words(&text, self.overlap);
        self.chunks.push(text);
        let rest = std::mem::take(&mut self.units);
        self.len = self.lead.chars().count();
        for u in rest {
            self.push(u);
        }
    }

    fn finish(mut self) -> Vec<String> {
        if !self.units.is_empty() {
            let units = std::mem::take(&mut self.units);
            self.chunks.push(render(&self.lead, &units));
        }
        self.chunks
    }
}

/// What goes between a unit and the next: a paragraph break or a space.
fn separator(prev: Option<&Unit>) -> &'static str {
    match prev.is_some_and(|u| u.ends_paragraph) {
        true => "\n\n",
        false => " ",
    }
}

/// Characters of the lead and the space after it (none without a lead).
fn lead_len(lead: &str) -> usize {
    match lead.chars().count() {
        0 => 0,
        n => n + 1,
    }
}

fn render(lead: &str, units: &[Unit]) -> String {
    let mut out = lead.to_owned();
    for (i, u) in units.iter().enumerate() {
        if i == 0 {
            if !out.is_empty() {
                out.push(' ');
            }
        } else {
            out.push_str(separator(units.get(i - 1)));
        }
        out.push_str(&u.text);
    }
    out
}

/// The last whole words of `text` that fit in `max` characters (joined by spaces).
fn tail_words(text: &str, max: usize) -> String {
    let mut words: Vec<&str> = Vec::new();
    let mut len = 0;
    for w in text.split_whitespace().rev() {
        let n = w.chars().count() + usize::from(!words.is_empty());
        if len + n > max {
            break;
        }
        len += n;
        words.push(w);
    }
    words.reverse();
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<&str> {
        s.split_whitespace().collect()
    }

    /// Sentences of numbered words, so every word is distinct.
    fn prose(sentences: usize, per: usize, tag: &str) -> String {
        (0..sentences)
            .map(|s| {
                let w: Vec<String> = (0..per).map(|i| format!("{tag}{s}w{i}")).collect();
                format!("{}.", w.join(" "))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn short_text_is_one_chunk() {
        assert_eq!(
            chunk("Hello there.\n\nSecond.", 2000, 200),
            ["Hello there.\n\nSecond."]
        );
        assert!(chunk("  \n\n ", 2000, 200).is_empty());
    }

    #[test]
    fn chunks_never_cut_a_word_and_stay_within_the_size() {
        let text = prose(60, 9, "x");
        let all = words(&text);
        for c in chunk(&text, 200, 40) {
            assert!(c.chars().count() <= 200, "{} chars: {c}", c.chars().count());
            for w in words(&c) {
                assert!(all.contains(&w), "{w} is not a whole word of the text");
            }
        }
    }

    #[test]
    fn without_overlap_the_chunks_are_the_text_in_order() {
        let text = prose(40, 7, "y");
        let chunks = chunk(&text, 250, 0);
        assert!(chunks.len() > 3);
        let joined: Vec<&str> = chunks.iter().flat_map(|c| words(c)).collect();
        assert_eq!(joined, words(&text));
        for c in &chunks[..chunks.len() - 1] {
            assert!(c.ends_with('.'), "cut at a sentence end: {c}");
        }
    }

    #[test]
    fn each_chunk_starts_with_the_end_of_the_previous_one() {
        let text = prose(40, 7, "z");
        let chunks = chunk(&text, 250, 60);
        for pair in chunks.windows(2) {
            let next = words(&pair[1]);
            let prev = words(&pair[0]);
            let lead = (1..=next.len())
                .rev()
                .find(|&n| prev.ends_with(&next[..n]))
                .unwrap_or(0);
            assert!(
                lead > 0,
                "no overlap between {:?} and {:?}",
                pair[0],
                pair[1]
            );
            let overlap: usize = next[..lead].iter().map(|w| w.len() + 1).sum::<usize>() - 1;
            assert!(overlap <= 60, "overlap of {overlap} chars");
        }
    }

    #[test]
    fn paragraph_breaks_are_preferred_to_sentence_ends() {
        let a = prose(3, 10, "a");
        let b = prose(3, 10, "b");
        let c = prose(3, 10, "c");
        // Greedy packing would put two of b's sentences after a; the break after a wins.
        let text = format!("{a}\n\n{b}\n{c}");
        let size = 2 * a.len() - 10;
        let chunks = chunk(&text, size, 0);
        assert_eq!(chunks[0], a, "the first paragraph alone");
        assert!(chunks[1].starts_with("b0w0"));
    }

    #[test]
    fn a_word_longer_than_a_chunk_is_the_only_cut_inside_a_word() {
        let long = "q".repeat(450);
        let chunks = chunk(&format!("short words here {long} and more"), 200, 0);
        assert!(chunks.iter().all(|c| c.chars().count() <= 200));
        let joined: String = chunks.concat();
        assert!(joined.contains(&"q".repeat(200)));
        assert_eq!(chunks[0], "short words here");
    }

    #[test]
    fn overlap_is_at_most_half_a_chunk() {
        let text = prose(30, 8, "h");
        for c in chunk(&text, 200, 5_000) {
            assert!(c.chars().count() <= 200);
        }
    }
}
