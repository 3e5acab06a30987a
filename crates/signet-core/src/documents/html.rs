//! HTML to text, simply: scripts, styles, templates and comments are dropped, block elements
//! become paragraph breaks, other tags vanish, entities are decoded, and the `<title>` is
//! returned on its own. Enough for chunking a page's prose; not a renderer.

/// Elements whose content is never text.
const SKIPPED: &[&str] = &["script", "style", "noscript", "template", "svg", "head"];

/// Elements that start or end a paragraph.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "td",
    "th",
    "tr",
    "ul",
];

/// Whether a body looks like HTML (by its declared type, else by its first tag).
pub fn is_html(content_type: Option<&str>, body: &str) -> bool {
    if let Some(t) = content_type {
        return t.to_ascii_lowercase().contains("html");
    }
    let head: String = body.trim_start().chars().take(15).collect();
    let head = head.to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

/// The text of `html` (paragraphs separated by blank lines) and its `<title>`, if any.
pub fn to_text(html: &str) -> (String, Option<String>) {
    let lower = html.to_ascii_lowercase();
    let title = element_text(html, &lower, "title");
    let mut out = String::with_capacity(html.len() / 2);
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        out.push_str(&decode(&html[i..i + off]));
        let at = i + off;
        if lower[at..].starts_with("<!--") {
            i = lower[at..].find("-->").map_or(html.len(), |e| at + e + 3);
            continue;
        }
        let Some(end) = html[at..].find('>').map(|e| at + e + 1) else {
            i = html.len();
            break;
        };
        let name = tag_name(&lower[at..end]);
        let closing = lower[at..].starts_with("</");
        if !closing && SKIPPED.contains(&name) {
            let close = format!("</{name}");
            i = lower[end..]
                .find(&close)
                .and_then(|c| lower[end + c..].find('>').map(|g| end + c + g + 1))
                .unwrap_or(html.len());
            continue;
        }
        if BLOCKS.contains(&name) {
            out.push_str("\n\n");
        }
        i = end;
    }
    if i < html.len() {
        out.push_str(&decode(&html[i..]));
    }
    let text = super::chunk::paragraphs(&out).join("\n\n");
    (text, title)
}

/// The lowercase name of the tag `<...>` (without `/`, `!` or attributes).
fn tag_name(tag: &str) -> &str {
    let inner = tag.trim_start_matches('<').trim_start_matches(['/', '!']);
    let end = inner
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(inner.len());
    &inner[..end]
}

/// The decoded, collapsed text of the first `<name>` element.
fn element_text(html: &str, lower: &str, name: &str) -> Option<String> {
    let open = lower.find(&format!("<{name}"))?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find(&format!("</{name}"))?;
    let text = decode(&html[start..end]);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty()).then_some(text)
}

/// Decodes the common named entities and every numeric one; others stay as written.
fn decode(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let entity = rest[1..]
            .find(';')
            .filter(|&e| e <= 10)
            .map(|e| &rest[1..=e]);
        match entity.and_then(entity_char) {
            Some(c) => {
                out.push(c);
                rest = &rest[entity.map_or(1, |e| e.len() + 2)..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity_char(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "mdash" => '—',
        "ndash" => '–',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "copy" => '©',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_scripts_and_comments_go_and_blocks_become_paragraphs() {
        let html = "<!DOCTYPE html><html><head><title>The  Page</title>\
            <style>p { color: red }</style></head><body><h1>Heading</h1>\
            <p>First <b>bold</b> para&amp;graph.</p><!-- hidden --><script>alert('x')</script>\
            <div>Second&nbsp;one &#39;quoted&#x27; &unknown;</div></body></html>";
        let (text, title) = to_text(html);
        assert_eq!(title.as_deref(), Some("The Page"));
        assert_eq!(
            text,
            "Heading\n\nFirst bold para&graph.\n\nSecond one 'quoted' &unknown;"
        );
    }

    #[test]
    fn html_is_recognised_by_type_or_doctype() {
        assert!(is_html(Some("text/html; charset=utf-8"), ""));
        assert!(!is_html(Some("text/plain"), "<html>"));
        assert!(is_html(None, "  <!doctype html><p>x"));
        assert!(!is_html(None, "plain words"));
    }
}
