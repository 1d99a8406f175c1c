//! Uses std broadly: formatting, collections, env, fs inside a directory (argv[1]), time
//! and sleeping (poll_oneoff).
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = Path::new(args.first().map(String::as_str).unwrap_or("data"));

    // Formatting.
    println!("{:>8}|{:<8}|{:^8}|", "right", "left", "mid");
    println!("{:08.3} {:e} {:x} {:#b} {:?}", 3.14159f64, 1234.5f32, 255u32, 5u8, "quoted\n");
    println!("{}", f64::MAX);
    println!("{:?}", (1, "two", [3.0f32, 4.5], Some('5'), None::<u8>));

    // Collections.
    let mut words: HashMap<&str, usize> = HashMap::new();
    for w in "the quick brown fox jumps over the lazy dog the end".split_whitespace() {
        *words.entry(w).or_default() += 1;
    }
    let sorted: BTreeMap<_, _> = words.iter().map(|(k, v)| (*k, *v)).collect();
    println!("{sorted:?}");
    let set: HashSet<u32> = (0..100).map(|x| x * x % 17).collect();
    let mut set: Vec<_> = set.into_iter().collect();
    set.sort_unstable();
    println!("squares mod 17: {set:?}");
    let mut queue: VecDeque<u32> = (1..=5).collect();
    queue.rotate_left(2);
    queue.push_front(0);
    println!("{queue:?}");

    // Environment.
    println!("args: {:?}", &args[1..]);
    println!("TOUR_VAR={:?}", std::env::var("TOUR_VAR").ok());

    // Files inside the directory.
    let notes = dir.join("notes.txt");
    fs::write(&notes, "line one\nline two\n").expect("write notes");
    let mut file = fs::OpenOptions::new().append(true).open(&notes).expect("open for append");
    writeln!(file, "line three").expect("append");
    drop(file);
    let text = fs::read_to_string(&notes).expect("read notes");
    println!("notes has {} lines, {} bytes", text.lines().count(), fs::metadata(&notes).expect("stat").len());
    let mut file = fs::File::open(&notes).expect("open");
    file.seek(SeekFrom::Start(5)).expect("seek");
    let mut rest = String::new();
    file.read_to_string(&mut rest).expect("read rest");
    println!("from 5: {:?}", rest.lines().next());
    fs::create_dir(dir.join("made")).expect("mkdir");
    fs::rename(&notes, dir.join("made/notes.txt")).expect("rename");
    let mut names: Vec<String> = fs::read_dir(dir.join("made"))
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    println!("made/: {names:?}");
    println!("missing: {:?}", fs::read(dir.join("no-such-file")).map_err(|e| e.kind()));
    fs::remove_file(dir.join("made/notes.txt")).expect("remove file");
    fs::remove_dir(dir.join("made")).expect("remove dir");
    println!("cleaned up: {}", !dir.join("made").exists());

    // Time.
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after the epoch");
    println!("after 2020: {}", now.as_secs() > 1_577_836_800);
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(20));
    println!("slept at least 20ms: {}", start.elapsed() >= Duration::from_millis(20));
}
