//! `run(n)`: compiles a handful of regexes (Unicode classes, alternations, captures) and
//! matches them over a generated text `n` times; returns a checksum of the matches.
//! A module of realistic size (the `regex` crate with its full Unicode tables) for
//! measuring `Module::new`.

use regex::Regex;

const PATTERNS: &[&str] = &[
    r"\p{Lu}\p{Ll}+",
    r"\b\w+@\w+\.(?:com|org|net|de)\b",
    r"(?i)\b(?:alpha|beta|gamma|delta|epsilon|zeta|eta|theta)\b",
    r"(\d{4})-(\d{2})-(\d{2})",
    r"\p{Greek}+|\p{Cyrillic}+|\p{Han}+",
    r"[\p{L}\p{N}_]+\s*=\s*\d+(?:\.\d+)?",
];

const WORDS: &[&str] = &[
    "Alpha", "beta", "Γάμμα", "дельта", "漢字", "mail@example.org", "x_1 = 3.25", "2026-12-07",
    "Theta", "zeta", "quux", "Ёлка", "someone@host.net", "y = 42", "1999-01-31", "epsilon",
];

/// The text: `words` pseudo-random words from [`WORDS`], separated by spaces and newlines.
fn text(words: usize) -> String {
    let mut s = String::new();
    let mut x: u32 = 0x9e37_79b9;
    for i in 0..words {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        s.push_str(WORDS[(x % WORDS.len() as u32) as usize]);
        s.push(if i % 12 == 11 { '\n' } else { ' ' });
    }
    s
}

#[unsafe(no_mangle)]
pub extern "C" fn run(n: u32) -> u64 {
    let regexes: Vec<Regex> = PATTERNS.iter().map(|p| Regex::new(p).expect("pattern")).collect();
    let text = text(2_000);
    let mut sum: u64 = 0;
    for round in 0..n {
        for (i, re) in regexes.iter().enumerate() {
            for m in re.find_iter(&text) {
                sum = sum.wrapping_mul(31).wrapping_add((m.start() ^ m.len() ^ i) as u64);
            }
        }
        if let Some(c) = regexes[3].captures(&text[(round as usize * 7) % 100..]) {
            sum = sum.wrapping_add(c[1].parse::<u64>().unwrap_or(0));
        }
    }
    sum
}
