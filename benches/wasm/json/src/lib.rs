//! `run(n)`: builds a document of nested structs, serializes it with `serde_json` (compact
//! and pretty), parses it back into the typed structs and into a `Value`, `n` times;
//! returns a checksum. A module of realistic size for measuring `Module::new`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
enum Status {
    Active,
    Suspended { since: u32, reason: String },
    Closed(u32),
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Address {
    street: String,
    city: String,
    zip: Option<String>,
    geo: (f64, f64),
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Order {
    id: u64,
    items: Vec<Item>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Item {
    sku: String,
    qty: u16,
    price_cents: i64,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Customer {
    customer_id: u32,
    full_name: String,
    email: String,
    tags: Vec<String>,
    address: Address,
    orders: Vec<Order>,
    status: Status,
    attributes: BTreeMap<String, i32>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    Login { user: u32, ip: [u8; 4], agent: Option<String> },
    Logout { user: u32, after_secs: u64 },
    Purchase { order: u64, total_cents: i64, currency: Currency },
    Refund { order: u64, lines: Vec<(String, i64)> },
    Message(MessageBody),
    Heartbeat,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(rename_all = "UPPERCASE")]
enum Currency {
    Eur,
    Usd,
    Jpy,
    Pen,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct MessageBody {
    from: String,
    to: Vec<String>,
    subject: String,
    body: String,
    #[serde(default)]
    flags: Flags,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(default, deny_unknown_fields)]
struct Flags {
    read: bool,
    starred: bool,
    spam_score: f32,
    labels: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "kebab-case")]
struct Settings {
    max_connections: u16,
    timeout_ms: u32,
    retry_backoff: Vec<f64>,
    feature_flags: BTreeMap<String, bool>,
    log_level: LogLevel,
    #[serde(rename = "upstream")]
    upstreams: Vec<Upstream>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Upstream {
    host: String,
    port: u16,
    weight: Option<u8>,
    tls: Option<Tls>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Tls {
    sni: String,
    verify: bool,
    alpn: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Document {
    version: u8,
    customers: Vec<Customer>,
    events: Vec<Event>,
    settings: Settings,
}

fn events(count: u32) -> Vec<Event> {
    (0..count)
        .map(|i| match i % 6 {
            0 => Event::Login { user: i, ip: [10, 0, (i >> 8) as u8, i as u8], agent: (i % 4 == 0).then(|| "curl/8".into()) },
            1 => Event::Logout { user: i, after_secs: u64::from(i) * 37 },
            2 => Event::Purchase {
                order: u64::from(i) << 3,
                total_cents: i64::from(i) * 199 - 50,
                currency: [Currency::Eur, Currency::Usd, Currency::Jpy, Currency::Pen][(i % 4) as usize],
            },
            3 => Event::Refund { order: u64::from(i), lines: (0..i % 3).map(|k| (format!("line {k}"), -i64::from(k))).collect() },
            4 => Event::Message(MessageBody {
                from: format!("u{i}@example.org"),
                to: vec!["a@example.org".into(), "b@example.net".into()],
                subject: format!("Re: #{i} \u{2713}"),
                body: "Hello,\n\tsee the \"attached\" file.\u{1F600}".into(),
                flags: Flags { read: i % 2 == 0, starred: false, spam_score: i as f32 / 64.0, labels: vec!["inbox".into()] },
            }),
            _ => Event::Heartbeat,
        })
        .collect()
}

fn settings() -> Settings {
    Settings {
        max_connections: 512,
        timeout_ms: 30_000,
        retry_backoff: vec![0.1, 0.25, 1.5, 4.0],
        feature_flags: [("fast_path", true), ("beta_ui", false), ("lazy", true)].into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        log_level: LogLevel::Info,
        upstreams: (0..4)
            .map(|i| Upstream {
                host: format!("backend-{i}.internal"),
                port: 8000 + i,
                weight: (i != 2).then_some(i as u8 * 10),
                tls: (i % 2 == 1).then(|| Tls { sni: format!("b{i}.example"), verify: true, alpn: vec!["h2".into(), "http/1.1".into()] }),
            })
            .collect(),
    }
}

fn document(records: u32) -> Document {
    let mut x: u32 = 12345;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let customers = (0..records)
        .map(|i| {
            let r = next();
            Customer {
                customer_id: i,
                full_name: format!("Customer Nr. {i} \u{00e9}\u{4e2d}"),
                email: format!("c{i}@example.org"),
                tags: (0..r % 4).map(|t| format!("tag{t}")).collect(),
                address: Address {
                    street: format!("{} Main St.", r % 1000),
                    city: ["Berlin", "Paris", "Tokyo", "Lima"][(r % 4) as usize].to_string(),
                    zip: (r % 3 != 0).then(|| format!("{:05}", r % 100_000)),
                    geo: (f64::from(r % 180) - 90.0 + 0.125, f64::from(r % 360) - 180.0 + 0.5),
                },
                orders: (0..r % 3)
                    .map(|o| Order {
                        id: u64::from(i) * 10 + u64::from(o),
                        items: (0..1 + next() % 3)
                            .map(|k| Item { sku: format!("SKU-{k}-{o}"), qty: (k + 1) as u16, price_cents: i64::from(next() % 10_000) - 100 })
                            .collect(),
                        note: (o == 1).then(|| "leave at \"door\"\n".to_string()),
                    })
                    .collect(),
                status: match r % 3 {
                    0 => Status::Active,
                    1 => Status::Suspended { since: r % 2030, reason: "unpaid".into() },
                    _ => Status::Closed(r % 100),
                },
                attributes: (0..r % 5).map(|a| (format!("k{a}"), a as i32 - 2)).collect(),
            }
        })
        .collect();
    Document { version: 2, customers, events: events(60), settings: settings() }
}

fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

#[unsafe(no_mangle)]
pub extern "C" fn run(n: u32) -> u64 {
    let doc = document(50);
    let mut sum = 0u64;
    for _ in 0..n {
        let compact = serde_json::to_string(&doc).expect("serialize");
        let pretty = serde_json::to_vec_pretty(&doc).expect("serialize");
        let back: Document = serde_json::from_str(&compact).expect("deserialize");
        assert!(back == doc);
        let value: serde_json::Value = serde_json::from_slice(&pretty).expect("parse");
        let n_customers = value["customers"].as_array().map_or(0, Vec::len) as u64;
        let again: Document = serde_json::from_value(value).expect("from_value");
        assert!(again.settings == doc.settings && again.events.len() == doc.events.len());
        let settings_only: Settings = serde_json::from_str(&serde_json::to_string(&doc.settings).expect("ser")).expect("de");
        sum = sum.wrapping_add(u64::from(settings_only.timeout_ms));
        sum = sum.wrapping_add(checksum(compact.as_bytes()) ^ n_customers).wrapping_add(pretty.len() as u64);
    }
    sum
}
