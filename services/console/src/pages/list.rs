//! What every list shares: its filters kept in the address, and a pager.

/// A value of a select and what the person reads for it.
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
}

pub const fn choice(value: &'static str, label: &'static str) -> Choice {
    Choice { value, label }
}

/// `a=1&b=x` of the non-empty parameters, each percent-encoded.
pub fn query_string(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .filter(|(_, value)| !value.trim().is_empty())
        .map(|(name, value)| format!("{name}={}", encode(value.trim())))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Where a list is, and the addresses of its neighbouring pages (filters kept).
pub struct Pager {
    pub page: u64,
    pub pages: u64,
    pub total: u64,
    pub first_shown: u64,
    pub last_shown: u64,
    pub previous: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    pub fn new(path: &str, params: &[(&str, &str)], page: u64, per_page: u64, total: u64) -> Self {
        let pages = total.div_ceil(per_page).max(1);
        let query = query_string(params);
        let address = |page: u64| {
            if query.is_empty() {
                format!("{path}?page={page}")
            } else {
                format!("{path}?{query}&page={page}")
            }
        };
        let first_shown = if total == 0 {
            0
        } else {
            (page - 1) * per_page + 1
        };
        Self {
            page,
            pages,
            total,
            first_shown,
            last_shown: (page * per_page).min(total),
            previous: (page > 1).then(|| address(page - 1)),
            next: (page < pages).then(|| address(page + 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_keeps_only_what_was_given_and_encodes_it() {
        assert_eq!(
            query_string(&[
                ("a", ""),
                ("institution", "Szkoła nr 7&x"),
                ("sort", "newest")
            ]),
            "institution=Szko%C5%82a%20nr%207%26x&sort=newest"
        );
    }

    #[test]
    fn a_pager_links_its_neighbours_with_the_filters() {
        let pager = Pager::new("/kolejka", &[("status", "all")], 2, 25, 60);
        assert_eq!(pager.pages, 3);
        assert_eq!((pager.first_shown, pager.last_shown), (26, 50));
        assert_eq!(
            pager.previous.as_deref(),
            Some("/kolejka?status=all&page=1")
        );
        assert_eq!(pager.next.as_deref(), Some("/kolejka?status=all&page=3"));
        let empty = Pager::new("/kolejka", &[], 1, 25, 0);
        assert_eq!((empty.pages, empty.first_shown, empty.next), (1, 0, None));
    }
}
